/**
 * The content-addressed stage cache (DECISIONS B-5): what a stage declares (`cache`), what its key is
 * made of, what an entry records, why a key missed, and which entries go when the cache is over its
 * size. Pure; hashing, walking and storing are the StageCache layers'.
 */
import { Schema } from "effect"
import { globProblem } from "./Glob.js"

const Glob = Schema.String.pipe(
  Schema.filter((glob) => {
    const problem = globProblem(glob)
    return problem === undefined ? true : `${problem} (got ${JSON.stringify(glob)})`
  })
)

const EnvName = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z_][A-Za-z0-9_]*$/, {
    message: () => "must be an environment variable name (letters, digits and _, not starting with a digit)"
  })
)

/**
 * A stage's `cache`: the files its result depends on (`inputs`), the environment variables it reads
 * (`env`, names only: values are never stored) and the files it leaves (`outputs`), globs relative to
 * the stage's folder. Each list may be left out (empty).
 */
export const CacheSpec = Schema.Struct({
  inputs: Schema.optional(Schema.Array(Glob)),
  env: Schema.optional(Schema.Array(EnvName)),
  outputs: Schema.optional(Schema.Array(Glob))
})
export type CacheSpec = typeof CacheSpec.Type

/** Bumped when what a key covers changes, so older entries miss instead of answering wrongly. */
export const cacheFormat = 1

/**
 * Everything a key is the hash of. `env` maps each named variable to a keyed hash of its value (HMAC
 * with the cache's own random key), so an entry never holds a secret, not even as a plain hash one
 * could guess against. `inputs` maps each matched file (relative to the stage's folder) to its git
 * blob id, computed or read from git.
 */
export const CacheKeyParts = Schema.Struct({
  format: Schema.Literal(cacheFormat),
  version: Schema.String,
  command: Schema.String,
  /** The stage's folder relative to the repository root ("." for the root), so a moved checkout still hits. */
  cwd: Schema.String,
  env: Schema.Record({ key: Schema.String, value: Schema.String }),
  inputs: Schema.Record({ key: Schema.String, value: Schema.String })
})
export type CacheKeyParts = typeof CacheKeyParts.Type

/** One restored file of an entry: its path relative to the stage's folder and its size. */
export const CachedOutput = Schema.Struct({ path: Schema.String, size: Schema.Int })

/** `meta.json` of a cache entry: whose result it is, its key's parts, its files. */
export const CacheEntryMeta = Schema.Struct({
  key: Schema.String,
  pipeline_id: Schema.String,
  stage_id: Schema.String,
  task_id: Schema.String,
  from_run: Schema.String,
  created_at: Schema.String,
  /** The attempt whose output the stage log holds (a stage with retries may have several). */
  attempt: Schema.Int,
  parts: CacheKeyParts,
  outputs: Schema.Array(CachedOutput),
  /** The entry's bytes on disk (log and outputs), what eviction counts. */
  size: Schema.Int
})
export type CacheEntryMeta = typeof CacheEntryMeta.Type

/** The last key stored for a stage, kept apart from the entries so a miss can be explained after eviction. */
export const StageCacheRecord = Schema.Struct({
  pipeline_id: Schema.String,
  stage_id: Schema.String,
  key: Schema.String,
  parts: CacheKeyParts
})
export type StageCacheRecord = typeof StageCacheRecord.Type

/** The manifest entry's `cache`: hit or miss, the key, the run that stored it, and what changed on a miss. */
export const CacheOutcome = Schema.Struct({
  hit: Schema.Boolean,
  key: Schema.String,
  from_run: Schema.NullOr(Schema.String),
  changed: Schema.optional(Schema.Array(Schema.String))
})
export type CacheOutcome = typeof CacheOutcome.Type

/** Object keys in order, so the same parts always hash the same. */
export const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`
  }
  return JSON.stringify(value)
}

const diffRecord = (
  what: string,
  before: Readonly<Record<string, string>>,
  after: Readonly<Record<string, string>>
): Array<string> => {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()
  return names.flatMap((name) => {
    const old = before[name]
    const now = after[name]
    if (old === now) return []
    if (old === undefined) return [`${what} ${name} added`]
    if (now === undefined) return [`${what} ${name} removed`]
    return [`${what} ${name} changed`]
  })
}

/** What differs between the parts last stored for a stage and its parts now, one phrase each (empty: same key). */
export const changedParts = (before: CacheKeyParts, after: CacheKeyParts): ReadonlyArray<string> => [
  ...(before.format === after.format ? [] : ["cache format"]),
  ...(before.version === after.version ? [] : [`orchestrator version ${before.version} -> ${after.version}`]),
  ...(before.command === after.command ? [] : ["command"]),
  ...(before.cwd === after.cwd ? [] : [`cwd ${before.cwd} -> ${after.cwd}`]),
  ...diffRecord("env", before.env, after.env),
  ...diffRecord("input", before.inputs, after.inputs)
]

/** An entry as eviction sees it. */
export interface EntryUsage {
  readonly key: string
  readonly size: number
  readonly lastUsedMs: number
}

/** Least recently used first, until what stays fits in `maxBytes`: the keys to remove. */
export const evictionOrder = (entries: ReadonlyArray<EntryUsage>, maxBytes: number): ReadonlyArray<string> => {
  let total = entries.reduce((sum, entry) => sum + entry.size, 0)
  const gone: Array<string> = []
  for (const entry of [...entries].sort((a, b) => a.lastUsedMs - b.lastUsedMs || (a.key < b.key ? -1 : 1))) {
    if (total <= maxBytes) break
    gone.push(entry.key)
    total -= entry.size
  }
  return gone
}

const units: Readonly<Record<string, number>> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }

/** A size such as `1048576`, `512K`, `100M`, `2G` (binary units; a trailing `B`/`iB` is allowed). */
export const parseByteSize = (value: string): number | undefined => {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(value.trim())
  if (match === null) return undefined
  const bytes = Math.floor(Number(match[1]) * (units[(match[2] ?? "").toLowerCase()] ?? 1))
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined
}

/** A byte count as people read it: `1.5 MiB`. */
export const formatBytes = (bytes: number): string => {
  if (bytes < 1024) return `${bytes} B`
  const [unit, size] = bytes < 1024 ** 2 ? ["KiB", 1024] as const : bytes < 1024 ** 3 ? ["MiB", 1024 ** 2] as const : ["GiB", 1024 ** 3] as const
  return `${(bytes / size).toFixed(1)} ${unit}`
}

/** The cache's default size bound: 1 GiB. */
export const defaultCacheMaxBytes = 1024 ** 3
