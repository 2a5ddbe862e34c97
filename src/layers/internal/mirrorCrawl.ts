/**
 * The download-and-rewrite loop of `mirror fetch` (SPEC MIR-2): the routes and additional assets
 * first, then, wave after wave, the assets the rewritten pages and stylesheets refer to, at most
 * `concurrency` downloads at a time. Every file lands in the staging folder as soon as it is
 * rewritten (pages, stylesheets) or copied from the cache (anything else, never read into memory);
 * text assets are localised in a last pass, once every URL the mirror holds is known.
 */
import { createHash } from "node:crypto"
import type { Path } from "@effect/platform"
import { Effect, Either, Ref } from "effect"
import type { MirrorSettings } from "../../domain/MirrorConfig.js"
import { rewriteCss, rewriteHtml } from "../../domain/MirrorHtml.js"
import type { MirrorUrlRecord } from "../../domain/MirrorManifest.js"
import { hrefOfPath, localizeKnownUrls, localPathOf, type ResourceKind, type UrlMapping } from "../../domain/MirrorPaths.js"
import type { FileAccessError } from "../../domain/FileErrors.js"
import type { Files } from "../../services/Files.js"
import type { Downloaded, DownloadFailed } from "./mirrorDownload.js"

/** MIR-2: 8 hex digits of the query's SHA-1. Synchronous, as sha256.ts explains. */
export const sha1Hex8 = (text: string): string => createHash("sha1").update(text, "utf8").digest("hex").slice(0, 8)

export interface CrawlOptions {
  readonly settings: MirrorSettings
  readonly mapping: UrlMapping
  readonly files: Files["Type"]
  readonly path: Path.Path
  readonly stagingDir: string
  readonly concurrency: number
  readonly download: (url: string) => Effect.Effect<Either.Either<Downloaded, DownloadFailed>, FileAccessError>
  readonly progress: (done: number, total: number, bytes: number) => Effect.Effect<void>
}

interface Item {
  readonly url: string
  readonly kind: "route" | "asset"
}

type Content = "html" | "css" | "text" | "binary"

const textTypes = /^(text\/|application\/(javascript|x-javascript|ecmascript|json|ld\+json|manifest\+json|xml|rss\+xml|atom\+xml)|image\/svg\+xml)/i
const textExtensions = /\.(js|mjs|json|xml|svg|txt|webmanifest|map)$/i

const contentOf = (item: Item, contentType: string): Content => {
  if (item.kind === "route") return "html"
  const pathname = new URL(item.url).pathname
  if (/^text\/css/i.test(contentType) || pathname.endsWith(".css")) return "css"
  if (/^text\/html/i.test(contentType)) return "text"
  return textTypes.test(contentType) || textExtensions.test(pathname) ? "text" : "binary"
}

const decoder = new TextDecoder()
const encoder = new TextEncoder()

/** The most of a page, stylesheet or text asset read into memory to rewrite it. */
const rewriteLimitMib = 32
const rewriteLimit = rewriteLimitMib * 1024 * 1024

/** A URL staged: what was downloaded, the bytes staged and the URLs it refers to. */
interface Staged {
  readonly got: Downloaded
  readonly bytes: number
  readonly assets: ReadonlyArray<string>
}

export const crawl = (options: CrawlOptions) =>
  Effect.gen(function*() {
    const { files, mapping, path, settings } = options
    const done = yield* Ref.make({ count: 0, bytes: 0 })
    const records: Array<MirrorUrlRecord> = []
    const textAssets: Array<string> = []
    const known = new Map<string, string>()

    const stagedPath = (localPath: string) => path.join(options.stagingDir, ...localPath.split("/"))

    /**
     * Stages one downloaded URL and returns the URLs it refers to: a page or a stylesheet is read
     * (within `rewriteLimit`) and rewritten, anything else copied from the cache as it is, without
     * passing through memory. A text asset is localised in the last pass.
     */
    const store = (item: Item, got: Downloaded, localPath: string) =>
      Effect.gen(function*() {
        const content = contentOf(item, got.contentType)
        const target = stagedPath(localPath)
        yield* files.makeDirectory(path.dirname(target))
        if (content === "binary" || content === "text") {
          yield* files.copyFile(got.file, target)
          if (content === "text" && got.size <= rewriteLimit) textAssets.push(localPath)
          else if (content === "text") yield* Effect.logWarning(`${item.url}: ${got.size} bytes, over the ${rewriteLimitMib} MiB a text asset may have to get its URLs localised; copied as it is`)
          return Either.right<Staged>({ got, bytes: got.size, assets: [] })
        }
        if (got.size > rewriteLimit) {
          const what = content === "html" ? "page" : "stylesheet"
          const error = `${got.size} bytes, over the ${rewriteLimitMib} MiB a ${what} may have to be rewritten`
          return Either.left<DownloadFailed>({ httpStatus: got.httpStatus, attempts: got.attempts, error })
        }
        const text = (yield* files.readText(got.file)) ?? ""
        // Relative URLs are relative to where the page was answered (`/about` redirected to `/about/`).
        const context = { settings, mapping, documentUrl: new URL(got.answeredAt) }
        const rewritten = content === "html" ? rewriteHtml(text, context) : rewriteCss(text, context)
        const bytes = encoder.encode(rewritten.text)
        yield* files.writeBytes(target, bytes)
        return Either.right<Staged>({ got, bytes: bytes.length, assets: rewritten.assets })
      })

    const processItem = (item: Item, total: number) =>
      Effect.gen(function*() {
        const kind: ResourceKind = item.kind === "route" ? "page" : "asset"
        const localPath = localPathOf(new URL(item.url), mapping, kind)
        const result = yield* options.download(item.url)
        const base = { url: item.url, kind: item.kind }
        let discovered: ReadonlyArray<string> = []
        let bytes = 0
        const staged = Either.isLeft(result) ? Either.left(result.left) : yield* store(item, result.right, localPath)
        if (Either.isLeft(staged)) {
          const failed = staged.left
          records.push({ ...base, outcome: "failed", http_status: failed.httpStatus ?? null, path: null, bytes: 0, source: null, attempts: failed.attempts, error: failed.error })
        } else {
          const { got } = staged.right
          discovered = staged.right.assets
          bytes = staged.right.bytes
          if (item.kind === "asset") known.set(item.url, hrefOfPath(localPath))
          records.push({ ...base, outcome: got.outcome, http_status: got.httpStatus, path: localPath.slice(1), bytes, source: got.source ?? null, attempts: got.attempts, error: null })
        }
        const now = yield* Ref.updateAndGet(done, (d) => ({ count: d.count + 1, bytes: d.bytes + bytes }))
        yield* options.progress(now.count, total, now.bytes)
        return discovered
      })

    const seen = new Set<string>()
    const first: Array<Item> = [
      ...settings.routes.map((route) => ({ url: new URL(route, settings.origin).href, kind: "route" as const })),
      ...settings.additionalAssets.map((asset) => ({ url: new URL(asset, settings.origin).href, kind: "asset" as const }))
    ].filter((item) => !seen.has(item.url) && seen.add(item.url) !== undefined)
    let wave: ReadonlyArray<Item> = first
    let total = 0
    while (wave.length > 0) {
      total += wave.length
      const found = yield* Effect.forEach(wave, (item) => processItem(item, total), { concurrency: options.concurrency })
      wave = found.flat().filter((url) => !seen.has(url) && seen.add(url) !== undefined).map((url) => ({ url, kind: "asset" as const }))
    }

    for (const localPath of textAssets) {
      const target = stagedPath(localPath)
      const bytes = yield* files.readAllBytes(target)
      if (bytes !== undefined) yield* files.writeBytes(target, encoder.encode(localizeKnownUrls(decoder.decode(bytes), known, settings.origin)))
    }
    records.sort((a, b) => a.kind === b.kind ? a.url.localeCompare(b.url) : a.kind === "route" ? -1 : 1)
    return records
  })
