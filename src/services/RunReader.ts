import { Context, type Duration, type Effect, type Stream } from "effect"
import type { FileAccessError } from "../domain/FileErrors.js"
import type { InvalidId, TaskId } from "../domain/Ids.js"
import type { BadInput, RunRequest, StatusView } from "./RunEngine.js"

/** A task's newest run, for a command line that names none: none when the task has no runs yet. */
export interface NewestRun {
  readonly taskId: TaskId
  readonly runId: string | undefined
  /** The task's run folders, relative to the repository (`.runs/<task>/cli`). */
  readonly runsDir: string
}

/**
 * Reads runs without writing anything (SPEC CLI-7, D-9): the manifest, its owner, whether it is
 * stale, and its cloud sync record. `status` needs nothing else, so it starts without the engine.
 */
export class RunReader extends Context.Tag("orchestrator/RunReader")<
  RunReader,
  {
    readonly status: (request: RunRequest) => Effect.Effect<StatusView, BadInput | FileAccessError>
    /** The run's status now, then again whenever it changes, until it is finished. */
    readonly watch: (request: RunRequest, interval: Duration.Duration) => Stream.Stream<StatusView, BadInput | FileAccessError>
    /**
     * The newest run (by the start time in its id, ID-2, else its manifest's modification time) that
     * has a manifest, of the task `--task` names, else MCP_RUNNER_TASK_ID, else the default.
     */
    readonly newestRun: (taskId: string | undefined) => Effect.Effect<NewestRun, InvalidId | FileAccessError>
  }
>() {}
