import { Context, type Effect } from "effect"
import type { FileAccessError } from "../domain/FileErrors.js"
import type { CommandStage } from "../domain/Pipeline.js"
import type { ExecutorService } from "./Executor.js"
import type { ActiveRun } from "./RunBootstrap.js"

/** Whether the run goes on after a stage. */
export type StageVerdict = "continue" | "stop"

/**
 * One command stage of a run (SPEC RUN-4..6, LOG-1, LOG-2, DECISIONS D-8, D-11, D-14): the approval,
 * the entry marked running, every attempt on the given executor with its output streamed to the
 * stage log, and the outcome in the manifest (and an error file when it failed). Publishes the
 * stage's events itself (stage:started, tool:call, log).
 */
export class CommandStageRunner extends Context.Tag("orchestrator/CommandStageRunner")<
  CommandStageRunner,
  {
    readonly run: (
      run: ActiveRun,
      stage: CommandStage,
      /** 0-based position of the stage in the pipeline (and of its entry in the manifest). */
      position: number,
      executor: ExecutorService
    ) => Effect.Effect<StageVerdict, FileAccessError>
  }
>() {}
