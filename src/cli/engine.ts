/**
 * The engine for the commands that plan or run pipelines, loaded on first use: in the bundle the
 * dynamic import keeps its modules (the TaskManager, executors, control plane, learning, cloud sync)
 * from being evaluated by commands that do not need them, which is most of a `status`'s start-up.
 */
import { Effect, Layer } from "effect"

/** The production engine (App.engineLayer with no customisation), its modules loaded when a command first needs it. */
export const engine = Layer.unwrapEffect(
  Effect.map(Effect.promise(() => import("../layers/App.js")), (app) => app.engineLayer())
)
