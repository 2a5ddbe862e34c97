import { Effect, Either, Layer } from "effect"
import { EventBus } from "../services/EventBus.js"
import { PersistenceCoordinator } from "../services/PersistenceCoordinator.js"
import { TaskStateStore } from "../services/TaskStateStore.js"

/** PER-1, started with the layer and stopped with its scope. */
export const PersistenceCoordinatorLive = Layer.scoped(
  PersistenceCoordinator,
  Effect.gen(function*() {
    const store = yield* TaskStateStore
    const bus = yield* EventBus

    const persist = (summary: Parameters<PersistenceCoordinator["Type"]["persist"]>[0]) =>
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

    yield* bus.on("run:completed", (event) => persist(event.summary))
    return PersistenceCoordinator.of({ persist })
  })
)
