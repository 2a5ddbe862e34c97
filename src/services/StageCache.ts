import { Context, type Effect, FiberRef, Schema, type Stream } from "effect"
import type { FileAccessError } from "../domain/FileErrors.js"
import type { CacheEntryMeta, CacheKeyParts, CacheSpec } from "../domain/StageCache.js"

/** What a stage's key is computed from: the stage as it would run. */
export interface CacheProbe {
  readonly pipelineId: string
  readonly taskId: string
  readonly stageId: string
  readonly command: string
  /** The stage's folder, absolute: inputs and outputs are relative to it. */
  readonly cwd: string
  /** The stage's own environment; a named variable not in it is read from the orchestrator's. */
  readonly env: Readonly<Record<string, string>>
  readonly spec: CacheSpec
}

/** A computed key with the parts it hashes. */
export interface CacheKey {
  readonly key: string
  readonly parts: CacheKeyParts
  readonly probe: CacheProbe
}

/** What looking a stage up found. `changed`: what differs from the last entry stored for the stage (empty when none was). */
export type CacheLookup =
  | { readonly _tag: "Off" }
  | { readonly _tag: "Hit"; readonly key: CacheKey; readonly meta: CacheEntryMeta }
  | { readonly _tag: "Miss"; readonly key: CacheKey; readonly changed: ReadonlyArray<string>; readonly stored: boolean }

/** One chunk of recorded output, replayed as the stage's output on a hit. */
export interface ReplayChunk {
  readonly stream: "stdout" | "stderr"
  readonly text: string
}

/** What a successful stage leaves to store: its run, its stage log and the attempt whose output counts. */
export interface StoreRequest {
  readonly runId: string
  readonly logPath: string
  readonly attempt: number
}

/** The cache's size and where it is. */
export interface CacheStats {
  readonly dir: string
  readonly enabled: boolean
  readonly entries: number
  readonly bytes: number
  readonly maxBytes: number
}

/** What `prune` removed and what is left. */
export interface PruneResult {
  readonly removed: number
  readonly freedBytes: number
  readonly stats: CacheStats
}

/** An entry that cannot be used (missing or undecodable files); the stage runs as on a miss. */
export class CacheEntryDamaged extends Schema.TaggedError<CacheEntryDamaged>()("CacheEntryDamaged", {
  key: Schema.String,
  reason: Schema.String,
  cause: Schema.Defect
}) {
  override get message() {
    return `cache entry ${this.key.slice(0, 12)} is damaged (${this.reason}); the stage runs instead and its entry is replaced`
  }
}

/**
 * `--no-cache` (start/resume) and `RunEngine` requests with `cache: false`: true bypasses the cache
 * for the stages run in this fiber and the fibers it starts, nested runs included.
 */
export const cacheBypassed: FiberRef.FiberRef<boolean> = FiberRef.unsafeMake(false)

/**
 * The content-addressed stage cache (DECISIONS B-5). A stage that declares `cache` is looked up by a
 * key over its command, folder, named env values (keyed hashes), input files and the orchestrator's
 * version; a hit restores its outputs and replays its recorded output instead of running it. Only
 * successful stages are stored. A damaged entry is a miss with a warning, never a failure; storing
 * never fails a stage either (a warning at worst). Entries are written whole or not at all, so two
 * runs filling one key leave one valid entry.
 */
export class StageCache extends Context.Tag("orchestrator/StageCache")<
  StageCache,
  {
    /** Off when the cache is turned off (setting or bypass); else the key and whether a valid entry has it. */
    readonly lookup: (probe: CacheProbe) => Effect.Effect<CacheLookup>
    /**
     * The same verdict as `lookup`, writing nothing (`plan --explain-cache` is read-only): no HMAC key
     * file is created where there is none yet (then no entry can match a named env value anyway), and
     * a damaged entry is reported, not removed.
     */
    readonly explain: (probe: CacheProbe) => Effect.Effect<CacheLookup>
    /** Puts the entry's outputs back under the stage's folder and returns its recorded output, in order. */
    readonly restore: (
      hit: Extract<CacheLookup, { readonly _tag: "Hit" }>
    ) => Effect.Effect<Stream.Stream<ReplayChunk, CacheEntryDamaged>, CacheEntryDamaged>
    /** Stores a successful stage's output and outputs under its key; evicts least recently used entries beyond the bound. */
    readonly store: (key: CacheKey, request: StoreRequest) => Effect.Effect<void>
    readonly stats: Effect.Effect<CacheStats, FileAccessError>
    /** Removes damaged entries and leftovers, then evicts down to `maxBytes` (default the bound); `all` empties the cache. */
    readonly prune: (options: { readonly all?: boolean; readonly maxBytes?: number }) => Effect.Effect<PruneResult, FileAccessError>
  }
>() {}
