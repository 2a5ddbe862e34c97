/**
 * The stage graph on the test kit (DECISIONS B-2, B-4): scripted 1-second processes and TestClock, so
 * the times in the manifest say what ran at once. Concurrency, locks, a diamond, failures that skip
 * only their dependents, fail-fast, resume, the run tree's shared limit and the critical path.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Option, TestClock } from "effect"
import type { PipelineDefinition } from "../src/domain/Pipeline.js"
import { RunSummary } from "../src/domain/RunSummary.js"
import { AppMemory, type MemoryAppOptions, type ScriptedProcess } from "../src/layers/App.js"
import { RunEngine, type StartRequest } from "../src/services/RunEngine.js"
import { jsonFile } from "./support/files.js"
import { at, commandStage, nestedStage, pipeline } from "./support/pipelines.js"

const second = (name: string): ScriptedProcess => ({ output: [{ stream: "stdout", data: `${name}\n` }], duration: "1 second" })

const scripts = {
  "run a": second("a"),
  "run b": second("b"),
  "run c": second("c"),
  "run d": second("d"),
  "run long": { duration: "5 seconds" },
  "run slow": { duration: "2 seconds" },
  "fail": { output: [{ stream: "stderr", data: "boom\n" }], exitCode: 1, duration: "1 second" }
} satisfies Record<string, ScriptedProcess>

const app = (pipelines: ReadonlyArray<PipelineDefinition>, options: Omit<MemoryAppOptions, "pipelines"> = {}) =>
  AppMemory({ scripts, ...options, pipelines: { user: pipelines } })

const startSettled = (request: StartRequest) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork((yield* RunEngine).start(request))
    yield* TestClock.adjust("1 minute")
    assert.isTrue(Option.isSome(yield* Fiber.poll(fiber)), "the run did not finish within a minute")
    return yield* Fiber.join(fiber)
  })

/** Each entry as `id status started..completed` in seconds of test time. */
const timeline = (commands: ReadonlyArray<{ id: string; status: string; started_at: string | null; completed_at: string | null }>) =>
  commands.map((c) => {
    const s = (t: string | null) => (t === null ? "-" : String(Date.parse(t) / 1000))
    return `${c.id} ${c.status} ${s(c.started_at)}..${s(c.completed_at)}`
  })

const twoIndependent = pipeline("two", [commandStage("a", "run a", { needs: [] }), commandStage("b", "run b", { needs: [] })])

describe("RunEngine: stage graph (B-2)", () => {
  it.effect("two independent 1 s stages end at 1 s with concurrency 2", () =>
    Effect.gen(function*() {
      const { manifest } = yield* startSettled({ pipelineId: "two", concurrency: 2 })
      assert.strictEqual(manifest.status, "succeeded")
      assert.deepStrictEqual(timeline(manifest.commands), ["a succeeded 0..1", "b succeeded 0..1"])
      assert.deepStrictEqual(manifest.commands.map((c) => c.needs), [[], []])
      assert.strictEqual(manifest.completed_at, at(1000))
    }).pipe(Effect.provide(app([twoIndependent]))))

  it.effect("and at 2 s with concurrency 1 (the flag wins over the pipeline's concurrency)", () =>
    Effect.gen(function*() {
      const { manifest } = yield* startSettled({ pipelineId: "two", concurrency: 1 })
      assert.deepStrictEqual(timeline(manifest.commands), ["a succeeded 0..1", "b succeeded 1..2"])
    }).pipe(Effect.provide(app([{ ...twoIndependent, concurrency: 2 }]))))

  it.effect("a graph runs as many stages at once as the host has CPUs by default; a serial pipeline one", () =>
    Effect.gen(function*() {
      const graph = yield* startSettled({ pipelineId: "three" })
      assert.deepStrictEqual(timeline(graph.manifest.commands), ["a succeeded 0..1", "b succeeded 0..1", "c succeeded 1..2"])
      const serial = yield* startSettled({ pipelineId: "serial" })
      // The second run starts after the first one's minute of test time.
      assert.deepStrictEqual(timeline(serial.manifest.commands), ["a succeeded 60..61", "b succeeded 61..62"])
      assert.isUndefined(serial.manifest.commands[0]?.needs, "a serial pipeline's entries keep MAN-2's keys")
    }).pipe(Effect.provide(app([
      pipeline("three", [commandStage("a", "run a", { needs: [] }), commandStage("b", "run b"), commandStage("c", "run c")]),
      pipeline("serial", [commandStage("a", "run a"), commandStage("b", "run b")])
    ], { host: { cpus: 2 } }))))

  it.effect("a lock serialises stages that could run at once", () =>
    Effect.gen(function*() {
      const { manifest } = yield* startSettled({ pipelineId: "locked", concurrency: 4 })
      assert.deepStrictEqual(timeline(manifest.commands), ["a succeeded 0..1", "b succeeded 1..2", "c succeeded 0..1"])
    }).pipe(Effect.provide(app([pipeline("locked", [
      commandStage("a", "run a", { needs: [], lock: "dist" }),
      commandStage("b", "run b", { needs: [], lock: "dist" }),
      commandStage("c", "run c", { needs: [] })
    ])]))))

  it.effect("a diamond starts d only after both b and c; the summary's critical path is a -> c -> d", () =>
    Effect.gen(function*() {
      const { layout, manifest } = yield* startSettled({ pipelineId: "diamond", concurrency: 4 })
      assert.deepStrictEqual(timeline(manifest.commands), [
        "a succeeded 0..1",
        "b succeeded 1..2",
        "c succeeded 1..3",
        "d succeeded 3..4"
      ])
      const summary = yield* jsonFile(RunSummary, layout.runSummary)
      assert.deepStrictEqual(summary.criticalPath, { stages: ["a", "c", "d"], seconds: 4 })
    }).pipe(Effect.provide(app([pipeline("diamond", [
      commandStage("a", "run a", { needs: [] }),
      commandStage("b", "run b", { needs: ["a"] }),
      commandStage("c", "run slow", { needs: ["a"] }),
      commandStage("d", "run d", { needs: ["b", "c"] })
    ])]))))

  it.effect("a failure skips exactly its dependents; independent branches go on; allowFailure counts as done", () =>
    Effect.gen(function*() {
      const { manifest } = yield* startSettled({ pipelineId: "branches", concurrency: 4 })
      assert.strictEqual(manifest.status, "failed")
      assert.deepStrictEqual(timeline(manifest.commands), [
        "x failed 0..1",
        "y skipped -..1",
        "z skipped -..1",
        "soft skipped 0..1",
        "after-soft succeeded 1..2",
        "free succeeded 0..2"
      ])
      assert.deepStrictEqual(manifest.commands.map((c) => c.summary?.split("\n")[0] ?? null).slice(1, 3), [
        "needs x (failed)",
        "needs y (skipped)"
      ])
    }).pipe(Effect.provide(app([pipeline("branches", [
      commandStage("x", "fail", { needs: [] }),
      commandStage("y", "run a", { needs: ["x"] }),
      commandStage("z", "run b", { needs: ["y"] }),
      commandStage("soft", "fail", { needs: [], allowFailure: true }),
      commandStage("after-soft", "run c", { needs: ["soft"] }),
      commandStage("free", "run slow", { needs: [] })
    ])]))))

  it.effect("fail-fast cancels the running siblings at the first failure; the run ends failed", () =>
    Effect.gen(function*() {
      const { manifest } = yield* startSettled({ pipelineId: "fast", concurrency: 4, failFast: true })
      assert.strictEqual(manifest.status, "failed")
      assert.deepStrictEqual(timeline(manifest.commands), [
        "x failed 0..1",
        "long cancelled 0..1",
        "other cancelled 0..1",
        "later pending -..-"
      ])
      assert.strictEqual(manifest.commands[1]?.summary, "Cancelled: x failed (fail-fast).")
    }).pipe(Effect.provide(app([pipeline("fast", [
      commandStage("x", "fail", { needs: [] }),
      commandStage("long", "run long", { needs: [] }),
      commandStage("other", "run long", { needs: [] }),
      commandStage("later", "run a", { needs: ["x"] })
    ])]))))

  it.effect("the pipeline's failFast does the same without the flag", () =>
    Effect.gen(function*() {
      const { manifest } = yield* startSettled({ pipelineId: "fast", concurrency: 2 })
      assert.deepStrictEqual(timeline(manifest.commands), ["x failed 0..1", "long cancelled 0..1"])
    }).pipe(Effect.provide(app([pipeline("fast", [
      commandStage("x", "fail", { needs: [] }),
      commandStage("long", "run long", { needs: [] })
    ], { failFast: true })]))))

  it.effect("the limit is shared by the whole run tree: a nested graph's stages take the parent's slots", () =>
    Effect.gen(function*() {
      const { manifest } = yield* startSettled({ pipelineId: "parent", concurrency: 2 })
      assert.strictEqual(manifest.status, "succeeded")
      // `a` holds one of the two slots for 5 s, so the child's two stages run one after the other.
      assert.deepStrictEqual(timeline(manifest.commands), ["a succeeded 0..5", "child succeeded 0..2"])
    }).pipe(Effect.provide(app([
      pipeline("parent", [commandStage("a", "run long", { needs: [] }), nestedStage("child", "kid", { needs: [] })]),
      pipeline("kid", [commandStage("b", "run b", { needs: [] }), commandStage("c", "run c", { needs: [] })])
    ]))))
})
