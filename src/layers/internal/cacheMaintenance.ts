/**
 * Keeping the stage cache within its size (DECISIONS B-5): least recently used entries go first;
 * `prune` also drops damaged entries and what interrupted writes left in `tmp/`; `stats` counts.
 */
import { Effect } from "effect"
import type { CacheSection } from "../../domain/Settings.js"
import { evictionOrder } from "../../domain/StageCache.js"
import type { CacheStats, PruneResult } from "../../services/StageCache.js"
import { type CacheStorage, entryDir, entryUsages, tmpDir } from "./cacheEntries.js"

export const makeCacheMaintenance = (storage: CacheStorage, settings: Omit<CacheSection, "dir">) => {
  const stats = Effect.gen(function*() {
    const usages = yield* entryUsages(storage)
    return {
      dir: storage.dir,
      enabled: settings.enabled,
      entries: usages.length,
      bytes: usages.reduce((sum, usage) => sum + usage.size, 0),
      maxBytes: settings.maxBytes
    } satisfies CacheStats
  }).pipe(Effect.withSpan("StageCache.stats"))

  /** Removes the least recently used entries until the rest fit in `maxBytes`; returns how many and their bytes. */
  const evict = (maxBytes: number, all = false) =>
    Effect.gen(function*() {
      const usages = yield* entryUsages(storage)
      const damaged = usages.filter((usage) => !usage.valid)
      const gone = new Set([...damaged.map((usage) => usage.key), ...(all ? usages.map((usage) => usage.key) : evictionOrder(usages.filter((usage) => usage.valid), maxBytes))])
      let freed = 0
      for (const usage of usages) {
        if (!gone.has(usage.key)) continue
        yield* storage.store.removeTree(entryDir(storage.dir, usage.key))
        freed += usage.size
      }
      return { removed: gone.size, freedBytes: freed }
    })

  const prune = Effect.fn("StageCache.prune")(function*(options: { readonly all?: boolean; readonly maxBytes?: number }) {
      // Entries being written now are in tmp/ too; prune is a maintenance command, not run during a run.
      yield* storage.store.removeTree(tmpDir(storage.dir))
      const { freedBytes, removed } = yield* evict(options.maxBytes ?? settings.maxBytes, options.all === true)
      return { removed, freedBytes, stats: yield* stats } satisfies PruneResult
  })

  return { stats, evict, prune }
}
