/**
 * The stage cache in runs (DECISIONS B-5), on the test kit: a hit runs no process, replays the
 * output into the new run's stage log and marks the entry; a failure is not stored; `cache: false`
 * (`--no-cache`) and `CODEX_ORCHESTRATOR_CACHE=off` run every stage. TestClock only.
 */
import { assert, describe, it } from "@effect/vitest"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { ConfigProvider, Effect, Fiber, Layer, Option, TestClock } from "effect"
import * as Cli from "../src/cli/index.js"
import { AppMemory, type ScriptedProcess } from "../src/layers/App.js"
import { InMemoryFiles } from "../src/layers/Files.js"
import { ProcessInvocations } from "../src/layers/ProcessRunner.js"
import { RunEngine, type StartRequest } from "../src/services/RunEngine.js"
import { runCommandLine } from "./support/cliMemory.js"
import { logFile } from "./support/files.js"
import { commandStage, pipeline } from "./support/pipelines.js"

const scripts = {
  "make build": { output: [{ stream: "stdout", data: "built 3 files\n" }], duration: "5 seconds" },
  "make test": { output: [{ stream: "stdout", data: "42 passed\n" }], duration: "5 seconds" },
  "make flaky": { exitCode: 1, output: [{ stream: "stderr", data: "boom\n" }] }
} satisfies Record<string, ScriptedProcess>

const cached = { inputs: ["src/**"], env: ["TARGET"] }
const gate = pipeline("gate", [
  commandStage("build", "make build", { cache: cached }),
  commandStage("test", "make test", { cache: cached }),
  commandStage("lint", "echo uncached")
])
const flaky = pipeline("flaky", [commandStage("flaky", "make flaky", { cache: cached })])
const single = pipeline("single", [commandStage("build", "make build", { cache: cached })])

const app = AppMemory({ scripts: { ...scripts, "echo uncached": { output: [] } }, pipelines: { user: [gate, flaky, single] } })

const run = (request: Omit<StartRequest, "taskId"> = {}) =>
  Effect.gen(function*() {
    const engine = yield* RunEngine
    const fiber = yield* Effect.fork(engine.start({ taskId: "t", pipelineId: "gate", ...request }))
    yield* TestClock.adjust("1 minute")
    assert.isTrue(Option.isSome(yield* Fiber.poll(fiber)), "the run did not finish in time")
    return yield* Fiber.join(fiber)
  })

const invocations = Effect.flatMap(ProcessInvocations, (p) => p.all).pipe(Effect.map((all) => all.map((spec) => spec.command)))

describe("Stage cache in runs (B-5)", () => {
  it.effect("the second run replays both cached stages: no process, output in its own log, entries say hit", () =>
    Effect.gen(function*() {
      const files = yield* InMemoryFiles
      yield* files.write("/repo/src/main.c", "int main() {}\n")
      const { manifest: first } = yield* run()
      assert.deepStrictEqual(first.commands.map((c) => [c.status, c.cache?.hit]), [["succeeded", false], ["succeeded", false], ["succeeded", undefined]])
      const { layout, manifest: second } = yield* run()
      assert.strictEqual(second.status, "succeeded")
      assert.deepStrictEqual(yield* invocations, ["make build", "make test", "echo uncached", "echo uncached"])
      assert.deepStrictEqual(second.commands.map((c) => c.cache), [
        { hit: true, key: first.commands[0]?.cache?.key ?? "?", from_run: first.run_id },
        { hit: true, key: first.commands[1]?.cache?.key ?? "?", from_run: first.run_id },
        undefined
      ])
      assert.deepStrictEqual(second.commands.map((c) => [c.exit_code, c.summary]), [[0, "built 3 files"], [0, "42 passed"], [0, "Command completed with code 0"]])
      const chunks = (yield* logFile(layout.stageLog(1, "build"))).flatMap((e) => e.type === "exec:chunk" ? [e.data] : [])
      assert.deepStrictEqual(chunks, ["built 3 files\n"])

      yield* files.write("/repo/src/main.c", "int main() { return 1; }\n")
      const { manifest: third } = yield* run()
      assert.deepStrictEqual(third.commands.map((c) => [c.cache?.hit, c.cache?.changed]), [
        [false, ["input src/main.c changed"]],
        [false, ["input src/main.c changed"]],
        [undefined, undefined]
      ])
    }).pipe(Effect.provide(app)))

  it.effect("a failed stage is not stored: it runs again", () =>
    Effect.gen(function*() {
      yield* run({ pipelineId: "flaky" })
      const { manifest: again } = yield* run({ pipelineId: "flaky" })
      assert.strictEqual(again.commands[0]?.cache?.hit, false)
      assert.deepStrictEqual(yield* invocations, ["make flaky", "make flaky"])
    }).pipe(Effect.provide(app)))

  it.effect("cache: false (--no-cache) runs every stage and stores nothing", () =>
    Effect.gen(function*() {
      yield* run({ cache: false })
      const { manifest: second } = yield* run()
      assert.deepStrictEqual(second.commands.map((c) => c.cache?.hit), [false, false, undefined], "nothing was stored")
      yield* run({ cache: false })
      assert.strictEqual((yield* invocations).filter((c) => c === "make build").length, 3)
    }).pipe(Effect.provide(app)))

  it.effect("resume with cache: false (resume --no-cache) leaves no earlier cache outcome on the re-run entry", () =>
    Effect.gen(function*() {
      const { manifest: first } = yield* run()
      assert.strictEqual(first.commands[0]?.cache?.hit, false)
      const engine = yield* RunEngine
      const fiber = yield* Effect.fork(engine.resume({ taskId: "t", runId: first.run_id, target: "build", cache: false }))
      yield* TestClock.adjust("1 minute")
      const { manifest: resumed } = yield* Fiber.join(fiber)
      assert.deepStrictEqual(yield* invocations, ["make build", "make test", "echo uncached", "make build"], "build ran again")
      assert.deepStrictEqual(resumed.commands.map((c) => [c.status, c.cache?.hit]), [
        ["succeeded", undefined],
        ["succeeded", false],
        ["succeeded", undefined]
      ])
    }).pipe(Effect.provide(app)))

  it.effect("CODEX_ORCHESTRATOR_CACHE=off turns it off: no cache in the entries", () =>
    Effect.gen(function*() {
      yield* run()
      const { manifest: second } = yield* run()
      assert.deepStrictEqual(second.commands.map((c) => c.cache), [undefined, undefined, undefined])
      assert.strictEqual((yield* invocations).filter((c) => c === "make build").length, 2)
    }).pipe(
      Effect.provide(app),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["CODEX_ORCHESTRATOR_CACHE", "off"]]), { pathDelim: "_" }))
    ))

  it.effect("cache prune says how many entries it removed: 1 entry, 2 entries", () =>
    Effect.gen(function*() {
      const prune = Effect.map(runCommandLine(Cli.rootCommandOn("orch", Layer.empty), ["cache", "prune", "--all"]), (result) => {
        assert.strictEqual(result.code, 0, result.stderr)
        return result.stdout.split("\n")[0] ?? ""
      })
      yield* run({ pipelineId: "single" })
      assert.match(yield* prune, /^Removed 1 entry \([^)]+\)\.$/)
      yield* run()
      assert.match(yield* prune, /^Removed 2 entries \([^)]+\)\.$/)
    }).pipe(Effect.provide(app), Effect.provide(NodeContext.layer)))
})
