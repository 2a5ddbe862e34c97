import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { App, Executor, LocalExecutor, RunEngine, RunLogs } from "codex-orchestrator"
import { Chunk, Console, Context, Effect, Layer, Logger, LogLevel, Stream } from "effect"
import { ci } from "./pipelines.js"

/** A client of the app's own remote service; the executor below needs it. */
class Remote extends Context.Tag("myapp/Remote")<Remote, { readonly host: string }>() {}

const encoder = new TextEncoder()

/** Runs `cloud` stages "remotely": here, it answers each with one line and exit code 0. */
const RemoteExecutor = Layer.effect(
  Executor.CloudExecutor,
  Effect.map(Remote, (remote) =>
    Executor.CloudExecutor.of(LocalExecutor.executorFromStream(`remote@${remote.host}`, (request) =>
      Stream.make<Array<Executor.ExecutionEvent>>(
        { _tag: "Started", pid: undefined },
        { _tag: "Output", stream: "stdout", chunks: Chunk.of(encoder.encode(`${request.command} on ${remote.host}\n`)) },
        { _tag: "Exited", exit: { exitCode: 0, signal: null } }
      ))))
)

// The executor's requirement (Remote) shows in the app layer's type until it is provided.
const AppLayer = App.makeAppLayer({ settings: { repoRoot: process.cwd() }, pipelines: [ci], cloudExecutor: RemoteExecutor }).pipe(
  Layer.provide(Layer.succeed(Remote, { host: "build-farm-1" })),
  Layer.provide(NodeContext.layer)
)

const main = Effect.gen(function*() {
  const engine = yield* RunEngine.RunEngine
  const { layout, manifest } = yield* engine.start({ pipelineId: "ci", taskId: "demo", executionMode: "cloud" })
  const printed = yield* RunLogs.stage(layout, 1, "build").pipe(RunLogs.output, Stream.mkString)
  yield* Console.log(`${manifest.status} (${manifest.execution_mode}): ${printed.trim()}`)
})

NodeRuntime.runMain(main.pipe(Effect.provide(AppLayer), Logger.withMinimumLogLevel(LogLevel.Warning)))
