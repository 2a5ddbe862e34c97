/**
 * PER-1 for one run: the task-state snapshot (`out/<task>/runs.json`), then the run summary manifest
 * (`.runs/<task>/<run>/manifest.json`, D-10), which is written even when the snapshot could not be.
 * Never fails: what went wrong is logged. Used for top-level runs (on `run:completed`) and for child
 * runs of nested stages (RUN-7), which publish no `run:completed` of their own.
 */
import { Effect, Either } from "effect"
import type { RunSummary } from "../../domain/RunSummary.js"
import type { PersistenceOutcome } from "../../services/PersistenceCoordinator.js"
import type { TaskStateStore } from "../../services/TaskStateStore.js"

export const persistRun = (store: TaskStateStore["Type"]) => (summary: RunSummary): Effect.Effect<PersistenceOutcome> =>
  Effect.gen(function*() {
    const snapshot = yield* Effect.either(store.recordRun(summary))
    const manifest = yield* Effect.either(store.writeRunManifest(summary))
    if (Either.isLeft(manifest)) {
      yield* Effect.logError(`Run summary manifest not written for run ${summary.runId}: ${manifest.left.message}`)
    }
    if (Either.isLeft(snapshot)) {
      yield* Effect.logError(`Task state snapshot skipped for task ${summary.taskId} (run ${summary.runId}): ${snapshot.left.message}`)
    } else if (snapshot.right._tag === "Queued") {
      const { attempts, lockPath, pendingPath } = snapshot.right
      yield* Effect.logWarning(
        `Task state lock ${lockPath} stayed busy through ${attempts} attempts: run ${summary.runId} is queued in ${pendingPath}; the next run of task ${summary.taskId} adds it to runs.json.`
      )
    }
    return {
      snapshotRecorded: Either.isRight(snapshot) && snapshot.right._tag === "Recorded",
      snapshotQueued: Either.isRight(snapshot) && snapshot.right._tag === "Queued",
      manifestWritten: Either.isRight(manifest)
    }
  })
