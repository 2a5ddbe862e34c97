/**
 * The stage cache on the command line (DECISIONS B-5): `cache stats`, `cache prune`, and what
 * `plan --explain-cache` adds (per cached stage: hit or miss, and for a miss what changed since the
 * last entry stored for it).
 */
import { Command, Options } from "@effect/cli"
import { Path } from "@effect/platform"
import { Console, Effect, Option } from "effect"
import { formatBytes, parseByteSize } from "../domain/StageCache.js"
import { OrchestratorConfig } from "../services/OrchestratorConfig.js"
import type { PlanView } from "../services/RunEngine.js"
import { type CacheStats, StageCache } from "../services/StageCache.js"
import { format, printJson, UsageError, verbose } from "./shared.js"

const statsText = (stats: CacheStats) =>
  [
    `Cache: ${stats.dir}${stats.enabled ? "" : " (off: CODEX_ORCHESTRATOR_CACHE=off)"}`,
    `Entries: ${stats.entries}`,
    `Size: ${formatBytes(stats.bytes)} of ${formatBytes(stats.maxBytes)}`
  ].join("\n")

const entryCount = (n: number) => `${n} ${n === 1 ? "entry" : "entries"}`

const statsJson = (stats: CacheStats) => ({
  dir: stats.dir,
  enabled: stats.enabled,
  entries: stats.entries,
  bytes: stats.bytes,
  max_bytes: stats.maxBytes
})

const stats = Command.make("stats", { format, verbose }, (flags) =>
  Effect.gen(function*() {
    const result = yield* (yield* StageCache).stats
    yield* flags.format === "json" ? printJson(statsJson(result)) : Console.log(statsText(result))
  })).pipe(Command.withDescription(
  "Show where the stage cache is, how many entries it holds and their size against its bound. Example: codex-orchestrator cache stats --format json"
))

const prune = Command.make(
  "prune",
  {
    format,
    verbose,
    all: Options.boolean("all").pipe(Options.withDescription("Remove every entry")),
    maxSize: Options.text("max-size").pipe(
      Options.withDescription("Evict least recently used entries until the cache fits in this size (1048576, 512M, 2G); default its bound"),
      Options.optional
    )
  },
  (flags) =>
    Effect.gen(function*() {
      const maxBytes = Option.isNone(flags.maxSize) ? undefined : parseByteSize(flags.maxSize.value)
      if (Option.isSome(flags.maxSize) && maxBytes === undefined) {
        const given = flags.maxSize.value
        return yield* new UsageError({
          reason: Number.parseFloat(given) === 0
            ? `--max-size ${given} leaves no room for any entry; give a size such as 512M or 2G, or --all to remove every entry.`
            : `--max-size ${given} is not a size; give bytes or a size such as 512M or 2G.`
        })
      }
      const result = yield* (yield* StageCache).prune({ all: flags.all, ...(maxBytes === undefined ? {} : { maxBytes }) })
      yield* flags.format === "json"
        ? printJson({ removed: result.removed, freed_bytes: result.freedBytes, ...statsJson(result.stats) })
        : Console.log(`Removed ${entryCount(result.removed)} (${formatBytes(result.freedBytes)}).\n${statsText(result.stats)}`)
    })
).pipe(Command.withDescription(
  "Remove damaged entries and leftovers of interrupted writes, then evict least recently used entries until the cache " +
    "fits its bound (or --max-size); --all empties it. Example: codex-orchestrator cache prune --max-size 512M"
))

/** `cache`: needs StageCache from its caller (subcommandsOn provides the engine). */
export const cache = Command.make("cache").pipe(
  Command.withDescription(
    "The stage cache (stages with a `cache` block): where it is and its size (stats), and cleaning it (prune). " +
      "CODEX_ORCHESTRATOR_CACHE_DIR moves it (default <runs root>/.cache), CODEX_ORCHESTRATOR_CACHE_MAX_SIZE bounds it (default 1G)."
  ),
  Command.withSubcommands([stats, prune])
)

export const explainCacheOption = Options.boolean("explain-cache").pipe(
  Options.withDescription("For each stage with a cache block: hit or miss, and for a miss what changed since its last stored entry")
)

/** One stage's cache verdict, as plan --explain-cache prints it. */
interface CacheVerdict {
  readonly stage: string
  readonly status: "hit" | "miss" | "off" | "uncached"
  readonly key: string | null
  readonly from_run: string | null
  readonly changed: ReadonlyArray<string>
}

/** Looks every command stage of the plan up in the cache, without running anything. */
export const explainCache = (view: PlanView) =>
  Effect.gen(function*() {
    const cache = yield* StageCache
    const path = yield* Path.Path
    const { roots } = yield* OrchestratorConfig
    return yield* Effect.forEach(view.pipeline.stages, (stage) =>
      Effect.gen(function*() {
        if (stage.kind !== "command" || stage.cache === undefined) {
          return { stage: stage.id, status: "uncached", key: null, from_run: null, changed: [] } satisfies CacheVerdict
        }
        const found = yield* cache.explain({
          pipelineId: view.pipeline.id,
          taskId: view.taskId,
          stageId: stage.id,
          command: stage.command,
          cwd: stage.cwd === undefined ? roots.repoRoot : path.resolve(stage.cwd),
          env: stage.env ?? {},
          spec: stage.cache
        })
        return found._tag === "Off"
          ? { stage: stage.id, status: "off", key: null, from_run: null, changed: [] } satisfies CacheVerdict
          : found._tag === "Hit"
          ? { stage: stage.id, status: "hit", key: found.key.key, from_run: found.meta.from_run, changed: [] } satisfies CacheVerdict
          : {
            stage: stage.id,
            status: "miss",
            key: found.key.key,
            from_run: null,
            changed: !found.stored ? ["never stored"] : found.changed.length === 0 ? ["entry evicted or removed"] : found.changed
          } satisfies CacheVerdict
      }))
  })

/** The verdicts as text lines under `Cache:`. */
export const cacheText = (verdicts: ReadonlyArray<CacheVerdict>) =>
  ["Cache:", ...verdicts.map((v) =>
    v.status === "hit"
      ? `  ${v.stage}: hit ${v.key?.slice(0, 12)} (from run ${v.from_run})`
      : v.status === "miss"
      ? `  ${v.stage}: miss ${v.key?.slice(0, 12)} (${v.changed.length === 0 ? "no entry" : v.changed.join(", ")})`
      : `  ${v.stage}: ${v.status === "off" ? "cache off" : "not cached"}`
  )].join("\n")
