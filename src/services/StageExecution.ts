import { Context, type Effect } from "effect"
import type { ExecutionMode } from "../domain/ExecutionMode.js"
import type { FileAccessError } from "../domain/FileErrors.js"
import type { ExecutedRun } from "../domain/RunHandle.js"
import type { ActiveRun } from "./RunBootstrap.js"

/**
 * The second phase (SPEC RUN-3, RUN-7, RUN-8, DECISIONS D-4, D-8, B-3): the run goes `in_progress`,
 * its heartbeat beats, every stage that is due runs in order until one stops the run (command stages
 * on the executor of the mode, nested pipelines as child runs), and the manifest is finalized, or
 * recorded `cancelled` when interrupted. Publishes run:started, stage and run:error events.
 */
export class StageExecution extends Context.Tag("orchestrator/StageExecution")<
  StageExecution,
  { readonly execute: (run: ActiveRun, mode: ExecutionMode) => Effect.Effect<ExecutedRun, FileAccessError> }
>() {}
