import { Context, type Effect } from "effect"
import type { FileAccessError, InvalidFile } from "../domain/FileErrors.js"
import type { InvalidId } from "../domain/Ids.js"
import type { MirrorManifest } from "../domain/MirrorManifest.js"

/** The most one URL's body may have, in MiB, unless `--max-asset-mb` says otherwise (MIR-2). */
export const defaultMaxAssetMib = 1024

/** What `mirror fetch` fetches and whether it may promote. */
export interface MirrorFetchRequest {
  /** `packages/<project>/` holds the config and receives `public/`. */
  readonly project: string
  /** Another config file instead of `packages/<project>/mirror.config.json`. */
  readonly configPath?: string | undefined
  /** Stage and record, never promote. */
  readonly dryRun: boolean
  /** Promote even when some URLs failed. */
  readonly force: boolean
  /** Overrides the config's `enableArchiveFallback`. */
  readonly archiveFallback?: boolean | undefined
  /** Downloads at a time (default 6). */
  readonly concurrency?: number | undefined
  /** The most one URL's body may have, in MiB (default 1024): a larger one is stopped and fails. */
  readonly maxAssetMib?: number | undefined
}

/** The mirror manifest of a fetch and where it was written. */
export interface MirrorFetchResult {
  readonly manifest: MirrorManifest
  /** Relative to the repository root. */
  readonly manifestPath: string
}

/**
 * `mirror fetch` (SPEC MIR-1..3): downloads a site's routes and assets into a staging folder,
 * rewritten to work offline without trackers, records every URL in a mirror manifest and promotes
 * the staging folder to `packages/<project>/public` when nothing failed (or when forced). A fetch
 * with failures succeeds with status `incomplete`/`failed` in its manifest; only bad input (the
 * config, the project name) and our own file errors fail the effect.
 */
export class MirrorFetcher extends Context.Tag("orchestrator/MirrorFetcher")<
  MirrorFetcher,
  {
    readonly fetch: (request: MirrorFetchRequest) => Effect.Effect<MirrorFetchResult, InvalidFile | InvalidId | FileAccessError>
  }
>() {}
