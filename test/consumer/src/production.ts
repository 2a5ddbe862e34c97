import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { App, RunEngine, RunLogs } from "codex-orchestrator"
import { Console, Effect, Layer, Logger, LogLevel, Stream } from "effect"
import { ci } from "./pipelines.js"

// The production graph (real processes and disk), configured from code rather than the environment.
const AppLayer = App.makeAppLayer({
  settings: { repoRoot: process.cwd(), privacyMode: "enforce" },
  pipelines: [ci]
}).pipe(Layer.provide(NodeContext.layer))

const main = Effect.gen(function*() {
  const engine = yield* RunEngine.RunEngine
  const { layout, manifest } = yield* engine.start({ pipelineId: "ci", taskId: "demo", approvalPolicy: "never" })
  // What the build stage printed, read back from its log as typed records.
  const printed = yield* RunLogs.stage(layout, 1, "build").pipe(RunLogs.output, Stream.mkString)
  yield* Console.log(`${manifest.run_id} ${manifest.status}: build printed ${JSON.stringify(printed)}`)
})

// The engine logs its progress (a line per run and stage) at Info; this app shows warnings only.
NodeRuntime.runMain(main.pipe(Effect.provide(AppLayer), Logger.withMinimumLogLevel(LogLevel.Warning)))
