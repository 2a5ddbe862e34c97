/**
 * The approval gate of the engine (DECISIONS D-14): the policy, the grant cache (one per process,
 * so nested runs and later stages reuse a grant) and the Prompter, with every decision appended to
 * the manifest's `approvals[]`.
 */
import { Clock, Effect, Ref } from "effect"
import {
  type ApprovalDecision,
  approvalKeyOf,
  ApprovalPolicy,
  decideWithoutAsking,
  decisionFromAnswer,
  defaultApprovalPolicy
} from "../../domain/Approval.js"
import type { FileAccessError } from "../../domain/FileErrors.js"
import type { CommandStage } from "../../domain/Pipeline.js"
import type { Prompter } from "../../services/Prompter.js"
import type { RunFiles } from "../../services/RunStore.js"

const isPolicy = (value: string | null): value is ApprovalPolicy =>
  value !== null && (ApprovalPolicy.literals as ReadonlyArray<string>).includes(value)

/**
 * One question at a time (B-2): stages running side by side that both need a person wait for each
 * other's answer, so two prompts never interleave on the terminal or race for stdin. Only stages that
 * ask wait; a stage decided by the policy or an earlier grant goes on at once, and a grant given
 * while a stage waited is used without asking again.
 */
export const makeApprovalGate = (prompter: Prompter["Type"]) =>
  Effect.map(Effect.all([Ref.make<ReadonlySet<string>>(new Set()), Effect.makeSemaphore(1)]), ([grants, asking]) =>
    (files: RunFiles, pipelineId: string, stage: CommandStage): Effect.Effect<ApprovalDecision, FileAccessError> =>
      Effect.gen(function*() {
        const manifest = yield* files.manifest
        const policy = isPolicy(manifest.approval_policy) ? manifest.approval_policy : defaultApprovalPolicy
        const key = approvalKeyOf(pipelineId, stage)
        const decide = Effect.flatMap(Ref.get(grants), (granted) => {
          const early = decideWithoutAsking(policy, granted.has(key))
          return early !== "ask"
            ? Effect.succeed(early)
            : Effect.map(prompter.ask({ key, stageId: stage.id, title: stage.title, command: stage.command }), decisionFromAnswer)
        })
        const first = decideWithoutAsking(policy, (yield* Ref.get(grants)).has(key))
        const decision = first !== "ask" ? first : yield* asking.withPermits(1)(decide)
        if (decision.granted) yield* Ref.update(grants, (all) => new Set([...all, key]))
        const timestamp = new Date(yield* Clock.currentTimeMillis).toISOString()
        yield* files.update((m) => ({
          ...m,
          approvals: [...m.approvals, {
            actor: decision.source === "prompt" ? "tty" : "codex-orchestrator",
            timestamp,
            reason: decision.reason,
            policy,
            source: decision.source,
            stage_id: stage.id,
            key,
            decision: decision.granted ? "granted" : "denied"
          }]
        }), { force: true })
        yield* decision.granted
          ? Effect.logInfo(`Stage ${stage.id} approved (${decision.source})`)
          : Effect.logWarning(`Stage ${stage.id} not approved: ${decision.reason}`)
        return decision
      }))
