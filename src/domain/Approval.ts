/**
 * Approvals (SPEC APR-1..3 with DECISIONS D-14): a stage with `approvalRequired` runs only once a
 * grant exists for its key. The policy decides who may grant; every decision is recorded in the
 * manifest's `approvals[]`. The decision rule is pure; asking someone is the Prompter service's job.
 */
import { Schema } from "effect"

/** Who may grant a stage's approval (APR-1, D-21): `never` refuses new grants, `on-request` asks a person, `auto` grants. */
export const ApprovalPolicy = Schema.Literal("never", "on-request", "auto")
export type ApprovalPolicy = typeof ApprovalPolicy.Type
/** The policy when none is given (APR-1): ask a person. */
export const defaultApprovalPolicy: ApprovalPolicy = "on-request"

/** Where a decision came from: a grant cached earlier, the `auto` policy, a person asked, or the policy refusing. */
export type ApprovalSource = "cache" | "auto" | "prompt" | "policy" | "unavailable"

/** Whether a stage requiring approval may run, where that decision came from and why; recorded in the manifest's `approvals[]`. */
export interface ApprovalDecision {
  readonly granted: boolean
  readonly source: ApprovalSource
  /** Why a stage may not run; a sentence the user can act on. */
  readonly reason: string
}

/** The key a grant is cached under: the stage's `approvalKey`, else `<pipeline>:<stage>`. */
export const approvalKeyOf = (pipelineId: string, stage: { readonly id: string; readonly approvalKey?: string | undefined }) =>
  stage.approvalKey ?? `${pipelineId}:${stage.id}`

/**
 * APR-2 order with D-14: a cached grant wins; `auto` grants; `never` refuses any new approval;
 * `on-request` asks (`ask` is only consulted then).
 */
export const decideWithoutAsking = (
  policy: ApprovalPolicy,
  cached: boolean
): ApprovalDecision | "ask" =>
  cached
    ? { granted: true, source: "cache", reason: "granted earlier in this process" }
    : policy === "auto"
    ? { granted: true, source: "auto", reason: "granted by the auto approval policy" }
    : policy === "never"
    ? {
      granted: false,
      source: "policy",
      reason: "approval required, but --approval-policy never forbids new approvals. " +
        "Run with --approval-policy on-request (and answer the prompt) or auto."
    }
    : "ask"

/** What the answer of a person (or the lack of one) means. */
export const decisionFromAnswer = (answer: "granted" | "denied" | "unavailable"): ApprovalDecision =>
  answer === "granted"
    ? { granted: true, source: "prompt", reason: "granted at the prompt" }
    : answer === "denied"
    ? { granted: false, source: "prompt", reason: "approval denied at the prompt" }
    : {
      granted: false,
      source: "unavailable",
      reason: "approval required, but nobody can be asked (no terminal on stdin and stderr). " +
        "Run it from a terminal, or use --approval-policy auto to grant approvals without asking."
    }
