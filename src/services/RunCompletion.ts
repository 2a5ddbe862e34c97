import { Context, type Effect } from "effect"
import type { FileAccessError } from "../domain/FileErrors.js"
import type { MetricsExtras } from "../domain/Metrics.js"
import type { CompletedRun } from "../domain/RunHandle.js"
import type { RunSummary } from "../domain/RunSummary.js"
import type { ActiveRun } from "./RunBootstrap.js"

export interface CompleteOptions {
  readonly extras?: MetricsExtras | undefined
  /** D-17: only the run a user started or resumed is learned from; its nested child runs are part of it. */
  readonly learnFrom: boolean
}

/**
 * The last phase (the end of SPEC RUN-1, SCH-5, D-10, D-17, TFG-3): a run never executed is recorded
 * failed, the schedule finalized, the learning snapshot taken, the TF-GRPO experience recorded,
 * `run-summary.json` and the metrics line written.
 */
export class RunCompletion extends Context.Tag("orchestrator/RunCompletion")<
  RunCompletion,
  {
    readonly complete: (
      run: ActiveRun,
      summary: RunSummary,
      options: CompleteOptions
    ) => Effect.Effect<CompletedRun, FileAccessError>
  }
>() {}
