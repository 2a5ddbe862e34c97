import { Effect, Layer } from "effect"
import { EventBus } from "../services/EventBus.js"
import { PersistenceCoordinator } from "../services/PersistenceCoordinator.js"
import { TaskStateStore } from "../services/TaskStateStore.js"
import { persistRun } from "./internal/persistRun.js"

/** PER-1, started with the layer and stopped with its scope. */
export const PersistenceCoordinatorLive = Layer.scoped(
  PersistenceCoordinator,
  Effect.gen(function*() {
    const persist = persistRun(yield* TaskStateStore)
    const bus = yield* EventBus
    yield* bus.on("run:completed", (event) => persist(event.summary))
    return PersistenceCoordinator.of({ persist })
  })
)
