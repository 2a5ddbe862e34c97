/**
 * The stage cache (DECISIONS B-5) on in-memory layers: StageCacheMemory (entries in its own memory)
 * and StageCacheLive over FilesMemory (entries as files, so a test can damage one), TestClock only.
 */
import { Path } from "@effect/platform"
import { createHash } from "node:crypto"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, ConfigProvider, Context, Effect, Layer, Ref, Stream, TestClock } from "effect"
import type { CacheSpec } from "../src/domain/StageCache.js"
import { EntropySeeded } from "../src/layers/Entropy.js"
import { FilesMemory, InMemoryFiles } from "../src/layers/Files.js"
import { OrchestratorConfigTest } from "../src/layers/OrchestratorConfig.js"
import { GitMemory } from "../src/layers/Git.js"
import { StageCacheMemory, StageCacheOnGit } from "../src/layers/StageCache.js"
import { Files } from "../src/services/Files.js"
import { type CacheLookup, type CacheProbe, StageCache } from "../src/services/StageCache.js"

const repo = "/repo"
const cacheDir = `${repo}/.runs/.cache`
const logPath = `${repo}/.runs/t/cli/run-1/commands/01-build.ndjson`

const spec: CacheSpec = { inputs: ["src/**/*.ts"], env: ["MODE"], outputs: ["dist/**"] }
const probe = (overrides: Partial<CacheProbe> = {}): CacheProbe => ({
  pipelineId: "p",
  taskId: "t",
  stageId: "build",
  command: "tsc",
  cwd: repo,
  env: { MODE: "release" },
  spec,
  ...overrides
})

const chunkLine = (attempt: number, stream: "stdout" | "stderr", data: string) =>
  JSON.stringify({ type: "exec:chunk", correlation_id: "c", attempt, stream, sequence: 1, bytes: data.length, data, timestamp: "t", index: 1 })

/** A stage that ran: its input, its output file and its log (attempt 1 failed, attempt 2 counted). */
const ranStage = Effect.gen(function*() {
  const files = yield* InMemoryFiles
  yield* files.write(`${repo}/src/a.ts`, "export const a = 1\n")
  yield* files.write(`${repo}/src/lib/b.ts`, "export const b = 2\n")
  yield* files.write(`${repo}/src/readme.md`, "not an input\n")
  yield* files.write(`${repo}/dist/a.js`, "exports.a = 1\n")
  yield* files.write(logPath, [
    JSON.stringify({ type: "command:start", command: "tsc", timestamp: "t", index: 1 }),
    chunkLine(1, "stdout", "first try\n"),
    chunkLine(2, "stdout", "compiled 2 files\n"),
    chunkLine(2, "stderr", "a warning\n")
  ].join("\n") + "\n")
})

const lookupOf = (overrides: Partial<CacheProbe> = {}) => Effect.flatMap(StageCache, (cache) => cache.lookup(probe(overrides)))

const storeRun = (lookup: CacheLookup, runId = "run-1") =>
  Effect.flatMap(StageCache, (cache) =>
    lookup._tag === "Off" ? Effect.dieMessage("cache is off") : cache.store(lookup.key, { runId, logPath, attempt: 2 }))

const replayed = (lookup: CacheLookup) =>
  Effect.gen(function*() {
    if (lookup._tag !== "Hit") return assert.fail(`expected a hit, got ${lookup._tag}`)
    const chunks = yield* Effect.flatMap(StageCache, (cache) => cache.restore(lookup))
    return Chunk.toReadonlyArray(yield* Stream.runCollect(chunks))
  })

const base = Layer.mergeAll(OrchestratorConfigTest(repo), EntropySeeded(1), Path.layer)
const memoryApp = (options: Parameters<typeof StageCacheMemory>[0] = {}) =>
  StageCacheMemory(options).pipe(Layer.provideMerge(FilesMemory), Layer.provideMerge(base))
const liveOnMemoryFiles = StageCacheOnGit.pipe(Layer.provide(GitMemory({})), Layer.provideMerge(FilesMemory), Layer.provideMerge(base))

/** The same behaviour from both layers. */
const layers = [["StageCacheMemory", memoryApp()], ["StageCacheLive on FilesMemory", liveOnMemoryFiles]] as const

for (const [name, layer] of layers) {
  describe(`${name} (B-5)`, () => {
    it.effect("misses, stores a successful stage, then hits: outputs restored, the counted attempt's output replayed", () =>
      Effect.gen(function*() {
        yield* ranStage
        const first = yield* lookupOf()
        assert.strictEqual(first._tag, "Miss")
        assert.deepStrictEqual(first._tag === "Miss" ? [first.stored, first.changed] : [], [false, []])
        assert.deepStrictEqual(first._tag === "Miss" ? Object.keys(first.key.parts.inputs) : [], ["src/a.ts", "src/lib/b.ts"])
        yield* storeRun(first)

        const files = yield* Files
        yield* files.remove(`${repo}/dist/a.js`)
        const second = yield* lookupOf()
        assert.strictEqual(second._tag, "Hit")
        assert.strictEqual(second._tag === "Hit" ? second.meta.from_run : "", "run-1")
        assert.strictEqual(second._tag === "Hit" && first._tag === "Miss" ? second.key.key : "", first._tag === "Miss" ? first.key.key : "?")
        assert.deepStrictEqual(yield* replayed(second), [
          { stream: "stdout", text: "compiled 2 files\n" },
          { stream: "stderr", text: "a warning\n" }
        ])
        assert.strictEqual(yield* files.readText(`${repo}/dist/a.js`), "exports.a = 1\n")
      }).pipe(Effect.provide(layer)))

    it.effect("a log and an input over 1 MiB are streamed: the same replay, and git's blob ids either way", () =>
      Effect.gen(function*() {
        yield* ranStage
        const files = yield* InMemoryFiles
        // Past the whole-read limit (1 MiB): the log is read line by line, the input hashed as a stream.
        const big = "x".repeat(600 * 1024)
        yield* files.write(logPath, [chunkLine(2, "stdout", `${big}\n`), chunkLine(1, "stdout", "old\n"), chunkLine(2, "stderr", `${big}!`)].join("\n") + "\n")
        yield* files.write(`${repo}/src/big.ts`, `${big}${big}`)
        const first = yield* lookupOf()
        const blobId = (text: string) => createHash("sha1").update(`blob ${Buffer.byteLength(text)}\u0000${text}`).digest("hex")
        assert.deepStrictEqual(first._tag === "Miss" ? first.key.parts.inputs : {}, {
          "src/a.ts": blobId("export const a = 1\n"),
          "src/big.ts": blobId(`${big}${big}`),
          "src/lib/b.ts": blobId("export const b = 2\n")
        })
        yield* storeRun(first)
        assert.deepStrictEqual(yield* replayed(yield* lookupOf()), [
          { stream: "stdout", text: `${big}\n` },
          { stream: "stderr", text: `${big}!` }
        ])
      }).pipe(Effect.provide(layer)))

    it.effect("an input's change, a new input, the command and an env value each miss, and say what changed", () =>
      Effect.gen(function*() {
        yield* ranStage
        yield* storeRun(yield* lookupOf())
        const files = yield* InMemoryFiles
        yield* files.write(`${repo}/src/a.ts`, "export const a = 2\n")
        const changed = yield* lookupOf()
        assert.deepStrictEqual(changed._tag === "Miss" ? changed.changed : [], ["input src/a.ts changed"])
        yield* files.write(`${repo}/src/a.ts`, "export const a = 1\n")
        assert.strictEqual((yield* lookupOf())._tag, "Hit", "the same content hits again")

        yield* files.write(`${repo}/src/new.ts`, "x\n")
        const added = yield* lookupOf({ command: "tsc -b", env: { MODE: "debug" } })
        assert.deepStrictEqual(added._tag === "Miss" ? added.changed : [], ["command", "env MODE changed", "input src/new.ts added"])
        yield* files.write(`${repo}/src/readme.md`, "edited, but no glob matches it\n")
        yield* Effect.flatMap(Files, (f) => f.remove(`${repo}/src/new.ts`))
        assert.strictEqual((yield* lookupOf())._tag, "Hit", "a file no glob matches is not an input")
      }).pipe(Effect.provide(layer)))

    it.effect("env values are in the key only as keyed hashes: not the value, not its plain hash", () =>
      Effect.gen(function*() {
        yield* ranStage
        const secret = "s3cr3t-token-value"
        const lookup = yield* lookupOf({ env: { MODE: secret } })
        if (lookup._tag !== "Miss") return assert.fail("expected a miss")
        const { createHash } = yield* Effect.promise(() => import("node:crypto"))
        const plain = [secret, `MODE=${secret}`].map((text) => createHash("sha256").update(text).digest("hex"))
        const everything = JSON.stringify(lookup.key.parts) + lookup.key.key
        assert.notInclude(everything, secret)
        for (const hash of plain) assert.notInclude(everything, hash)
        const other = yield* lookupOf({ env: { MODE: `${secret}!` } })
        assert.notStrictEqual(other._tag === "Miss" ? other.key.key : "", lookup.key.key, "another value is another key")
        const unset = yield* lookupOf({ env: {} })
        const empty = yield* lookupOf({ env: { MODE: "" } })
        assert.notStrictEqual(unset._tag === "Miss" ? unset.key.key : "u", empty._tag === "Miss" ? empty.key.key : "e", "unset differs from empty")
      }).pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(), { pathDelim: "_" })), Effect.provide(layer)))

    it.effect("a failed run is never stored; a bypassed or switched-off cache says Off", () =>
      Effect.gen(function*() {
        yield* ranStage
        assert.strictEqual((yield* lookupOf({ spec: { inputs: [] } }))._tag, "Miss")
        const { cacheBypassed } = yield* Effect.promise(() => import("../src/services/StageCache.js"))
        assert.strictEqual((yield* Effect.locally(lookupOf(), cacheBypassed, true))._tag, "Off")
      }).pipe(Effect.provide(layer)))
  })
}

const entryKey = Effect.gen(function*() {
  const lookup = yield* lookupOf()
  return lookup._tag === "Off" ? "" : lookup.key.key
})

describe("StageCacheLive on FilesMemory: damage and eviction (B-5)", () => {
  it.effect("a damaged entry is a miss with a warning, and the next store replaces it", () =>
    Effect.gen(function*() {
      yield* ranStage
      yield* storeRun(yield* lookupOf())
      const key = yield* entryKey
      const files = yield* InMemoryFiles
      yield* files.write(`${cacheDir}/entries/${key}/meta.json`, "{ not json")
      const damaged = yield* lookupOf()
      assert.strictEqual(damaged._tag, "Miss")
      yield* storeRun(damaged, "run-2")
      const hit = yield* lookupOf()
      assert.strictEqual(hit._tag === "Hit" ? hit.meta.from_run : "none", "run-2")

      // An output missing from the entry: a miss too, never a failure.
      yield* Effect.flatMap(Files, (f) => f.remove(`${cacheDir}/entries/${key}/outputs/dist/a.js`))
      assert.strictEqual((yield* lookupOf())._tag, "Miss")
    }).pipe(Effect.provide(liveOnMemoryFiles)))

  for (const size of ["small", "over 1 MiB"] as const) {
    it.effect(`a torn line in a recorded log (${size}) fails the replay as a damaged entry`, () =>
      Effect.gen(function*() {
        yield* ranStage
        yield* storeRun(yield* lookupOf())
        const key = yield* entryKey
        const files = yield* InMemoryFiles
        const padding = size === "small" ? "" : `${chunkLine(1, "stdout", "x".repeat(1100 * 1024))}\n`
        yield* files.write(`${cacheDir}/entries/${key}/log.ndjson`, `${padding}{"type":"exec:chunk","attempt":2,"stream":"std\n`)
        const hit = yield* lookupOf()
        assert.strictEqual(hit._tag, "Hit")
        if (hit._tag !== "Hit") return
        const chunks = yield* Effect.flatMap(StageCache, (cache) => cache.restore(hit))
        const error = yield* Effect.flip(Stream.runDrain(chunks))
        assert.strictEqual(error._tag, "CacheEntryDamaged")
        assert.include(error.message, "not an output chunk")
      }).pipe(Effect.provide(liveOnMemoryFiles)))
  }

  it.effect("over its size bound, the least recently used entries go first", () =>
    Effect.gen(function*() {
      yield* ranStage
      const files = yield* InMemoryFiles
      const keys: Array<string> = []
      for (const version of ["1", "2", "3"]) {
        yield* files.write(`${repo}/src/a.ts`, `export const a = ${version}\n`)
        const lookup = yield* lookupOf()
        yield* storeRun(lookup, `run-${version}`)
        keys.push(lookup._tag === "Off" ? "" : lookup.key.key)
        yield* TestClock.adjust("1 minute")
        if (version === "2") {
          // Entry 1 answers again: entry 2 is now the least recently used.
          yield* files.write(`${repo}/src/a.ts`, "export const a = 1\n")
          assert.strictEqual((yield* replayed(yield* lookupOf())).length, 2)
          yield* TestClock.adjust("1 minute")
        }
      }
      const cache = yield* StageCache
      const entries = yield* Effect.flatMap(Files, (f) => f.list(`${cacheDir}/entries`))
      assert.deepStrictEqual([...entries].sort(), [keys[0], keys[2]].sort(), "entry 2 was evicted")
      const stats = yield* cache.stats
      assert.strictEqual(stats.entries, 2)
      assert.isAtMost(stats.bytes, stats.maxBytes)
      const pruned = yield* cache.prune({ all: true })
      assert.deepStrictEqual([pruned.removed, pruned.stats.entries], [2, 0])
    }).pipe(
      Effect.provide(liveOnMemoryFiles),
      // Each entry is ~540 bytes (log and output): two fit, three do not.
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["CODEX_ORCHESTRATOR_CACHE_MAX_SIZE", "1200"]]), { pathDelim: "_" }))
    ))
})

/** Every path the cache read through Files.readText, to show what a store looks at. */
class ReadPaths extends Context.Tag("test/ReadPaths")<ReadPaths, Ref.Ref<ReadonlyArray<string>>>() {}
const recordingReads = Layer.effect(
  Files,
  Effect.gen(function*() {
    const files = yield* Files
    const reads = yield* ReadPaths
    return Files.of({ ...files, readText: (path) => Effect.zipRight(Ref.update(reads, (all) => [...all, path]), files.readText(path)) })
  })
)
const recordedApp = StageCacheOnGit.pipe(
  Layer.provide(GitMemory({})),
  Layer.provide(recordingReads),
  Layer.provideMerge(FilesMemory),
  Layer.provideMerge(Layer.effect(ReadPaths, Ref.make<ReadonlyArray<string>>([]))),
  Layer.provideMerge(base)
)

describe("StageCacheLive's eviction after a store (B-5)", () => {
  it.effect("a store within the bound reads no other entry's files; the first store of a process reads `used`, never meta.json", () =>
    Effect.gen(function*() {
      yield* ranStage
      const files = yield* InMemoryFiles
      const reads = yield* ReadPaths
      const storeVersion = (version: number) =>
        Effect.gen(function*() {
          yield* files.write(`${repo}/src/a.ts`, `export const a = ${version}\n`)
          const lookup = yield* lookupOf()
          yield* Ref.set(reads, [])
          yield* storeRun(lookup, `run-${version}`)
          return { key: lookup._tag === "Off" ? "" : lookup.key.key, reads: yield* Ref.get(reads) }
        })
      const first = yield* storeVersion(1)
      const second = yield* storeVersion(2)
      const entryReads = (all: ReadonlyArray<string>, own: string) =>
        all.filter((path) => path.startsWith(`${cacheDir}/entries/`) && !path.startsWith(`${cacheDir}/entries/${own}/`))
      assert.deepStrictEqual(entryReads(first.reads, first.key), [], "an empty cache: nothing else to read")
      assert.deepStrictEqual(entryReads(second.reads, second.key), [], "within the bound: no other entry read")
      const third = yield* storeVersion(3)
      assert.deepStrictEqual(entryReads(third.reads, third.key), [])
      assert.strictEqual((yield* Effect.flatMap(Files, (f) => f.list(`${cacheDir}/entries`))).length, 3)
    }).pipe(Effect.provide(recordedApp)))

  it.effect("over the bound, only the entries' `used` files are read (each holds the entry's size)", () =>
    Effect.gen(function*() {
      yield* ranStage
      const files = yield* InMemoryFiles
      const reads = yield* ReadPaths
      for (const version of [1, 2, 3]) {
        yield* files.write(`${repo}/src/a.ts`, `export const a = ${version}\n`)
        const lookup = yield* lookupOf()
        yield* Ref.set(reads, [])
        yield* storeRun(lookup, `run-${version}`)
        yield* TestClock.adjust("1 minute")
      }
      const metaReads = (yield* Ref.get(reads)).filter((path) => path.endsWith("/meta.json"))
      assert.deepStrictEqual(metaReads, [], "the third store went over the bound and read no meta.json")
      assert.strictEqual((yield* Effect.flatMap(Files, (f) => f.list(`${cacheDir}/entries`))).length, 2, "one entry was evicted")
    }).pipe(
      Effect.provide(recordedApp),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["CODEX_ORCHESTRATOR_CACHE_MAX_SIZE", "1200"]]), { pathDelim: "_" }))
    ))

  it.effect("explaining creates no HMAC key file and leaves a damaged entry in place", () =>
    Effect.gen(function*() {
      yield* ranStage
      const cache = yield* StageCache
      const verdict = yield* cache.explain(probe())
      assert.strictEqual(verdict._tag, "Miss")
      assert.deepStrictEqual(yield* Effect.flatMap(Files, (f) => f.list(cacheDir)), [], "nothing written under the cache folder")
      const stored = yield* lookupOf()
      yield* storeRun(stored)
      const key = stored._tag === "Off" ? "" : stored.key.key
      assert.strictEqual((yield* cache.explain(probe()))._tag, "Hit", "the same key as a run's lookup")
      yield* Effect.flatMap(InMemoryFiles, (files) => files.write(`${cacheDir}/entries/${key}/meta.json`, "{"))
      assert.strictEqual((yield* cache.explain(probe()))._tag, "Miss")
      assert.deepStrictEqual(yield* Effect.flatMap(Files, (f) => f.list(`${cacheDir}/entries`)), [key], "the damaged entry is still there")
    }).pipe(Effect.provide(liveOnMemoryFiles)))
})

describe("StageCacheLive with many inputs: git's ids (B-5)", () => {
  const fakeId = (n: number) => `${String(n).padStart(2, "0")}`.repeat(20)
  const tracked = Array.from({ length: 70 }, (_, i) => `src/gen/f${i}.ts`)
  const git = GitMemory({
    // f69 is not in the index; f1 is modified in the working tree.
    "ls-files --stage -z": { stdout: tracked.slice(0, 69).map((path, i) => `100644 ${fakeId(i)} 0\t${path}\u0000`).join("") },
    "diff --name-only --relative -z": { stdout: "src/gen/f1.ts\u0000" }
  })
  const layer = StageCacheOnGit.pipe(Layer.provide(git), Layer.provideMerge(FilesMemory), Layer.provideMerge(base))

  it.effect("takes the index's id of a clean tracked file, and hashes modified and untracked ones", () =>
    Effect.gen(function*() {
      const files = yield* InMemoryFiles
      for (const path of tracked) yield* files.write(`${repo}/${path}`, `// ${path}\n`)
      const lookup = yield* lookupOf({ spec: { inputs: ["src/gen/*.ts"] } })
      if (lookup._tag !== "Miss") return assert.fail("expected a miss")
      const inputs = lookup.key.parts.inputs
      assert.strictEqual(Object.keys(inputs).length, 70)
      assert.strictEqual(inputs["src/gen/f0.ts"], fakeId(0), "clean: git's id, the file not read")
      const { createHash } = yield* Effect.promise(() => import("node:crypto"))
      const blobId = (text: string) => createHash("sha1").update(`blob ${text.length}\u0000${text}`).digest("hex")
      assert.strictEqual(inputs["src/gen/f1.ts"], blobId("// src/gen/f1.ts\n"), "modified: hashed, as git hash-object would")
      assert.strictEqual(inputs["src/gen/f69.ts"], blobId("// src/gen/f69.ts\n"), "untracked: hashed")
    }).pipe(Effect.provide(layer)))
})
