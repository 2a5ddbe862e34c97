/**
 * `design reference`: an offline copy of each source with the mirror's machinery (mirrorCrawl:
 * assets downloaded and localised, trackers stripped, origin links made root-relative), staged in
 * `reference/<slug>/`. Because the copy keeps the origin's paths, absolute paths such as
 * `/wp-content/...` resolve when the folder is served as a site root; a page that is not at `/`
 * also gets a root `index.html` shortcut. The scroll fallback script goes into the page.
 */
import type { HttpClient, Path } from "@effect/platform"
import { Console, Effect } from "effect"
import type { DesignSource } from "../../domain/DesignConfig.js"
import type { DesignLayout } from "../../domain/DesignPaths.js"
import { withScrollFallback } from "../../domain/DesignStyleguide.js"
import { resolveMirrorConfig } from "../../domain/MirrorConfig.js"
import { mirrorStatus, totalsOf } from "../../domain/MirrorManifest.js"
import { isSameOrigin, localPathOf, type UrlMapping } from "../../domain/MirrorPaths.js"
import { DesignToolFailed } from "../../services/DesignToolkit.js"
import type { Files } from "../../services/Files.js"
import { defaultMaxAssetMib } from "../../services/MirrorFetcher.js"
import { pagePathOf } from "./designCaptureSteps.js"
import type { makeFileSteps } from "./designFileSteps.js"
import { crawl, sha1Hex8 } from "./mirrorCrawl.js"
import { makeDownloader } from "./mirrorDownload.js"

export interface ReferenceDeps {
  readonly files: Files["Type"]
  readonly path: Path.Path
  readonly http: HttpClient.HttpClient
  readonly steps: ReturnType<typeof makeFileSteps>
  /** Where downloads are cached between runs of a task. */
  readonly cacheRoot: string
}

const decoder = new TextDecoder()
const encoder = new TextEncoder()

/** The files of a reference copy in `dir` that hold the source's page: its own, and the root shortcut when it is elsewhere. */
export const pageFilesOf = (path: Path.Path, dir: string, source: DesignSource): ReadonlyArray<string> => {
  const local = localPathOf(new URL(source.url), { origin: new URL(new URL(source.url).origin), hashQuery: sha1Hex8 }, "page")
  const file = path.join(dir, ...local.split("/").filter((s) => s.length > 0))
  return local === "/index.html" ? [file] : [file, path.join(dir, "index.html")]
}

export const makeReferenceStep = ({ cacheRoot, files, http, path, steps }: ReferenceDeps) => {
  /** The page with the fallback script, and the root shortcut when the page is not the root. */
  const finishPage = (dir: string, source: DesignSource) =>
    Effect.gen(function*() {
      const [file, ...shortcut] = pageFilesOf(path, dir, source)
      const bytes = file === undefined ? undefined : yield* files.readAllBytes(file)
      if (file === undefined || bytes === undefined) return
      const html = encoder.encode(withScrollFallback(decoder.decode(bytes)))
      yield* files.writeBytes(file, html)
      yield* Effect.forEach(shortcut, (other) => files.writeBytes(other, html))
    })

  return (layout: DesignLayout, source: DesignSource) =>
    Effect.gen(function*() {
      const dir = yield* steps.dirOf(layout, "reference", source)
      const origin = new URL(source.url)
      const settings = resolveMirrorConfig({ origin: origin.origin, routes: [pagePathOf(source.url)], enableArchiveFallback: false })
      const mapping: UrlMapping = { origin: settings.origin, hashQuery: sha1Hex8 }
      yield* files.removeTree(dir)
      yield* files.makeDirectory(dir)
      const records = yield* crawl({
        settings,
        mapping,
        files,
        path,
        stagingDir: dir,
        concurrency: 6,
        progress: (done, total) => done === total ? Console.error(`[design:reference] ${source.dir}: ${done}/${total} URLs`) : Effect.void,
        download: makeDownloader({
          http,
          files,
          cacheDir: path.join(cacheRoot, source.dir),
          archiveBaseUrl: undefined,
          isOrigin: (url) => isSameOrigin(new URL(url), settings.origin),
          retry: { attempts: 3, initialDelayMs: 250, factor: 2 },
          timeout: "30 seconds",
          maxAssetMib: defaultMaxAssetMib,
          capFlag: undefined
        })
      })
      const status = mirrorStatus(records)
      if (status === "failed") {
        return yield* new DesignToolFailed({ tool: "design reference", detail: `${source.url} could not be fetched: ${records.find((r) => r.kind === "route")?.error ?? "failed"}` })
      }
      for (const record of records.filter((r) => r.outcome === "failed")) {
        yield* Effect.logWarning(`reference ${source.dir}: ${record.url} failed (${record.error ?? "no answer"}); the copy may look different`)
      }
      yield* finishPage(dir, source)
      const totals = totalsOf(records)
      return {
        line: `${source.dir}: ${totals.urls} URLs (${totals.failed} failed), ${totals.bytes} bytes -> ${layout.relative(dir)}`,
        artifacts: [layout.relative(dir)]
      }
    })
}
