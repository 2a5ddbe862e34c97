/**
 * TF-GRPO (SPEC TFG-1..4, PER-4): the context, the tool-metric and token math, the order and format
 * of top experiences, and the ExperienceStore (Live on in-memory files, TestClock for the lock's
 * backoff; and the Memory layer).
 */
import { Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Fiber, Layer, Option, Stream, TestClock } from "effect"
import {
  costUsdOf,
  type Experience,
  experienceIdOf,
  experienceOf,
  experiencePackOf,
  formatExperience,
  initialTfgrpoSection,
  insertTop,
  limitWords,
  makeStdoutObserver,
  type TfgrpoSection,
  tfgrpoContextOf,
  type ToolMetric,
  toolMetricsOf,
  withExperiences,
  withToolMetric
} from "../src/domain/Tfgrpo.js"
import { ExperienceStoreLive, ExperienceStoreMemory } from "../src/layers/ExperienceStore.js"
import { FilesMemory, InMemoryFiles } from "../src/layers/Files.js"
import { HostMemory } from "../src/layers/Host.js"
import { OrchestratorConfigTest } from "../src/layers/OrchestratorConfig.js"
import { ExperienceStore } from "../src/services/ExperienceStore.js"
import { Files } from "../src/services/Files.js"
import { listFiles } from "./support/files.js"
import { withLogs } from "./support/logs.js"

const encoder = new TextEncoder()

const metric = (tool: string, tokens: number, latencyMs = 10): ToolMetric => ({
  tool,
  tokens,
  costUsd: costUsdOf(tokens),
  latencyMs,
  attempts: 1,
  status: "succeeded",
  sandboxState: "sandboxed"
})

const experience = (id: string, overrides: Partial<Experience> = {}): Experience => ({
  id,
  runId: `run-${id}`,
  taskId: "t",
  epoch: 1,
  groupId: "g1",
  summary32: `summary of ${id}`,
  reward: { gtScore: 0, relativeRank: 0 },
  toolStats: [metric("build", 3)],
  stampSignature: "a".repeat(64),
  domain: "implementation",
  createdAt: "2026-01-01T00:00:00.000Z",
  manifestPath: `.runs/t/cli/run-${id}/manifest.json`,
  ...overrides
})

describe("TF-GRPO context (TFG-1)", () => {
  it("is active when any variable is set, and off when none is", () => {
    assert.deepStrictEqual(tfgrpoContextOf({ epoch: undefined, groupId: undefined, groupSize: undefined }), Either.right(undefined))
    assert.deepStrictEqual(
      tfgrpoContextOf({ epoch: 2, groupId: undefined, groupSize: undefined }),
      Either.right({ epoch: 2, groupId: null, groupSize: null })
    )
    assert.deepStrictEqual(
      tfgrpoContextOf({ epoch: undefined, groupId: "g1", groupSize: 3 }),
      Either.right({ epoch: null, groupId: "g1", groupSize: 3 })
    )
  })

  it("a resumed run keeps what its manifest recorded for variables no longer set", () => {
    const recorded: TfgrpoSection = initialTfgrpoSection({ epoch: 3, groupId: "g7", groupSize: 2 })
    assert.deepStrictEqual(
      tfgrpoContextOf({ epoch: undefined, groupId: undefined, groupSize: undefined }, recorded),
      Either.right({ epoch: 3, groupId: "g7", groupSize: 2 })
    )
    assert.deepStrictEqual(
      tfgrpoContextOf({ epoch: 4, groupId: undefined, groupSize: undefined }, recorded),
      Either.right({ epoch: 4, groupId: "g7", groupSize: 2 })
    )
  })
})

describe("tool metrics and tokens (TFG-2)", () => {
  it("counts whitespace-separated words as they stream, a word split across chunks once", () => {
    const observer = makeStdoutObserver()
    for (const chunk of ["hello wo", "rld\n", "  two\tthree\r\n", "", "four"]) observer.push(encoder.encode(chunk))
    assert.strictEqual(observer.tokens(), 5)
    assert.deepStrictEqual(observer.head(), ["hello world", "two\tthree"])
  })

  it("keeps only the first two non-blank lines, bounded, whatever follows", () => {
    const observer = makeStdoutObserver()
    observer.push(encoder.encode("\n\n first line \n"))
    observer.push(encoder.encode("second\nthird\n"))
    observer.push(encoder.encode("x ".repeat(100_000)))
    assert.deepStrictEqual(observer.head(), ["first line", "second"])
    assert.strictEqual(observer.tokens(), 4 + 100_000)
  })

  it("a multi-byte character split across chunks is decoded whole", () => {
    const bytes = encoder.encode("héllo wörld\n")
    const observer = makeStdoutObserver()
    observer.push(bytes.subarray(0, 2))
    observer.push(bytes.subarray(2))
    assert.deepStrictEqual(observer.head(), ["héllo wörld"])
    assert.strictEqual(observer.tokens(), 2)
  })

  it("costs 0.000002 USD a token, to 6 decimal places; totals add up", () => {
    assert.strictEqual(costUsdOf(0), 0)
    assert.strictEqual(costUsdOf(2), 0.000004)
    assert.strictEqual(costUsdOf(1_234_567), 2.469134)
    assert.deepStrictEqual(toolMetricsOf([metric("a", 1, 5), metric("b", 2, 7)]), {
      tool_calls: 2,
      token_total: 3,
      cost_usd: 0.000006,
      latency_ms: 12,
      per_tool: [metric("a", 1, 5), metric("b", 2, 7)]
    })
  })

  it("one metric per tool: a stage that runs again replaces its metric in place", () => {
    const section = [metric("a", 1), metric("b", 2), metric("a", 10)].reduce(
      withToolMetric,
      initialTfgrpoSection({ epoch: 1, groupId: "g1", groupSize: null })
    )
    assert.deepStrictEqual(section.tool_metrics.per_tool.map((m) => [m.tool, m.tokens]), [["a", 10], ["b", 2]])
    assert.strictEqual(section.tool_metrics.token_total, 12)
    assert.strictEqual(section.tool_metrics.tool_calls, 2)
  })

  it("experiences accumulate ids and the written count", () => {
    const once = withExperiences(initialTfgrpoSection({ epoch: 1, groupId: null, groupSize: null }), ["exp-1"], "m.json")
    const twice = withExperiences(withExperiences(once, [], "m.json"), ["exp-2"], "m.json")
    assert.deepStrictEqual(twice.experiences, { ids: ["exp-1", "exp-2"], written: 2, manifest_path: "m.json" })
  })
})

describe("experiences (TFG-3, TFG-4)", () => {
  it("an experience: id, the first two stdout lines word-limited, zero reward, the first pack's stamp and domain", () => {
    const id = experienceIdOf(1_700_000_000_000, "0a1b2c")
    assert.strictEqual(id, "exp-loyw3v28-0a1b2c")
    const made = experienceOf({
      id,
      runId: "r",
      taskId: "t",
      context: { epoch: 2, groupId: "g", groupSize: null },
      stdoutLines: ["one two three", "four five", "six"],
      maxWords: 4,
      toolStats: [metric("build", 5)],
      pack: { domain: "implementation", stamp: "f".repeat(64) },
      createdAt: "2026-01-01T00:00:00.000Z",
      manifestPath: "m.json"
    })
    assert.strictEqual(made.summary32, "one two three four")
    assert.deepStrictEqual(made.reward, { gtScore: 0, relativeRank: 0 })
    assert.strictEqual(made.stampSignature, "f".repeat(64))
    assert.strictEqual(made.domain, "implementation")
    assert.strictEqual(made.epoch, 2)
  })

  it("only a first pack with a domain and a stamp makes a run write one", () => {
    assert.isUndefined(experiencePackOf([]))
    assert.isUndefined(experiencePackOf([{ domain: "", stamp: "s" }]))
    assert.deepStrictEqual(experiencePackOf([{ domain: "d", stamp: "s" }, { domain: "e", stamp: "t" }]), { domain: "d", stamp: "s" })
  })

  it("top: same domain and task, score descending, then newest first; at most `limit`", () => {
    const all = [
      experience("old-high", { reward: { gtScore: 1, relativeRank: 0.5 }, createdAt: "2026-01-01T00:00:00.000Z" }),
      experience("new-low", { createdAt: "2026-01-03T00:00:00.000Z" }),
      experience("mid-low", { createdAt: "2026-01-02T00:00:00.000Z" }),
      experience("other-domain", { domain: "review", reward: { gtScore: 9, relativeRank: 0 } }),
      experience("other-task", { taskId: "u", reward: { gtScore: 9, relativeRank: 0 } }),
      experience("new-high", { reward: { gtScore: 0.5, relativeRank: 1 }, createdAt: "2026-01-04T00:00:00.000Z" })
    ]
    const top = (limit: number) =>
      all.reduce<ReadonlyArray<Experience>>((acc, e) => insertTop(acc, e, { taskId: "t", domain: "implementation", limit }), [])
    assert.deepStrictEqual(top(10).map((e) => e.id), ["new-high", "old-high", "new-low", "mid-low"])
    assert.deepStrictEqual(top(2).map((e) => e.id), ["new-high", "old-high"])
    assert.deepStrictEqual(top(0), [])
  })

  it("top: of two with the same score and time, the one appended later comes first", () => {
    const top = [experience("first"), experience("second")].reduce<ReadonlyArray<Experience>>(
      (acc, e) => insertTop(acc, e, { taskId: "t", domain: "implementation", limit: 2 }),
      []
    )
    assert.deepStrictEqual(top.map((e) => e.id), ["second", "first"])
  })

  it("format: [exp <id> | epoch <e|n/a> | reward <2dp>] <summary> (stats: <tool>: <tokens>t/<3dp>usd/<ms>ms; ...)", () => {
    const e = experience("exp-1", {
      summary32: "built the thing and tested it",
      reward: { gtScore: 0.5, relativeRank: 0.25 },
      toolStats: [metric("build", 1500, 42), metric("test", 3, 7)]
    })
    assert.strictEqual(
      formatExperience(e, 32),
      "[exp exp-1 | epoch 1 | reward 0.75] built the thing and tested it (stats: build: 1500t/0.003usd/42ms; test: 3t/0.000usd/7ms)"
    )
    assert.strictEqual(
      formatExperience({ ...e, epoch: null, toolStats: [] }, 3),
      "[exp exp-1 | epoch n/a | reward 0.75] built the thing (stats: none)"
    )
    assert.strictEqual(formatExperience({ ...e, summary32: "" }, 3).startsWith("[exp exp-1 | epoch 1 | reward 0.75] (stats:"), true)
    assert.strictEqual(limitWords("  a  b\tc\nd ", 3), "a b c")
  })
})

// ---------------------------------------------------------------------------------------------
// The store

const experiencesPath = "/repo/out/t/experiences.jsonl"
const lockPath = "/repo/.runs/t.experiences.lock"

const liveStore = ExperienceStoreLive.pipe(
  Layer.provideMerge(Layer.mergeAll(FilesMemory, HostMemory(), OrchestratorConfigTest("/repo"), Path.layer))
)

const plant = (path: string, text: string) => Effect.flatMap(InMemoryFiles, (files) => files.write(path, text))
const fileAt = (path: string) => Effect.flatMap(InMemoryFiles, (files) => files.read(path))

describe("ExperienceStoreLive (PER-4)", () => {
  it.effect("appends one JSON line per experience to out/<task>/experiences.jsonl and reads them back in order", () =>
    Effect.gen(function*() {
      const store = yield* ExperienceStore
      yield* store.append("t", [experience("a")])
      yield* store.append("t", [experience("b"), experience("c")])
      const text = yield* fileAt(experiencesPath)
      assert.strictEqual(text?.split("\n").filter((l) => l.length > 0).length, 3)
      assert.isTrue(text?.endsWith("\n"))
      const read = yield* Stream.runCollect(store.read("t"))
      assert.deepStrictEqual([...read], [experience("a"), experience("b"), experience("c")])
      assert.deepStrictEqual([...(yield* Stream.runCollect(store.read("other")))], [], "another task has none")
      assert.isFalse((yield* listFiles).includes(lockPath), "the lock is released")
    }).pipe(Effect.provide(liveStore)))

  it.effect("a damaged line is skipped with a warning; the rest still count", () =>
    Effect.gen(function*() {
      const store = yield* ExperienceStore
      yield* store.append("t", [experience("a")])
      const before = (yield* fileAt(experiencesPath)) ?? ""
      yield* plant(experiencesPath, `${before}{"torn": \n`)
      yield* store.append("t", [experience("b")])
      const [top, logs] = yield* withLogs(store.top({ taskId: "t", domain: "implementation", limit: 5 }))
      assert.deepStrictEqual(top.map((e) => e.id), ["b", "a"])
      assert.deepStrictEqual(logs.filter(([level]) => level === "WARN").map(([, m]) => m), [
        `${experiencesPath}:2 is not an experience record; skipped.`
      ])
    }).pipe(Effect.provide(liveStore)))

  it.effect("a last record cut short before its newline is not glued to the next one: both are read", () =>
    Effect.gen(function*() {
      const store = yield* ExperienceStore
      yield* store.append("t", [experience("a")])
      yield* plant(experiencesPath, ((yield* fileAt(experiencesPath)) ?? "").replace(/\n$/, ""))
      yield* store.append("t", [experience("b")])
      assert.deepStrictEqual([...(yield* Stream.runCollect(store.read("t")))].map((e) => e.id), ["a", "b"])
    }).pipe(Effect.provide(liveStore)))

  it.effect("a held lock is retried 100/200/400/800 ms (PER-3 defaults), then ExperienceLockBusy; nothing is appended", () =>
    Effect.gen(function*() {
      const store = yield* ExperienceStore
      yield* plant(lockPath, "4242@elsewhere\n")
      const fiber = yield* Effect.fork(Effect.flip(store.append("t", [experience("a")])))
      yield* TestClock.adjust(1499)
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "still retrying before 1500 ms")
      yield* TestClock.adjust(1)
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "ExperienceLockBusy")
      assert(error._tag === "ExperienceLockBusy")
      assert.strictEqual(error.attempts, 5)
      assert.strictEqual(error.lockPath, lockPath)
      assert.isTrue(error.message.startsWith("Failed to acquire experience store lock for t after 5 attempts"))
      // The holder is named, and nobody is told to delete a lock another run may hold (issue 16 item 17).
      assert.strictEqual(error.holder, "4242@elsewhere")
      assert.include(error.message, "held by 4242@elsewhere")
      assert.notMatch(error.message, /delete/i)
      assert.isUndefined(yield* fileAt(experiencesPath))
      assert.strictEqual(yield* fileAt(lockPath), "4242@elsewhere\n", "someone else's lock is left alone")
    }).pipe(Effect.provide(liveStore)))

  it.effect("a lock older than 5 minutes was left by a process that stopped: it is removed and the append goes on", () =>
    Effect.gen(function*() {
      const store = yield* ExperienceStore
      yield* plant(lockPath, "4242@elsewhere\n")
      yield* TestClock.adjust("6 minutes")
      yield* store.append("t", [experience("a")])
      assert.deepStrictEqual([...(yield* Stream.runCollect(store.read("t")))].map((e) => e.id), ["a"])
      assert.isUndefined(yield* fileAt(lockPath))
    }).pipe(Effect.provide(liveStore)))

  it.effect("a lock released during the backoff is taken by the next attempt", () =>
    Effect.gen(function*() {
      const store = yield* ExperienceStore
      const files = yield* Files
      yield* plant(lockPath, "4242@elsewhere\n")
      const fiber = yield* Effect.fork(store.append("t", [experience("a")]))
      yield* TestClock.adjust(250) // attempts at 0 and 100 ms found it held; the next is at 300 ms
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* files.remove(lockPath)
      yield* TestClock.adjust(50)
      yield* Fiber.join(fiber)
      assert.deepStrictEqual([...(yield* Stream.runCollect(store.read("t")))].map((e) => e.id), ["a"])
      assert.isFalse((yield* listFiles).includes(lockPath))
    }).pipe(Effect.provide(liveStore)))
})

describe("ExperienceStoreMemory", () => {
  it.effect("the same contract: append, read back in order, top", () =>
    Effect.gen(function*() {
      const store = yield* ExperienceStore
      yield* store.append("t", [experience("a"), experience("b", { reward: { gtScore: 1, relativeRank: 0 } })])
      assert.deepStrictEqual([...(yield* Stream.runCollect(store.read("t")))].map((e) => e.id), ["seeded", "a", "b"])
      assert.deepStrictEqual((yield* store.top({ taskId: "t", domain: "implementation", limit: 2 })).map((e) => e.id), ["b", "a"])
    }).pipe(Effect.provide(ExperienceStoreMemory({ t: [JSON.stringify(experience("seeded", { createdAt: "2025-01-01T00:00:00.000Z" }))] }))))
})
