/**
 * The download-and-rewrite loop of `mirror fetch` (SPEC MIR-2): the routes and additional assets
 * first, then, wave after wave, the assets the rewritten pages and stylesheets refer to, at most
 * `concurrency` downloads at a time. Every file lands in the staging folder as soon as it is
 * rewritten; text assets are localised in a last pass, once every URL the mirror holds is known.
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

export const crawl = (options: CrawlOptions) =>
  Effect.gen(function*() {
    const { files, mapping, path, settings } = options
    const done = yield* Ref.make({ count: 0, bytes: 0 })
    const records: Array<MirrorUrlRecord> = []
    const textAssets: Array<string> = []
    const known = new Map<string, string>()

    const write = (localPath: string, bytes: Uint8Array) =>
      Effect.gen(function*() {
        const target = path.join(options.stagingDir, ...localPath.split("/"))
        yield* files.makeDirectory(path.dirname(target))
        yield* files.writeBytes(target, bytes)
      })

    /** Stores one downloaded URL (rewritten when it is a page or a stylesheet) and returns the URLs it refers to. */
    const store = (item: Item, got: Downloaded, localPath: string) =>
      Effect.gen(function*() {
        const content = contentOf(item, got.contentType)
        const context = { settings, mapping, documentUrl: new URL(item.url) }
        const rewritten = content === "html"
          ? rewriteHtml(decoder.decode(got.bytes), context)
          : content === "css"
          ? rewriteCss(decoder.decode(got.bytes), context)
          : undefined
        const bytes = rewritten === undefined ? got.bytes : encoder.encode(rewritten.text)
        yield* write(localPath, bytes)
        if (content === "text") textAssets.push(localPath)
        return { bytes: bytes.length, assets: rewritten?.assets ?? [] }
      })

    const processItem = (item: Item, total: number) =>
      Effect.gen(function*() {
        const kind: ResourceKind = item.kind === "route" ? "page" : "asset"
        const localPath = localPathOf(new URL(item.url), mapping, kind)
        const result = yield* options.download(item.url)
        const base = { url: item.url, kind: item.kind }
        let discovered: ReadonlyArray<string> = []
        let bytes = 0
        if (Either.isLeft(result)) {
          const failed = result.left
          records.push({ ...base, outcome: "failed", http_status: failed.httpStatus ?? null, path: null, bytes: 0, source: null, attempts: failed.attempts, error: failed.error })
        } else {
          const got = result.right
          const stored = yield* store(item, got, localPath)
          discovered = stored.assets
          bytes = stored.bytes
          if (item.kind === "asset") known.set(item.url, hrefOfPath(localPath))
          records.push({ ...base, outcome: got.outcome, http_status: got.httpStatus, path: localPath.slice(1), bytes: stored.bytes, source: got.source ?? null, attempts: got.attempts, error: null })
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
      const target = path.join(options.stagingDir, ...localPath.split("/"))
      const bytes = yield* files.readAllBytes(target)
      if (bytes !== undefined) yield* files.writeBytes(target, encoder.encode(localizeKnownUrls(decoder.decode(bytes), known, settings.origin)))
    }
    records.sort((a, b) => a.kind === b.kind ? a.url.localeCompare(b.url) : a.kind === "route" ? -1 : 1)
    return records
  })
