import { Context, type Effect } from "effect"
import type { FileAccessError, InvalidFile } from "../domain/FileErrors.js"
import type { RunSummary } from "../domain/RunSummary.js"
import type { TaskStateSnapshot } from "../domain/TaskState.js"

/**
 * What recording a run did (PER-3): its record is in `runs.json`, or, the task's lock having stayed
 * busy through every attempt, it waits in `pendingPath` for the next holder of the lock to add it.
 */
export type RecordedRun =
  | { readonly _tag: "Recorded"; readonly snapshot: TaskStateSnapshot }
  | { readonly _tag: "Queued"; readonly pendingPath: string; readonly lockPath: string; readonly attempts: number }

/**
 * The task-level records of finished runs (SPEC PER-3, PER-5 with DECISIONS D-5, D-10), under the
 * configured runs and out roots.
 */
export class TaskStateStore extends Context.Tag("orchestrator/TaskStateStore")<
  TaskStateStore,
  {
    /**
     * PER-3: adds the run to `out/<task>/runs.json` under `<runs>/<task>.lock`, retrying while it is
     * held; a run that never gets it queues its record in `<runs>/<task>/runs.pending/`, which every
     * holder of the lock merges (so concurrent runs all end up in runs.json).
     */
    readonly recordRun: (summary: RunSummary) => Effect.Effect<RecordedRun, InvalidFile | FileAccessError>
    /** PER-5 / D-10: `.runs/<task>/<run>/manifest.json`, the enriched run summary, written atomically. */
    readonly writeRunManifest: (summary: RunSummary) => Effect.Effect<void, FileAccessError>
    readonly read: (taskId: string) => Effect.Effect<TaskStateSnapshot, InvalidFile | FileAccessError>
  }
>() {}
