import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { App, EventBus, RunEngine } from "codex-orchestrator"
import { Console, Duration, Effect, Fiber, Layer, Logger, LogLevel, Stream } from "effect"
import { ci } from "./pipelines.js"

const AppLayer = App.makeAppLayer({
  // How long start waits for slow `on` handlers before it returns anyway (120 s by default).
  settings: { repoRoot: process.cwd(), subscriberGrace: Duration.seconds(10) },
  pipelines: [ci]
}).pipe(Layer.provide(NodeContext.layer))

const main = Effect.gen(function*() {
  const bus = yield* EventBus.EventBus
  const engine = yield* RunEngine.RunEngine

  // `on`: a handler per event of one type. `start` returns only once the handlers have handled
  // what the run published (or the grace ran out): keep them short, or use `subscribe`.
  yield* bus.on("stage:completed", (event) => Console.log(`on: ${event.stageId} ${event.status}`))

  // `subscribe`: a stream of every event; `start` never waits for it.
  const events = yield* bus.subscribe
  const types = yield* events.pipe(
    Stream.filter((event) => event.type !== "log"),
    Stream.takeUntil((event) => event.type === "run:completed"),
    Stream.map((event) => event.type),
    Stream.runCollect,
    Effect.fork
  )

  yield* engine.start({ pipelineId: "ci", taskId: "demo" })
  yield* Console.log(`subscribe: ${[...yield* Fiber.join(types)].join(", ")}`)
})

// The subscriptions last as long as the scope.
NodeRuntime.runMain(main.pipe(Effect.scoped, Effect.provide(AppLayer), Logger.withMinimumLogLevel(LogLevel.Warning)))
