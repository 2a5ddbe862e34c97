/**
 * Two prunes of one stage cache at once (DECISIONS B-5) on FilesMemory: each entry is counted by the
 * prune that removed it, so the two reports are disjoint and add up to what went. A gate on the
 * listing of `entries/` lets both prunes list the same entries before either removes one.
 */
import { Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Ref, TestClock } from "effect"
import { cacheFormat, type CacheEntryMeta } from "../src/domain/StageCache.js"
import { EntropySeeded } from "../src/layers/Entropy.js"
import { FilesMemory, InMemoryFiles } from "../src/layers/Files.js"
import { GitMemory } from "../src/layers/Git.js"
import { OrchestratorConfigTest } from "../src/layers/OrchestratorConfig.js"
import { stagingDir } from "../src/layers/internal/cacheEntries.js"
import { StageCacheOnGit } from "../src/layers/StageCache.js"
import { Files } from "../src/services/Files.js"
import { StageCache } from "../src/services/StageCache.js"

const repo = "/repo"
const entries = `${repo}/.runs/.cache/entries`

/** Holds each listing of `entries/`, once made, until `parties` listings are made (0: holds none). */
class ListGate extends Context.Tag("test/ListGate")<ListGate, {
  readonly parties: Ref.Ref<number>
  readonly open: Effect.Latch
}>() {}

const gatedFiles = Layer.effect(
  Files,
  Effect.gen(function*() {
    const files = yield* Files
    const gate = yield* ListGate
    const pass = Effect.flatMap(
      Ref.getAndUpdate(gate.parties, (n) => Math.max(0, n - 1)),
      (n) => (n === 0 ? Effect.void : n === 1 ? gate.open.open : gate.open.await)
    )
    return Files.of({ ...files, list: (dir) => Effect.zipLeft(files.list(dir), dir === entries ? pass : Effect.void) })
  })
)

const app = StageCacheOnGit.pipe(
  Layer.provide(GitMemory({})),
  Layer.provide(gatedFiles),
  Layer.provideMerge(FilesMemory),
  Layer.provideMerge(Layer.effect(ListGate, Effect.all({ parties: Ref.make(0), open: Effect.makeLatch(false) }))),
  Layer.provideMerge(Layer.mergeAll(OrchestratorConfigTest(repo), EntropySeeded(1), Path.layer))
)

/** An entry as a store leaves it (meta.json, log, `used`), of `size` bytes. */
const plantEntry = (key: string, size: number) =>
  Effect.gen(function*() {
    const files = yield* InMemoryFiles
    const meta: CacheEntryMeta = {
      key,
      pipeline_id: "p",
      stage_id: "build",
      task_id: "t",
      from_run: "run-1",
      created_at: "2026-12-07T00:00:00.000Z",
      attempt: 1,
      parts: { format: cacheFormat, version: "0", command: "tsc", cwd: ".", env: {}, inputs: {} },
      outputs: [],
      size
    }
    yield* files.write(`${entries}/${key}/meta.json`, JSON.stringify(meta))
    yield* files.write(`${entries}/${key}/log.ndjson`, "")
    yield* files.write(`${entries}/${key}/used`, `0 ${size}`)
  })

describe("StageCacheLive: two prunes at once (B-5)", () => {
  it.effect("each entry is counted once, by the prune that removed it", () =>
    Effect.gen(function*() {
      yield* plantEntry("a".repeat(64), 100)
      yield* plantEntry("b".repeat(64), 200)
      yield* plantEntry("c".repeat(64), 400)
      const cache = yield* StageCache
      yield* Ref.set((yield* ListGate).parties, 2)
      const [first, second] = yield* Effect.all([cache.prune({ all: true }), cache.prune({ all: true })], { concurrency: 2 })
      assert.deepStrictEqual(
        [first.removed + second.removed, first.freedBytes + second.freedBytes],
        [3, 700],
        `first removed ${first.removed} (${first.freedBytes} bytes), second ${second.removed} (${second.freedBytes} bytes)`
      )
      assert.deepStrictEqual(yield* Effect.flatMap(Files, (files) => files.list(entries)), [])
      assert.deepStrictEqual([first.stats.entries, second.stats.entries], [0, 0])
    }).pipe(Effect.provide(app)))

  it.effect("a prune leaves a store in progress alone and removes what interrupted writes left an hour ago or more", () =>
    Effect.gen(function*() {
      const cache = `${repo}/.runs/.cache`
      const now = Date.UTC(2026, 11, 7, 12)
      yield* TestClock.setTime(now)
      const files = yield* InMemoryFiles
      const writing = stagingDir(cache, "d".repeat(64), now - 60_000, "aaaaaa")
      const interrupted = stagingDir(cache, "e".repeat(64), now - 3 * 3_600_000, "bbbbbb")
      yield* files.write(`${writing}/log.ndjson`, "a store in progress (another run)")
      yield* files.write(`${interrupted}/log.ndjson`, "left by a run killed while storing")
      yield* files.write(`${cache}/tmp/${"f".repeat(64)}.cccccc/log.ndjson`, "left by an earlier version")
      yield* (yield* StageCache).prune({})
      assert.deepStrictEqual(yield* Effect.flatMap(Files, (all) => all.list(`${cache}/tmp`)), [writing.slice(`${cache}/tmp/`.length)])
      yield* (yield* StageCache).prune({ all: true })
      assert.deepStrictEqual(yield* Effect.flatMap(Files, (all) => all.list(`${cache}/tmp`)), [writing.slice(`${cache}/tmp/`.length)])
    }).pipe(Effect.provide(app)))
})
