import { Context, type Effect, Schema, type Stream } from "effect"
import type { FileAccessError } from "../domain/FileErrors.js"
import type { Experience, TopQuery } from "../domain/Tfgrpo.js"

/** PER-4: the task's experience lock was held by someone else through every attempt. */
export class ExperienceLockBusy extends Schema.TaggedError<ExperienceLockBusy>()("ExperienceLockBusy", {
  taskId: Schema.String,
  attempts: Schema.Int,
  lockPath: Schema.String,
  /** What the lock file says about its holder (`<pid>@<host>`), when it could be read. */
  holder: Schema.optional(Schema.String)
}) {
  override get message() {
    const by = this.holder === undefined ? "" : ` held by ${this.holder}`
    // Never advise deleting the lock: another run of the task may hold it right now.
    return `Failed to acquire experience store lock for ${this.taskId} after ${this.attempts} attempts (${this.lockPath}${by}). ` +
      "Another orchestrator of this task is writing; a lock left by a process that stopped is taken over once it is 5 minutes old."
  }
}

/**
 * The TF-GRPO experiences of a task (SPEC PER-4, TFG-3, TFG-4): JSON Lines in
 * `<out>/<task>/experiences.jsonl`, appended under `<runs>/<task>.experiences.lock`.
 */
export class ExperienceStore extends Context.Tag("orchestrator/ExperienceStore")<
  ExperienceStore,
  {
    /** PER-4: appends the experiences (one line each) under the task's lock, retrying while it is held (PER-3 defaults). */
    readonly append: (
      taskId: string,
      experiences: ReadonlyArray<Experience>
    ) => Effect.Effect<void, ExperienceLockBusy | FileAccessError>
    /** The task's experiences in file order, streamed; a line that does not decode is skipped with a warning. */
    readonly read: (taskId: string) => Stream.Stream<Experience, FileAccessError>
    /** TFG-4: the best `limit` experiences of the domain and task, in order, read without holding the file. */
    readonly top: (query: TopQuery) => Effect.Effect<ReadonlyArray<Experience>, FileAccessError>
  }
>() {}
