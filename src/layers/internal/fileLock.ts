/**
 * Lock files (SPEC PER-2): a lock is a file created exclusively; while another process holds it,
 * the attempts back off on a Schedule; the lock is released by deleting the file, also when the
 * work fails or is interrupted.
 */
import { Effect, Schema } from "effect"
import type { FileAccessError } from "../../domain/FileErrors.js"
import { type RetryPolicy, retrySchedule } from "../../domain/Retry.js"
import type { Files } from "../../services/Files.js"

export class LockBusy extends Schema.TaggedError<LockBusy>()("LockBusy", {
  path: Schema.String,
  attempts: Schema.Int
}) {
  override get message() {
    return `${this.path} is held by another process (tried ${this.attempts} times).`
  }
}

/** PER-3 / PER-4: the task-level locks' defaults: 5 attempts, waiting 100, 200, 400, 800 ms. */
export const taskLockPolicy: RetryPolicy = { attempts: 5, initialDelayMs: 100, factor: 2, maxDelayMs: 1000 }

/** One attempt, no wait: for a holder's last look at queued work, which the current holder will do otherwise. */
export const singleAttempt: RetryPolicy = { attempts: 1, initialDelayMs: 0, factor: 1, maxDelayMs: 0 }

/**
 * A lock is held for the milliseconds of one read and write: one older than this was left by a
 * process that stopped while holding it (as MET-2 judges the metrics lock).
 */
export const abandonedLockAfterMs = 5 * 60 * 1000

/** Removes the lock file at `path` when it is older than abandonedLockAfterMs; true when it did. */
export const removeAbandonedLock = (files: Files["Type"], path: string, nowMs: number): Effect.Effect<boolean, FileAccessError> =>
  Effect.flatMap(files.modifiedAt(path), (modified) =>
    modified !== undefined && nowMs - modified > abandonedLockAfterMs ? Effect.as(files.remove(path), true) : Effect.succeed(false))

class StillHeld {
  readonly _tag = "StillHeld"
}

/** Runs `body` while holding the lock file at `path`. */
export const withFileLock = (files: Files["Type"], path: string, policy: RetryPolicy, owner: string) =>
<A, E, R>(body: Effect.Effect<A, E, R>): Effect.Effect<A, E | LockBusy | FileAccessError, R> =>
  Effect.acquireUseRelease(
    files.createExclusive(path, `${owner}\n`).pipe(
      Effect.flatMap((created) => created ? Effect.void : Effect.fail(new StillHeld())),
      Effect.retry({ schedule: retrySchedule(policy), while: (error) => error instanceof StillHeld }),
      Effect.catchIf((error) => error instanceof StillHeld, () => Effect.fail(new LockBusy({ path, attempts: policy.attempts })))
    ),
    () => body,
    () => Effect.ignore(files.remove(path))
  )
