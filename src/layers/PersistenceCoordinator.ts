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
          const message = `Task state snapshot skipped for task ${summary.taskId} (run ${summary.runId}): ${snapshot.left.message}`
          yield* snapshot.left._tag === "TaskStateLockBusy" ? Effect.logWarning(message) : Effect.logError(message)
        }
        return { snapshotRecorded: Either.isRight(snapshot), manifestWritten: Either.isRight(manifest) }
      })

    yield* bus.on("run:completed", (event) => persist(event.summary))
    return PersistenceCoordinator.of({ persist })
  })
)
