import { HttpClient, Path } from "@effect/platform"
import { Console, DateTime, Effect, Layer, Schema } from "effect"
import { decodeJsonFile } from "../domain/FileErrors.js"
import { parseTaskId } from "../domain/Ids.js"
import { type MirrorSettings, PermitFile, permitVerdict, type PermitVerdict } from "../domain/MirrorConfig.js"
import {
  MirrorManifest,
  mirrorRunName,
  mirrorStatus,
  promotionOf,
  totalsOf,
  type MirrorUrlRecord
} from "../domain/MirrorManifest.js"
import { isSameOrigin } from "../domain/MirrorPaths.js"
import { Files } from "../services/Files.js"
import { defaultMaxAssetMib, MirrorFetcher, type MirrorFetchRequest } from "../services/MirrorFetcher.js"
import { BaseConfig } from "../services/BaseConfig.js"
import { crawl, sha1Hex8 } from "./internal/mirrorCrawl.js"
import { makeDownloader } from "./internal/mirrorDownload.js"
import { loadMirrorSettings, mirrorProject, type MirrorProject } from "./internal/mirrorProject.js"

const encodeManifest = Schema.encode(Schema.parseJson(MirrorManifest, { space: 2 }))

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`

/** The progress line on stderr (stdout keeps only the result, D-2). */
const progressLine = (done: number, total: number, bytes: number) =>
  Console.error(`[mirror:fetch] ${done}/${total} URLs, ${kib(bytes)}`)

const errorLine = (record: MirrorUrlRecord) => `${record.url}: ${record.error ?? "failed"}`

type ManifestHeader = Omit<MirrorManifest, "version" | "status" | "totals" | "urls" | "errors">

const manifestOf = (records: ReadonlyArray<MirrorUrlRecord>, header: ManifestHeader): MirrorManifest => ({
  version: 1,
  ...header,
  status: mirrorStatus(records),
  totals: totalsOf(records),
  urls: records,
  errors: records.filter((record) => record.outcome === "failed").map(errorLine)
})

/**
 * MIR-3: the staging folder replaces `public/` through a sibling copy and two renames (the old
 * copy aside, the new one in), and only then is the old copy removed. Run uninterruptibly (with
 * the manifest that records it): Ctrl-C or SIGTERM waits for it, so `public/` is the old copy or
 * the new one, whole, and no sibling is left (removing `public/` first, a signal left it half deleted).
 */
const promote = (files: Files["Type"], stagingDir: string, project: MirrorProject, runName: string) =>
  Effect.gen(function*() {
    const next = `${project.publicDir}.next-${runName}`
    const old = `${project.publicDir}.old-${runName}`
    yield* files.removeTree(next)
    yield* files.makeDirectory(project.dir)
    yield* files.copyTree(stagingDir, next)
    const hadCopy = (yield* files.info(project.publicDir)) !== undefined
    if (hadCopy) yield* files.rename(project.publicDir, old)
    yield* files.rename(next, project.publicDir)
    if (hadCopy) yield* files.removeTree(old)
  })

/**
 * `mirror fetch` on the platform HttpClient (FetchHttpClient in the CLI), the Files service and the
 * configured roots: `.runs/<task>/mirror/<project>/` receives the cache and one folder per fetch.
 */
export const MirrorFetcherLive = Layer.effect(
  MirrorFetcher,
  Effect.gen(function*() {
    const http = yield* HttpClient.HttpClient
    const files = yield* Files
    const path = yield* Path.Path
    const { envTaskId, roots } = yield* BaseConfig
    const shown = (absolute: string) => path.relative(roots.repoRoot, absolute)

    /** MIR-2: the task is MCP_RUNNER_TASK_ID, or `adhoc` with a warning. */
    const taskOf = envTaskId === undefined
      ? Effect.as(Effect.logWarning("MCP_RUNNER_TASK_ID is not set; mirror runs go to task adhoc"), "adhoc")
      : Effect.map(parseTaskId(envTaskId, "MCP_RUNNER_TASK_ID"), (id): string => id)

    /** MIR-2: consulted and recorded, never blocking; a permit that does not list the origin is a warning. */
    const readPermit = (origin: URL) =>
      Effect.gen(function*() {
        const permitPath = path.join(roots.repoRoot, "compliance", "permit.json")
        const text = yield* files.readText(permitPath)
        const verdict: PermitVerdict = text === undefined
          ? "no-permit-file"
          : yield* decodeJsonFile(PermitFile, shown(permitPath))(text).pipe(
            Effect.map((permit) => permitVerdict(permit, origin)),
            Effect.catchAll((error) => Effect.as(Effect.logWarning(error.message), "invalid" as const))
          )
        if (verdict === "not-listed") yield* Effect.logWarning(`${origin.origin} is not listed in ${shown(permitPath)} (allowedSources)`)
        return { path: shown(permitPath), verdict }
      })

    const runCrawl = (settings: MirrorSettings, request: MirrorFetchRequest, cacheDir: string, stagingDir: string) => {
      const archive = request.archiveFallback ?? settings.enableArchiveFallback
      return crawl({
        settings,
        mapping: { origin: settings.origin, hashQuery: sha1Hex8 },
        files,
        path,
        stagingDir,
        concurrency: request.concurrency ?? 6,
        progress: progressLine,
        download: makeDownloader({
          http,
          files,
          cacheDir,
          archiveBaseUrl: archive ? settings.archiveBaseUrl : undefined,
          isOrigin: (url) => isSameOrigin(new URL(url), settings.origin),
          retry: { attempts: 3, initialDelayMs: 250, factor: 2 },
          timeout: "30 seconds",
          maxAssetMib: request.maxAssetMib ?? defaultMaxAssetMib,
          capFlag: "--max-asset-mb"
        })
      })
    }

    const fetch = Effect.fn("MirrorFetcher.fetch")(function*(request: MirrorFetchRequest) {
      const project = yield* mirrorProject(path, roots.repoRoot, request.project, request.configPath)
      const settings = yield* loadMirrorSettings(files, path, roots.repoRoot, project)
      const taskId = yield* taskOf
      const startedAt = DateTime.formatIso(yield* DateTime.now)
      const runName = mirrorRunName(startedAt)
      const projectRuns = path.join(roots.runsRoot, taskId, "mirror", project.name)
      const runDir = path.join(projectRuns, runName)
      const stagingDir = path.join(runDir, "staging", "public")
      // Ctrl-C before the manifest: the half-staged fetch folder goes (a folder without a manifest says
      // nothing); the cache keeps what arrived.
      const { permit, records } = yield* Effect.gen(function*() {
        yield* files.makeDirectory(stagingDir)
        const permit = yield* readPermit(settings.origin)
        return { permit, records: yield* runCrawl(settings, request, path.join(projectRuns, "cache"), stagingDir) }
      }).pipe(Effect.onInterrupt(() => Effect.ignore(files.removeTree(runDir))))
      const status = mirrorStatus(records)
      const promotion = promotionOf(status, request)
      return yield* Effect.uninterruptible(Effect.gen(function*() {
        if (promotion === "promoted") yield* promote(files, stagingDir, project, runName)
        const manifest = manifestOf(records, {
          project: project.name,
          task_id: taskId,
          origin: settings.origin.origin,
          started_at: startedAt,
          completed_at: DateTime.formatIso(yield* DateTime.now),
          dry_run: request.dryRun,
          force: request.force,
          archive_fallback: request.archiveFallback ?? settings.enableArchiveFallback,
          promotion,
          run_dir: shown(runDir),
          staging_dir: shown(stagingDir),
          public_dir: shown(project.publicDir),
          permit
        })
        const manifestPath = path.join(runDir, "manifest.json")
        yield* files.writeAtomic(manifestPath, `${yield* Effect.orDie(encodeManifest(manifest))}\n`)
        return { manifest, manifestPath: shown(manifestPath) }
      }))
    })

    return MirrorFetcher.of({ fetch })
  })
)
