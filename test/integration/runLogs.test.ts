/**
 * Issue 20: RunLogs reads the logs of a real CLI run (real processes, files on disk) through FilesLive:
 * the runner log's lifecycle with the retry's delay, each stage's output as printed, and a line torn
 * on disk as RunLogLineInvalid naming the file and the line.
 */
import { appendFileSync } from "node:fs"
import { Path } from "@effect/platform"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Chunk, Effect, Layer, Stream } from "effect"
import { makeRunLayout } from "../../src/domain/RunLayout.js"
import * as RunLogs from "../../src/RunLogs.js"
import { asString, commandStage, describeResult, pipeline, requireBuiltCli, startJson, withRepo } from "../support/cli.js"

beforeAll(requireBuiltCli)

const config = {
  pipelines: [pipeline("p", [
    commandStage("flaky", "test -f marker || { touch marker; echo first >&2; exit 3; }; echo second", {
      retry: { attempts: 2, initialDelayMs: 50, factor: 2, maxDelayMs: 100 }
    }),
    commandStage("talk", "printf 'a\\nb'; echo oops >&2")
  ])]
}

const disk = RunLogs.FilesLive.pipe(Layer.provideMerge(NodeContext.layer))
const run = <A, E>(effect: Effect.Effect<A, E, RunLogs.Files | Path.Path>) => Effect.runPromise(Effect.provide(effect, disk))
const collect = <A, E, R>(stream: Stream.Stream<A, E, R>) => Effect.map(Stream.runCollect(stream), Chunk.toReadonlyArray)

describe("RunLogs on a real run's files", () => {
  it("reads the runner log and each stage log as records; a torn line is a typed error", () =>
    withRepo(config, async (repo) => {
      const started = await startJson(repo, ["p", "--task", "logs"])
      assert.strictEqual(started.result.code, 0, describeResult(started.result))
      const runId = asString(started.output["run_id"], "run_id")
      await run(Effect.gen(function*() {
        const path = yield* Path.Path
        const roots = { repoRoot: repo.dir, runsRoot: path.join(repo.dir, ".runs"), outRoot: path.join(repo.dir, "out") }
        const layout = makeRunLayout(path, roots, "logs", runId)

        const runner = yield* collect(RunLogs.runner(layout))
        assert.deepStrictEqual(runner.map((record) => `${record.type}@${record.index}`), [
          "command:start@1", "exec:begin@1", "exec:end@1", "exec:retry@1", "exec:begin@1", "exec:end@1", "command:end@1",
          "command:start@2", "exec:begin@2", "exec:end@2", "command:end@2"
        ])
        const retry = runner.find((record) => record.type === "exec:retry")
        assert(retry?.type === "exec:retry")
        assert.isAtLeast(retry.delay_ms, 40)
        assert.isAtMost(retry.delay_ms, 100)

        assert.deepStrictEqual(yield* RunLogs.stageLogFiles(layout), [layout.stageLog(1, "flaky"), layout.stageLog(2, "talk")])
        const flaky = RunLogs.stage(layout, 1, "flaky")
        assert.strictEqual((yield* collect(RunLogs.output(flaky, "stderr"))).join(""), "first\n")
        assert.strictEqual((yield* collect(RunLogs.output(flaky, "stdout"))).join(""), "second\n")
        const talk = RunLogs.stage(layout, 2, "talk")
        assert.strictEqual((yield* collect(RunLogs.output(talk, "stdout"))).join(""), "a\nb")
        assert.strictEqual((yield* collect(RunLogs.output(talk, "stderr"))).join(""), "oops\n")

        // A write cut short (a crash mid-line) at the end of the file.
        appendFileSync(layout.runnerLog, "{\"type\":\"command:start\",\"comm")
        const torn = yield* Effect.flip(collect(RunLogs.runner(layout)))
        assert(torn._tag === "RunLogLineInvalid")
        assert.strictEqual(torn.path, layout.runnerLog)
        assert.strictEqual(torn.line, 12)
        assert.include(torn.message, `${layout.runnerLog}:12 is not a run log record`)
      }))
    }))
})
