/**
 * The stage cache's folder (DECISIONS B-5): `entries/<key>/` holds `meta.json`, the stage log
 * (`log.ndjson`), the outputs (`outputs/<path>`) and `used` (when it last answered, for eviction);
 * `stages/<id>.json` the last key stored for a stage (to explain a miss); `tmp/` entries being
 * written; `key` the HMAC key of env values. An entry is written in `tmp/` and renamed into place
 * whole, so a reader sees all of it or none, and of two runs filling one key the second's rename
 * fails and its copy is dropped.
 */
import { Effect, Schema, Stream } from "effect"
import type { FileAccessError } from "../../domain/FileErrors.js"
import { CacheEntryMeta, type EntryUsage, StageCacheRecord } from "../../domain/StageCache.js"
import type { Files } from "../../services/Files.js"
import { wholeReadLimit } from "./cacheFiles.js"
import { CacheEntryDamaged, type ReplayChunk } from "../../services/StageCache.js"

/**
 * Where entries live (`store`) and where stages' files and logs are (`work`); the same Files in
 * production. `ownFolders`: the runs root, the out root and the cache folder (absolute), which no
 * stage glob walks into: every run writes there.
 */
export interface CacheStorage {
  readonly store: Files["Type"]
  readonly work: Files["Type"]
  readonly dir: string
  readonly ownFolders: ReadonlyArray<string>
}

export const entriesDir = (dir: string) => `${dir}/entries`
export const entryDir = (dir: string, key: string) => `${dir}/entries/${key}`
export const tmpDir = (dir: string) => `${dir}/tmp`
/**
 * Where a store writes an entry before renaming it into place: named after the key, the time the
 * store began and a random part, so that a prune can tell a store in progress from what a killed
 * one left (`staleStagingMs`).
 */
export const stagingDir = (dir: string, key: string, startedMs: number, random: string) => `${tmpDir(dir)}/${key}.w${startedMs}.${random}`

/** A folder under `tmp/` this old (by its name) is what an interrupted store left; younger ones may be in progress. */
export const staleStagingMs = 3_600_000

/** When the store writing `name` (a folder of `tmp/`) began, or undefined for what is not a store's (an eviction's claim). */
export const stagingStartedMs = (name: string): number | undefined => {
  const match = /^[0-9a-f]+\.w(\d+)\.[0-9a-f]+$/.exec(name)
  return match === null ? undefined : Number(match[1])
}
export const stageRecordPath = (dir: string, id: string) => `${dir}/stages/${id}.json`

const parent = (path: string) => path.slice(0, Math.max(0, path.lastIndexOf("/")))

/** Copies one file, from one Files to another when they differ (the in-memory cache keeps its own). */
export const copyFile = (from: Files["Type"], source: string, to: Files["Type"], target: string) =>
  Effect.gen(function*() {
    yield* to.makeDirectory(parent(target))
    yield* to.remove(target)
    if (from === to) return yield* to.copyTree(source, target)
    const bytes = yield* from.readAllBytes(source)
    if (bytes === undefined) return yield* Effect.dieMessage(`${source} disappeared while it was copied`)
    yield* to.writeBytes(target, bytes)
  })

const decodeMeta = Schema.decodeUnknownEither(Schema.parseJson(CacheEntryMeta))
const decodeRecord = Schema.decodeUnknownEither(Schema.parseJson(StageCacheRecord))

const damaged = (key: string, reason: string, cause: unknown = reason) => new CacheEntryDamaged({ key, reason, cause })

/**
 * The entry of `key`, checked whole (meta decodes and names the key, the log and every output are
 * there at their recorded sizes); undefined when there is none.
 */
export const readEntry = (storage: CacheStorage, key: string) =>
  Effect.gen(function*() {
    const { store } = storage
    const dir = entryDir(storage.dir, key)
    if ((yield* store.info(dir)) === undefined) return undefined
    const text = yield* store.readText(`${dir}/meta.json`)
    if (text === undefined) return yield* damaged(key, "meta.json is missing")
    const meta = decodeMeta(text)
    if (meta._tag === "Left") return yield* damaged(key, "meta.json is not valid", meta.left)
    if (meta.right.key !== key) return yield* damaged(key, `meta.json names another key (${meta.right.key.slice(0, 12)})`)
    if ((yield* store.info(`${dir}/log.ndjson`))?.type !== "file") return yield* damaged(key, "log.ndjson is missing")
    for (const output of meta.right.outputs) {
      const info = yield* store.info(`${dir}/outputs/${output.path}`)
      if (info?.type !== "file" || info.size !== output.size) return yield* damaged(key, `output ${output.path} is missing or truncated`)
    }
    return meta.right
  }).pipe(Effect.catchTag("FileAccessError", (error) => Effect.fail(damaged(key, error.message, error))))

/** The last key stored for a stage, or undefined (none, or unreadable: a miss is explained without it). */
export const readStageRecord = (storage: CacheStorage, id: string) =>
  storage.store.readText(stageRecordPath(storage.dir, id)).pipe(
    Effect.map((text) => {
      if (text === undefined) return undefined
      const record = decodeRecord(text)
      return record._tag === "Right" ? record.right : undefined
    }),
    Effect.orElseSucceed(() => undefined)
  )

/** The recorded output of an entry's attempt, chunk by chunk as its stage log has it. */
export const replayChunks = (storage: CacheStorage, meta: CacheEntryMeta): Stream.Stream<ReplayChunk, CacheEntryDamaged> => {
  const log = `${entryDir(storage.dir, meta.key)}/log.ndjson`
  const isChunk = (line: string) => line.includes("\"exec:chunk\"")
  const replay = (line: string) =>
    decodeChunk(line).pipe(
      Effect.mapError((error) => damaged(meta.key, "log.ndjson has a line that is not an output chunk", error)),
      Effect.map((chunk) => (chunk.attempt === meta.attempt ? [{ stream: chunk.stream, text: chunk.data }] : []))
    )
  // A small log (most stages print little) is read and decoded in one go: a line stream costs more
  // than the read, on every hit. A large one is streamed, so memory stays bounded (D-11).
  const chunks = Effect.map(storage.store.info(log), (info): Stream.Stream<ReplayChunk, CacheEntryDamaged | FileAccessError> =>
    info !== undefined && info.size <= wholeReadLimit
      ? Stream.fromIterableEffect(Effect.flatMap(storage.store.readText(log), (text) =>
        Effect.map(Effect.forEach((text ?? "").split("\n").filter(isChunk), replay), (all) => all.flat())))
      : storage.store.readLines(log).pipe(Stream.filter(isChunk), Stream.mapEffect(replay), Stream.flattenIterables))
  return Stream.unwrap(chunks).pipe(Stream.catchTag("FileAccessError", (error) => Stream.fail(damaged(meta.key, error.message, error))))
}

const decodeChunk = (line: string) => Schema.decodeUnknown(Schema.parseJson(ChunkFields))(line)

const ChunkFields = Schema.Struct({
  type: Schema.Literal("exec:chunk"),
  attempt: Schema.Int,
  stream: Schema.Literal("stdout", "stderr"),
  data: Schema.String
})

/**
 * `used`: when the entry last answered and its size (`<ms> <bytes>`), so that eviction reads this
 * small file instead of decoding every entry's meta.json. Entries of earlier versions hold the time only.
 */
export const usedText = (nowMs: number, size: number) => `${nowMs} ${size}`

const parseUsed = (text: string | undefined) => {
  const [ms, size] = (text ?? "").trim().split(" ")
  const lastUsedMs = Number(ms)
  const bytes = size === undefined ? Number.NaN : Number(size)
  return { lastUsedMs: Number.isFinite(lastUsedMs) ? lastUsedMs : 0, size: Number.isInteger(bytes) && bytes >= 0 ? bytes : undefined }
}

/**
 * Every entry with its size and when it last answered; entries that cannot be read count as oldest
 * (size unknown: 0). `thorough` (prune, stats) decodes each meta.json to find damaged entries; else
 * the size in `used` is taken, and meta.json read only for an entry whose `used` lacks it.
 */
export const entryUsages = (storage: CacheStorage, thorough: boolean) =>
  Effect.gen(function*() {
    const usages: Array<EntryUsage & { readonly valid: boolean }> = []
    for (const key of yield* storage.store.list(entriesDir(storage.dir))) {
      const dir = entryDir(storage.dir, key)
      const used = parseUsed(yield* storage.store.readText(`${dir}/used`))
      if (!thorough && used.size !== undefined) {
        usages.push({ key, size: used.size, lastUsedMs: used.lastUsedMs, valid: true })
        continue
      }
      const meta = decodeMeta((yield* storage.store.readText(`${dir}/meta.json`)) ?? "")
      usages.push({
        key,
        size: meta._tag === "Right" ? meta.right.size : 0,
        lastUsedMs: used.lastUsedMs,
        valid: meta._tag === "Right" && meta.right.key === key
      })
    }
    return usages
  })

/** Marks an entry as just used (eviction keeps recently used entries); not fsynced, it is a hint. */
export const touch = (storage: CacheStorage, usage: EntryUsage): Effect.Effect<void, FileAccessError> =>
  storage.store.writeAtomic(`${entryDir(storage.dir, usage.key)}/used`, usedText(usage.lastUsedMs, usage.size), { durable: false })
