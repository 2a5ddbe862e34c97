import { type Chunk, Context, type Effect, Schema } from "effect"
import type { DiffBudgetReport } from "../domain/DiffBudget.js"
import type { FileAccessError } from "../domain/FileErrors.js"
import type { ProcessSpawnError } from "./ProcessRunner.js"
import type { GuardError } from "./Guards.js"

/** Something the hand-off needs is not there (no manifest, no notes, no usable codex): exit 2, one line. */
export class ReviewNotReady extends Schema.TaggedError<ReviewNotReady>()("ReviewNotReady", {
  reason: Schema.String
}) {
  override get message() {
    return this.reason
  }
}

/** The diff budget refused the change before review; its report says why. */
export class ReviewOverBudget extends Schema.TaggedError<ReviewOverBudget>()("ReviewOverBudget", {
  lines: Schema.Array(Schema.String)
}) {
  override get message() {
    return "[run-review] the diff budget failed; split the change or set DIFF_BUDGET_OVERRIDE_REASON"
  }
}

export interface ReviewRequest {
  /** `--manifest`, else `MANIFEST`, else `CODEX_ORCHESTRATOR_MANIFEST_PATH`; none: the newest run's. */
  readonly manifest?: string | undefined
  /** Where to look for the newest manifest (default: the configured runs folder). */
  readonly runsDir?: string | undefined
  /** The task (only its runs are searched); default: the manifest's task. */
  readonly task?: string | undefined
  readonly base?: string | undefined
  readonly commit?: string | undefined
  readonly title?: string | undefined
  /** `NOTES`: the agent's goal, summary, risks and questions. Required. */
  readonly notes?: string | undefined
  readonly skipDiffBudget: boolean
  readonly diffBudget: { readonly maxFiles: number; readonly maxLines: number; readonly envBase: ReadonlyArray<string | undefined>; readonly overrideReason?: string | undefined }
  /** `CODEX_BIN`, default `codex`. */
  readonly codex: string
  /** `CODEX_REVIEW_DEVTOOLS`. */
  readonly devtools: boolean
  /** Where codex's output goes as it arrives (the CLI: its own stdout and stderr). */
  readonly onOutput: (stream: "stdout" | "stderr", chunks: Chunk.Chunk<Uint8Array>) => Effect.Effect<void>
  /** Progress lines (the budget's report, the prompt's path). */
  readonly onProgress: (line: string) => Effect.Effect<void>
}

export interface ReviewOutcome {
  readonly manifestPath: string
  readonly promptPath: string
  readonly budget: DiffBudgetReport | undefined
  /** codex review's exit code (null: killed by a signal). */
  readonly exitCode: number | null
}

/**
 * GRD-5: checks the diff budget, finds the evidence manifest, builds the hand-off prompt (saved next
 * to the manifest as `review-prompt.md`) and runs `codex review` with it.
 */
export class ReviewHandoff extends Context.Tag("orchestrator/ReviewHandoff")<
  ReviewHandoff,
  {
    readonly run: (
      request: ReviewRequest
    ) => Effect.Effect<ReviewOutcome, ReviewNotReady | ReviewOverBudget | GuardError | FileAccessError | ProcessSpawnError>
  }
>() {}
