import { Path } from "@effect/platform"
import { Clock, Effect, FiberRef, Layer } from "effect"
import { cacheSection, type CacheSection, decodeSettings } from "../domain/Settings.js"
import { cacheFormat, type CacheKeyParts, canonicalJson, changedParts, defaultCacheMaxBytes } from "../domain/StageCache.js"
import { orchestratorVersion } from "../domain/Version.js"
import { BaseConfig } from "../services/BaseConfig.js"
import { Entropy } from "../services/Entropy.js"
import { Files } from "../services/Files.js"
import { Git } from "../services/Git.js"
import { GitLive } from "./Git.js"
import { cleanBlobIds, gitInputThreshold } from "./internal/cacheGit.js"
import { FilesMemory } from "./Files.js"
import {
  type CacheKey,
  type CacheLookup,
  type CacheProbe,
  cacheBypassed,
  CacheEntryDamaged,
  StageCache
} from "../services/StageCache.js"
import { sha256Of } from "./internal/cacheDigest.js"
import { copyFile, entryDir, type CacheStorage, readEntry, readStageRecord, replayChunks, touch } from "./internal/cacheEntries.js"
import { blobIds, envDigests, matchFiles } from "./internal/cacheFiles.js"
import { makeCacheMaintenance } from "./internal/cacheMaintenance.js"
import { storeEntry } from "./internal/cacheStore.js"

/** What the cache is built from: where entries live, its settings, the repository root (keys name folders relative to it). */
interface CacheDeps {
  readonly storage: CacheStorage
  readonly settings: Omit<CacheSection, "dir">
  readonly repoRoot: string
  readonly entropy: Entropy["Type"]
  readonly path: Path.Path
  /** Git's ids of a folder's clean tracked files, when the cache sits on a real repository. */
  readonly git?: Git["Type"] | undefined
}

/**
 * The HMAC key of env values: created once per cache folder (the first writer wins), random, never
 * leaves it. `readOnly` (explaining) creates nothing: without a key file a throwaway key stands in.
 */
const loadHmacKey = (deps: CacheDeps, readOnly: boolean) =>
  Effect.gen(function*() {
    const { dir, store } = deps.storage
    const file = `${dir}/key`
    const existing = yield* store.readText(file)
    if (existing !== undefined && existing.trim().length > 0) return existing.trim()
    if (readOnly) return yield* deps.entropy.hex(32)
    yield* store.makeDirectory(dir)
    yield* store.createExclusive(file, yield* deps.entropy.hex(32))
    return ((yield* store.readText(file)) ?? "").trim()
  })

const makeStageCache = (deps: CacheDeps) =>
  Effect.gen(function*() {
    const { storage } = deps
    const maintenance = yield* makeCacheMaintenance(storage, deps.settings, deps.entropy)
    const hmacKey = yield* Effect.cached(loadHmacKey(deps, false))
    // Not cached: a run may create the key file after an explanation made do without it.
    const readOnlyKey = loadHmacKey(deps, true)
    const stageIdOf = (probe: CacheProbe) =>
      Effect.map(sha256Of(`${probe.pipelineId}\u0000${probe.stageId}`), (hash) => hash.slice(0, 32))

    const keyOf = (probe: CacheProbe, readOnly: boolean) =>
      Effect.gen(function*() {
        const paths = yield* matchFiles(storage.work, probe.cwd, probe.spec.inputs ?? [], storage.ownFolders)
        const known = deps.git === undefined || paths.length <= gitInputThreshold ? undefined : yield* cleanBlobIds(deps.git, probe.cwd)
        const inputs = yield* blobIds(storage.work, probe.cwd, paths, known)
        const parts: CacheKeyParts = {
          format: cacheFormat,
          version: orchestratorVersion,
          command: probe.command,
          cwd: deps.path.relative(deps.repoRoot, probe.cwd) || ".",
          env: yield* envDigests(yield* (readOnly ? readOnlyKey : hmacKey), probe.spec.env ?? [], probe.env),
          inputs
        }
        return { key: yield* sha256Of(canonicalJson(parts)), parts, probe } satisfies CacheKey
      })

    /** A damaged entry is dropped (the stage's fresh result replaces it; not when only explaining) and counts as none. */
    const entryOrNone = (key: string, readOnly: boolean) =>
      readEntry(storage, key).pipe(
        Effect.catchTag("CacheEntryDamaged", (error) =>
          Effect.logWarning(error.message).pipe(
            Effect.zipRight(readOnly ? Effect.void : Effect.ignore(storage.store.removeTree(entryDir(storage.dir, key)))),
            Effect.as(undefined)
          ))
      )

    const lookupWith = (readOnly: boolean) => Effect.fnUntraced(function*(probe: CacheProbe) {
      if (!deps.settings.enabled || (yield* FiberRef.get(cacheBypassed))) return { _tag: "Off" } satisfies CacheLookup
      const computed = yield* Effect.either(keyOf(probe, readOnly))
      if (computed._tag === "Left") {
        yield* Effect.logWarning(`stage ${probe.stageId}: its cache key could not be computed (${computed.left.message}); it runs uncached`)
        return { _tag: "Off" } satisfies CacheLookup
      }
      const key = computed.right
      const meta = yield* entryOrNone(key.key, readOnly)
      if (meta !== undefined) return { _tag: "Hit", key, meta } satisfies CacheLookup
      const record = yield* readStageRecord(storage, yield* stageIdOf(probe))
      const changed = record === undefined ? [] : changedParts(record.parts, key.parts)
      return { _tag: "Miss", key, changed, stored: record !== undefined } satisfies CacheLookup
    })
    const lookup = Effect.fn("StageCache.lookup")(function*(probe: CacheProbe) {
      return yield* lookupWith(false)(probe)
    })
    const explain = Effect.fn("StageCache.explain")(function*(probe: CacheProbe) {
      return yield* lookupWith(true)(probe)
    })

    const restore = Effect.fn("StageCache.restore")(function*(hit: Extract<CacheLookup, { readonly _tag: "Hit" }>) {
      const { key, meta } = hit
      const from = entryDir(storage.dir, key.key)
      const damaged = (reason: string, cause: unknown) => new CacheEntryDamaged({ key: key.key, reason, cause })
      yield* Effect.forEach(meta.outputs, (output) =>
        copyFile(storage.store, `${from}/outputs/${output.path}`, storage.work, `${key.probe.cwd}/${output.path}`), { discard: true }).pipe(
          Effect.zipRight(Effect.flatMap(Clock.currentTimeMillis, (now) => {
            const usage = { key: key.key, size: meta.size, lastUsedMs: now }
            return Effect.zipRight(touch(storage, usage), maintenance.touched(usage))
          })),
          Effect.mapError((error) => damaged(error.message, error)),
          Effect.catchAllDefect((defect) => Effect.fail(damaged(String(defect), defect)))
        )
      return replayChunks(storage, meta)
    })


    const store = Effect.fn("StageCache.store")(function*(key: CacheKey, request: Parameters<StageCache["Type"]["store"]>[1]) {
      yield* storeEntry(storage, deps.entropy, key, request, yield* stageIdOf(key.probe)).pipe(
        Effect.flatMap(maintenance.afterStore),
        Effect.catchAll((error) => Effect.logWarning(`stage ${key.probe.stageId}: its result was not cached (${error.message})`)),
        Effect.catchAllDefect((defect) => Effect.logWarning(`stage ${key.probe.stageId}: its result was not cached (${String(defect)})`))
      )
    })

    return StageCache.of({ lookup, explain, restore, store, stats: maintenance.stats, prune: maintenance.prune })
  })

/**
 * The stage cache on disk, in `CODEX_ORCHESTRATOR_CACHE_DIR` (default `<runs root>/.cache`), sized by
 * `CODEX_ORCHESTRATOR_CACHE_MAX_SIZE`, off with `CODEX_ORCHESTRATOR_CACHE=off` (a bad value: exit 2),
 * on the given Git (many inputs: their ids from git's index).
 */
export const StageCacheOnGit = Layer.effect(
  StageCache,
  Effect.gen(function*() {
    const files = yield* Files
    const path = yield* Path.Path
    const { roots } = yield* BaseConfig
    const settings = yield* decodeSettings(cacheSection)
    const dir = settings.dir === undefined ? path.join(roots.runsRoot, ".cache") : path.resolve(settings.dir)
    return yield* makeStageCache({
      storage: { store: files, work: files, dir, ownFolders: [roots.runsRoot, roots.outRoot, dir] },
      settings,
      repoRoot: roots.repoRoot,
      entropy: yield* Entropy,
      path,
      git: yield* Git
    })
  })
)

/** StageCacheOnGit with git run through the ProcessRunner. */
export const StageCacheLive = StageCacheOnGit.pipe(Layer.provide(GitLive))

/**
 * The same cache with its entries in memory (its own in-memory Files), reading stages' inputs and
 * restoring outputs through the app's Files: the test kit's. On unless `enabled: false`.
 */
export const StageCacheMemory = (options: Partial<Omit<CacheSection, "dir">> = {}) =>
  Layer.effect(
    StageCache,
    Effect.gen(function*() {
      const store = yield* Effect.provide(Files, FilesMemory)
      const { roots } = yield* BaseConfig
      return yield* makeStageCache({
        storage: { store, work: yield* Files, dir: "/stage-cache", ownFolders: [roots.runsRoot, roots.outRoot] },
        settings: { enabled: options.enabled ?? true, maxBytes: options.maxBytes ?? defaultCacheMaxBytes },
        repoRoot: roots.repoRoot,
        entropy: yield* Entropy,
        path: yield* Path.Path
      })
    })
  )
