/**
 * Issue 20: the typed reader of a run's logs (RunLogs), on a run of the in-memory app: the runner log
 * and each stage log as Streams of decoded records, a damaged line as a typed error naming the file
 * and the line, a missing log as RunLogNotFound.
 */
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Either, Fiber, Stream, TestClock } from "effect"
import type { RunLogEvent } from "../src/domain/RunLog.js"
import * as RunLogs from "../src/RunLogs.js"
import { AppMemory, InMemoryFiles } from "../src/TestKit.js"
import { RunEngine } from "../src/services/RunEngine.js"
import { commandStage, pipeline } from "./support/pipelines.js"

const ci = pipeline("ci", [
  commandStage("build", "make", { retry: { attempts: 2, initialDelayMs: 1000, factor: 2, maxDelayMs: 5000 } }),
  commandStage("test", "make test")
])

const app = () =>
  AppMemory({
    pipelines: { user: [ci] },
    scripts: {
      make: [
        { exitCode: 1, output: [{ stream: "stderr", data: "flaky\n" }] },
        { exitCode: 0, output: [{ stream: "stdout", data: "built\n" }, { stream: "stderr", data: "warn\n" }] }
      ],
      "make test": { exitCode: 0, output: [{ stream: "stdout", data: "ok\n" }] }
    }
  })

/** Runs `ci` (the build fails once, is retried after 1 s, then passes); its layout. */
const runCi = Effect.gen(function*() {
  const fiber = yield* Effect.fork((yield* RunEngine).start({ pipelineId: "ci", taskId: "logs" }))
  yield* TestClock.adjust("1 minute")
  return (yield* Fiber.join(fiber)).layout
})

const collect = <A, E, R>(stream: Stream.Stream<A, E, R>) => Effect.map(Stream.runCollect(stream), Chunk.toReadonlyArray)
const typesOf = (records: ReadonlyArray<RunLogEvent>) => records.map((record) => `${record.type}@${record.index}`)

describe("RunLogs: a run's logs as Streams of records (issue 20)", () => {
  it.effect("the runner log: every stage's lifecycle, the retry with its delay, no output chunks", () =>
    Effect.gen(function*() {
      const layout = yield* runCi
      const records = yield* collect(RunLogs.runner(layout))
      assert.deepStrictEqual(typesOf(records), [
        "command:start@1", "exec:begin@1", "exec:end@1", "exec:retry@1", "exec:begin@1", "exec:end@1", "command:end@1",
        "command:start@2", "exec:begin@2", "exec:end@2", "command:end@2"
      ])
      const retry = records.find((record) => record.type === "exec:retry")
      assert(retry?.type === "exec:retry")
      assert.strictEqual(retry.delay_ms, 1000)
      assert.strictEqual(retry.attempt, 1)
      const ends = records.filter((record) => record.type === "exec:end")
      assert.deepStrictEqual(ends.map((end) => end.type === "exec:end" ? [end.attempt, end.exit_code, end.status] : []), [
        [1, 1, "failed"], [2, 0, "succeeded"], [1, 0, "succeeded"]
      ])
    }).pipe(Effect.provide(app())))

  it.effect("a stage log: its lifecycle and its output chunks, in order, each attempt's", () =>
    Effect.gen(function*() {
      const layout = yield* runCi
      const build = RunLogs.stage(layout, 1, "build")
      assert.deepStrictEqual(typesOf(yield* collect(build)), [
        "command:start@1", "exec:begin@1", "exec:chunk@1", "exec:end@1", "exec:retry@1",
        "exec:begin@1", "exec:chunk@1", "exec:chunk@1", "exec:end@1", "command:end@1"
      ])
      assert.strictEqual((yield* collect(RunLogs.output(build))).join(""), "flaky\nbuilt\nwarn\n")
      assert.strictEqual((yield* collect(RunLogs.output(build, "stdout"))).join(""), "built\n")
      assert.strictEqual((yield* collect(RunLogs.output(build, "stderr"))).join(""), "flaky\nwarn\n")
      assert.strictEqual((yield* collect(RunLogs.output(RunLogs.stage(layout, 2, "test")))).join(""), "ok\n")
      assert.deepStrictEqual(yield* RunLogs.stageLogFiles(layout), [layout.stageLog(1, "build"), layout.stageLog(2, "test")])
    }).pipe(Effect.provide(app())))

  it.effect("a damaged line fails the stream with RunLogLineInvalid naming the file and the line, after the records before it", () =>
    Effect.gen(function*() {
      const layout = yield* runCi
      const files = yield* InMemoryFiles
      const text = (yield* files.read(layout.runnerLog)) ?? assert.fail("no runner log")
      const [first, second] = text.split("\n")
      yield* files.write(layout.runnerLog, `${first}\n\n${second?.slice(0, 40)}\n${second}\n`)
      const seen: Array<RunLogEvent> = []
      const error = yield* Effect.flip(Stream.runForEach(RunLogs.runner(layout), (record) => Effect.sync(() => seen.push(record))))
      assert(error._tag === "RunLogLineInvalid", `expected RunLogLineInvalid, got ${error._tag}`)
      assert.strictEqual(error.path, layout.runnerLog)
      assert.strictEqual(error.line, 3, "blank lines count: the line number is the file's")
      assert.match(error.message, new RegExp(`^${layout.runnerLog}:3 is not a run log record: \\(root\\): `))
      assert.deepStrictEqual(typesOf(seen), ["command:start@1"])

      yield* files.write(layout.runnerLog, `${first}\n{"type":"exec:begin","index":1}\n`)
      const missingFields = yield* Effect.flip(collect(RunLogs.runner(layout)))
      assert(missingFields._tag === "RunLogLineInvalid")
      assert.strictEqual(missingFields.line, 2)
      assert.include(missingFields.issues.join("\n"), "correlation_id: is missing")
    }).pipe(Effect.provide(app())))

  it.effect("a log that is not there is RunLogNotFound, and readEach goes on past a damaged line", () =>
    Effect.gen(function*() {
      const layout = yield* runCi
      const missing = yield* Effect.flip(collect(RunLogs.stage(layout, 3, "deploy")))
      assert(missing._tag === "RunLogNotFound")
      assert.strictEqual(missing.path, layout.stageLog(3, "deploy"))
      const files = yield* InMemoryFiles
      const [first, second] = ((yield* files.read(layout.runnerLog)) ?? assert.fail("no runner log")).split("\n")
      yield* files.write(layout.runnerLog, `${first}\nnot json\n${second}\n`)
      const each = yield* collect(RunLogs.readEach(layout.runnerLog))
      assert.deepStrictEqual(each.map(Either.match({ onLeft: (bad) => `line ${bad.line}`, onRight: (record) => record.type })), [
        "command:start",
        "line 2",
        "exec:begin"
      ])
    }).pipe(Effect.provide(app())))
})
