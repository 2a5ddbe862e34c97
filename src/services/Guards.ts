import { Context, type Effect, Schema } from "effect"
import type { DiffBudgetReport } from "../domain/DiffBudget.js"
import type { DocsFinding } from "../domain/DocsCheck.js"
import type { FileAccessError, InvalidFile } from "../domain/FileErrors.js"
import type { SpecGuardReport } from "../domain/SpecGuard.js"
import type { GitUnavailable } from "./Git.js"

/** The repository root is not inside a git work tree. */
export class NotAGitRepository extends Schema.TaggedError<NotAGitRepository>()("NotAGitRepository", {
  path: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `${this.path} is not a git repository (${this.detail}); run this inside a repository or set CODEX_ORCHESTRATOR_ROOT to one.`
  }
}

/** A ref or commit the caller named explicitly does not resolve. */
export class UnknownRevision extends Schema.TaggedError<UnknownRevision>()("UnknownRevision", {
  option: Schema.String,
  revision: Schema.String
}) {
  override get message() {
    return `${this.option} ${this.revision} does not name a commit in this repository; pass a commit sha, a branch or a tag.`
  }
}

/** `guard docs --sync`: the task or its checklist cannot be found. */
export class DocsSyncError extends Schema.TaggedError<DocsSyncError>()("DocsSyncError", {
  reason: Schema.String
}) {
  override get message() {
    return this.reason
  }
}

export type GuardError = GitUnavailable | NotAGitRepository | UnknownRevision | FileAccessError | InvalidFile

/** Where the diff budget looks. `base` wins, then `envBase` (BASE_SHA, DIFF_BUDGET_BASE), then origin/main, then the root commit. */
export interface DiffBudgetRequest {
  /** Only this commit's own changes (`git show`), the working tree aside. */
  readonly commit?: string | undefined
  readonly base?: string | undefined
  readonly envBase?: ReadonlyArray<string | undefined> | undefined
  readonly maxFiles: number
  readonly maxLines: number
  readonly overrideReason?: string | undefined
}

/**
 * The review gate's checks on a repository (SPEC GRD-1, GRD-2, GRD-4), each returning its report;
 * whether a report fails the gate (and the exit code) is the caller's reading of it.
 */
export class Guards extends Context.Tag("orchestrator/Guards")<
  Guards,
  {
    /** GRD-1: changed code needs a changed spec; every spec file needs a fresh `last_review`. `baseSha`: BASE_SHA. */
    readonly spec: (request: { readonly baseSha?: string | undefined }) => Effect.Effect<SpecGuardReport, GuardError>
    /** GRD-2: files and lines changed, against the limits. */
    readonly diffBudget: (request: DiffBudgetRequest) => Effect.Effect<DiffBudgetReport, GuardError>
    /** GRD-4: scripts, pipelines and paths the agent-facing docs refer to that do not exist. */
    readonly docs: Effect.Effect<ReadonlyArray<DocsFinding>, FileAccessError | InvalidFile>
    /** GRD-4 `--sync`: mirrors a task's checklist into `.agent/task/` and docs/TASKS.md; returns the files written. */
    readonly syncDocs: (taskId: string) => Effect.Effect<ReadonlyArray<string>, FileAccessError | InvalidFile | DocsSyncError>
  }
>() {}
