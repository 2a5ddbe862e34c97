/** Changes to a run's stage entries that several phases make. */
import type { CliManifest, CommandEntry } from "../../domain/Manifest.js"

/** D-7: `resuming` lasts until the first re-run stage starts. */
export const clearResuming = (m: CliManifest): Pick<CliManifest, "status_detail"> => ({
  status_detail: m.status_detail === "resuming" ? null : m.status_detail
})

/**
 * The entry at `position` without its `cache` outcome (B-5): a stage that runs again earns it anew,
 * so a re-run with the cache bypassed (`resume --no-cache`) keeps no verdict of an earlier attempt.
 */
export const withoutCacheOutcome = (position: number) => (m: CliManifest): CliManifest => ({
  ...m,
  commands: m.commands.map((entry, i) => {
    if (i !== position) return entry
    const { cache: _earlier, ...rest } = entry
    return rest
  })
})

/** The entry at `position` (0-based), patched. */
export const patchEntry = (position: number, patch: Partial<CommandEntry>) => (m: CliManifest): CliManifest => ({
  ...m,
  commands: m.commands.map((entry, i) => (i === position ? { ...entry, ...patch } : entry))
})
