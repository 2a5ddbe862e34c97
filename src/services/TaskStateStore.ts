import { Context, type Effect, Schema } from "effect"
import type { FileAccessError, InvalidFile } from "../domain/FileErrors.js"
import type { RunSummary } from "../domain/RunSummary.js"
import type { TaskStateSnapshot } from "../domain/TaskState.js"

/** PER-3: the task's lock file was held by someone else through every attempt. */
export class TaskStateLockBusy extends Schema.TaggedError<TaskStateLockBusy>()("TaskStateLockBusy", {
  taskId: Schema.String,
  attempts: Schema.Int,
  lockPath: Schema.String
}) {
  override get message() {
    return `Failed to acquire task state lock for ${this.taskId} after ${this.attempts} attempts (${this.lockPath}). If no orchestrator is running for this task, delete the lock file.`
  }
}

/**
 * The task-level records of finished runs (SPEC PER-3, PER-5 with DECISIONS D-5, D-10), under the
 * configured runs and out roots.
 */
export class TaskStateStore extends Context.Tag("orchestrator/TaskStateStore")<
  TaskStateStore,
  {
    /** PER-3: adds the run to `out/<task>/runs.json` under `<runs>/<task>.lock`, retrying while it is held. */
    readonly recordRun: (summary: RunSummary) => Effect.Effect<TaskStateSnapshot, TaskStateLockBusy | InvalidFile | FileAccessError>
    /** PER-5 / D-10: `.runs/<task>/<run>/manifest.json`, the enriched run summary, written atomically. */
    readonly writeRunManifest: (summary: RunSummary) => Effect.Effect<void, FileAccessError>
    readonly read: (taskId: string) => Effect.Effect<TaskStateSnapshot, InvalidFile | FileAccessError>
  }
>() {}
