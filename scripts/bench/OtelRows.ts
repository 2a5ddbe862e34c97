/**
 * OpenTelemetry's rows (issue 22: "off when not set, and no OpenTelemetry module is loaded then,
 * start-up cost unchanged: show it in the bench"). `start` of one trivial stage with no endpoint
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` blank, no flag) passes when one more run of it under
 * `NODE_DEBUG=module` never loads the exporter's bundle (`otel.cjs`): what it costs is then the
 * start-up of any run, shown against `node -e 0` measured in the same rounds. The same run with
 * `--otel-endpoint` at a collector on 127.0.0.1 (it answers every export 200) shows what turning it
 * on costs, as the median of the rounds' differences. A collector that received nothing fails the
 * bench: the "on" arm would not have measured anything.
 */
import { Command, CommandExecutor, HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Effect, Layer, Ref, Stream } from "effect"
import { createServer } from "node:http"
import { type Arm, BenchFailed, type Measure, measureArms } from "./Measure.js"
import { median, ms, type Row, signedMs, summarize, verdict } from "./Report.js"
import * as Workloads from "./Workloads.js"

export interface OtelBench {
  readonly measure: Measure
  readonly cli: (...args: Array<string>) => Command.Command
  readonly nodeFloor: Arm
  readonly repo: string
  readonly task: string
  readonly runsOf: (workload: Workloads.Workload) => number
}

/** Whether a run of `command` under NODE_DEBUG=module loads the exporter's bundle (its stderr names otel.cjs). */
const loadsExporter = (command: Command.Command) =>
  Effect.scoped(Effect.gen(function*() {
    const executor = yield* CommandExecutor.CommandExecutor
    const proc = yield* executor.start(command.pipe(Command.env({ NODE_DEBUG: "module" }), Command.stdin(Stream.empty)))
    const [loaded] = yield* Effect.all([
      proc.stderr.pipe(Stream.decodeText(), Stream.splitLines, Stream.runFold(false, (seen, line) => seen || line.includes("otel.cjs"))),
      Stream.runDrain(proc.stdout),
      proc.exitCode
    ], { concurrency: "unbounded" })
    return loaded
  })).pipe(Effect.mapError((cause) => new BenchFailed({ message: "the NODE_DEBUG=module run failed", cause })))

/** An OTLP/HTTP collector on 127.0.0.1 that takes every export and counts them, until the scope closes. */
const loopbackCollector = Effect.gen(function*() {
  const exports = yield* Ref.make(0)
  const context = yield* Layer.build(NodeHttpServer.layer(() => createServer(), { host: "127.0.0.1", port: 0 }))
  const server = yield* HttpServer.serveEffect(
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => request.text).pipe(
      Effect.zipRight(Ref.update(exports, (n) => n + 1)),
      Effect.zipRight(HttpServerResponse.json({})),
      Effect.orDie
    )
  ).pipe(Effect.zipRight(HttpServer.HttpServer), Effect.provide(context))
  const address = server.address
  const url = address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : address.path
  return { url, exports: Ref.get(exports) }
}).pipe(Effect.mapError((cause) => new BenchFailed({ message: "could not start the loopback OTLP collector", cause })))

export const otelRows = ({ cli, measure, nodeFloor, repo, runsOf, task }: OtelBench) =>
  Effect.scoped(Effect.gen(function*() {
    const collector = yield* loopbackCollector
    const workload = Workloads.trivial1
    const args = ["start", workload.id, "--task", task, "--format", "json"]
    const offCommand = cli(...args).pipe(Command.env({ OTEL_EXPORTER_OTLP_ENDPOINT: "" }))
    const onCommand = cli(...args, "--otel-endpoint", collector.url)
    const start = (name: string, command: Command.Command): Arm => ({ name, run: measure.startRun(name, command, repo) })
    const results = yield* measureArms("OpenTelemetry off / on", [
      start("start, OpenTelemetry off", offCommand),
      start("start --otel-endpoint (loopback collector)", onCommand),
      nodeFloor
    ], { runs: runsOf(workload), warmup: true })
    const exported = yield* collector.exports
    if (exported === 0) return yield* new BenchFailed({ message: `the collector at ${collector.url} received no export` })
    const [offLoads, onLoads] = [yield* loadsExporter(offCommand), yield* loadsExporter(onCommand)]
    const [off, on, node] = results.map(summarize)
    const [offMs, onMs, nodeMs] = [off?.medianMs ?? Number.NaN, on?.medianMs ?? Number.NaN, node?.medianMs ?? Number.NaN]
    // Adjacent in every round: the median of the rounds' differences cancels a shared machine's drift.
    const walls = (i: number) => results[i]?.samples.map((sample) => sample.wallMs) ?? []
    const onCost = median(walls(1).map((wall, round) => wall - (walls(0)[round] ?? Number.NaN)))
    const rows: ReadonlyArray<Row> = [{
      workload: `${workload.label}, OpenTelemetry off (no endpoint)`,
      orchestrator: ms(offMs),
      floor: `node -e 0: ${ms(nodeMs)}`,
      overhead: `${signedMs(offMs - nodeMs)} vs node; otel.cjs loaded: ${offLoads ? "yes" : "no"}`,
      target: "no OpenTelemetry module loaded (NODE_DEBUG=module): start-up as without tracing",
      result: verdict(!offLoads)
    }, {
      workload: `${workload.label}, \`--otel-endpoint\` at a loopback collector`,
      orchestrator: ms(onMs),
      floor: `OpenTelemetry off: ${ms(offMs)}`,
      overhead: `${signedMs(onCost)} (median of the rounds' differences) to load the exporter and export ` +
        `the trace (${exported} export request(s) received; otel.cjs loaded: ${onLoads ? "yes" : "no"})`,
      target: "—",
      result: "info"
    }]
    return rows
  }))
