/**
 * Keeping the stage cache within its size (DECISIONS B-5): least recently used entries go first;
 * `prune` also drops damaged entries and what interrupted writes left in `tmp/` (not a store in
 * progress); `stats` counts.
 * After a store, the sizes come from a table this process keeps (filled once from the entries'
 * small `used` files, then updated by its own stores and hits): a store within the bound reads
 * nothing, and only a store that takes the cache over its bound looks at the entries again (other
 * runs may have stored or evicted meanwhile). An entry is claimed (renamed under `tmp/`) before it
 * is counted and removed, so two evictions at once count each entry once, in the one that removed it.
 */
import { Clock, Effect, Ref } from "effect"
import type { CacheSection } from "../../domain/Settings.js"
import { type EntryUsage, evictionOrder } from "../../domain/StageCache.js"
import type { Entropy } from "../../services/Entropy.js"
import type { CacheStats, PruneResult } from "../../services/StageCache.js"
import { type CacheStorage, entryDir, entryUsages, staleStagingMs, stagingStartedMs, tmpDir } from "./cacheEntries.js"

export const makeCacheMaintenance = (storage: CacheStorage, settings: Omit<CacheSection, "dir">, entropy: Entropy["Type"]) =>
  Effect.gen(function*() {
    const table = yield* Ref.make<ReadonlyMap<string, EntryUsage> | undefined>(undefined)

    const stats = Effect.gen(function*() {
      const usages = yield* entryUsages(storage, true)
      return {
        dir: storage.dir,
        enabled: settings.enabled,
        entries: usages.length,
        bytes: usages.reduce((sum, usage) => sum + usage.size, 0),
        maxBytes: settings.maxBytes
      } satisfies CacheStats
    }).pipe(Effect.withSpan("StageCache.stats"))

    /**
     * Takes an entry for this eviction by renaming it under `tmp/` (of two prunes or stores evicting
     * at once, one rename wins); the claimed folder, or undefined when another took the entry first.
     */
    const claim = (key: string) =>
      Effect.gen(function*() {
        const { store } = storage
        const claimed = `${tmpDir(storage.dir)}/${key}.evicted.${yield* entropy.hex(6)}`
        yield* store.makeDirectory(tmpDir(storage.dir)) // a prune starting meanwhile removes tmp/
        const renamed = yield* Effect.either(store.rename(entryDir(storage.dir, key), claimed))
        if ((yield* store.info(claimed)) !== undefined) return claimed
        if (renamed._tag === "Left" && (yield* store.info(entryDir(storage.dir, key))) !== undefined) return yield* renamed.left
        return undefined
      })

    /**
     * Removes the least recently used entries until the rest fit in `maxBytes`; returns what is left,
     * how many went and their bytes, counting only the entries this eviction claimed.
     */
    const evict = (maxBytes: number, options: { readonly all: boolean; readonly thorough: boolean }) =>
      Effect.gen(function*() {
        const usages = yield* entryUsages(storage, options.thorough)
        const damaged = usages.filter((usage) => !usage.valid)
        const gone = new Set([
          ...damaged.map((usage) => usage.key),
          ...(options.all ? usages.map((usage) => usage.key) : evictionOrder(usages.filter((usage) => usage.valid), maxBytes))
        ])
        let removed = 0
        let freed = 0
        for (const usage of usages) {
          if (!gone.has(usage.key)) continue
          const claimed = yield* claim(usage.key)
          if (claimed === undefined) continue
          yield* storage.store.removeTree(claimed)
          removed += 1
          freed += usage.size
        }
        const left = new Map(usages.filter((usage) => !gone.has(usage.key)).map((usage) => [usage.key, usage]))
        return { left, removed, freedBytes: freed }
      })

    /** After storing `stored`: evicts only when this process's table says the cache is over its bound. */
    const afterStore = (stored: EntryUsage) =>
      Effect.gen(function*() {
        const known = (yield* Ref.get(table)) ??
          new Map((yield* entryUsages(storage, false)).map((usage) => [usage.key, usage]))
        const next = new Map(known).set(stored.key, stored)
        let total = 0
        for (const usage of next.values()) total += usage.size
        if (total <= settings.maxBytes) return yield* Ref.set(table, next)
        const { left } = yield* evict(settings.maxBytes, { all: false, thorough: false })
        yield* Ref.set(table, left)
      })

    /** A hit: the table's entry is used now (an entry the table does not know is read at the next scan). */
    const touched = (usage: EntryUsage) =>
      Ref.update(table, (known) => (known === undefined || !known.has(usage.key) ? known : new Map(known).set(usage.key, usage)))

    /**
     * Removes what interrupted stores left in `tmp/` (begun `staleStagingMs` ago or more, by their
     * names) and eviction claims; a store in progress (a run storing while `cache prune` runs) is
     * left alone: removing it made that run's store fail ("its result was not cached").
     */
    const removeLeftovers = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      for (const name of yield* storage.store.list(tmpDir(storage.dir))) {
        const started = stagingStartedMs(name)
        if (started === undefined || now - started >= staleStagingMs) yield* storage.store.removeTree(`${tmpDir(storage.dir)}/${name}`)
      }
    })

    const prune = Effect.fn("StageCache.prune")(function*(options: { readonly all?: boolean; readonly maxBytes?: number }) {
      yield* removeLeftovers
      const { freedBytes, removed } = yield* evict(options.maxBytes ?? settings.maxBytes, { all: options.all === true, thorough: true })
      yield* Ref.set(table, undefined)
      return { removed, freedBytes, stats: yield* stats } satisfies PruneResult
    })

    return { stats, afterStore, touched, prune }
  })
