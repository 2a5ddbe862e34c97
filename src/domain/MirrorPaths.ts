/**
 * Where each URL of a mirrored site is stored, and how a reference to it is written (SPEC MIR-2):
 * origin files keep their path, other hosts' go under `/external/<host>/`, a query string becomes
 * `__<8 hex>` before the extension, pages without an extension become `<path>/index.html`, a name too
 * long for a file system is cut and tagged with its hash. Pure: the hash is given by the caller.
 */
import { utf8Length } from "./Bytes.js"

/** What the mapping needs to know: the site's origin and how to hash a query string or a long name (8 hex digits). */
export interface UrlMapping {
  readonly origin: URL
  readonly hashQuery: (query: string) => string
}

/** A page is stored as `…/index.html` when its path names a folder; an asset keeps its name. */
export type ResourceKind = "page" | "asset"

/** A segment that is safe as a file name: decoded, and never `.`, `..`, empty, or holding `/`, `\` or NUL. */
const safeSegment = (segment: string): string => {
  let decoded = segment
  try {
    decoded = decodeURIComponent(segment)
  } catch {
    decoded = segment
  }
  const cleaned = decoded.replace(/[/\\\0]/g, "_")
  return cleaned === "." || cleaned === ".." ? "_" : cleaned
}

const extensionIndex = (name: string): number => {
  const dot = name.lastIndexOf(".")
  return dot > 0 ? dot : -1
}

/** The most UTF-8 bytes a stored name has: file systems refuse names over 255, and a query tag or a temporary suffix may follow. */
const nameMax = 200

/** The longest extension a cut name keeps. */
const extensionMax = 16

/** The longest head of `text` within `bytes` UTF-8 bytes, never cutting a character. */
const headOf = (text: string, bytes: number): string => {
  let head = ""
  let used = 0
  for (const char of text) {
    used += utf8Length(char)
    if (used > bytes) break
    head += char
  }
  return head
}

/** `name` when it fits in `nameMax` bytes, else its head, `__<hash of the name>` and its extension. */
const fittedName = (name: string, hash: (text: string) => string): string => {
  if (utf8Length(name) <= nameMax) return name
  const dot = extensionIndex(name)
  const extension = dot >= 0 && utf8Length(name.slice(dot)) <= extensionMax ? name.slice(dot) : ""
  const tag = `__${hash(name)}`
  return `${headOf(name.slice(0, name.length - extension.length), nameMax - utf8Length(tag) - utf8Length(extension))}${tag}${extension}`
}

export const isSameOrigin = (url: URL, origin: URL): boolean => url.origin === origin.origin

/** Only http(s) URLs are ever fetched or rewritten; data:, mailto:, javascript: and the like stay as written. */
export const isWebUrl = (url: URL): boolean => url.protocol === "http:" || url.protocol === "https:"

/** Resolves `reference` against `base`; undefined for references that are not web URLs or do not parse. */
export const resolveReference = (reference: string, base: URL): URL | undefined => {
  const trimmed = reference.trim()
  if (trimmed.length === 0 || trimmed.startsWith("#")) return undefined
  if (!URL.canParse(trimmed, base.href)) return undefined
  const url = new URL(trimmed, base)
  if (!isWebUrl(url)) return undefined
  url.hash = ""
  return url
}

/**
 * The file path (from the mirror's root, starting with `/`, segments decoded) where `url` is stored.
 */
export const localPathOf = (url: URL, mapping: UrlMapping, kind: ResourceKind): string => {
  const raw = url.pathname.split("/").slice(1)
  const trailingSlash = raw.length === 0 || raw[raw.length - 1] === ""
  const segments = raw.filter((segment) => segment.length > 0).map((segment) => fittedName(safeSegment(segment), mapping.hashQuery))
  const prefix = isSameOrigin(url, mapping.origin) ? [] : ["external", fittedName(safeSegment(url.host), mapping.hashQuery)]
  let last = trailingSlash ? (kind === "page" ? "index.html" : "index") : segments.pop() ?? "index"
  if (!trailingSlash && kind === "page" && extensionIndex(last) < 0) {
    segments.push(last)
    last = "index.html"
  }
  const query = url.search.length > 1 ? url.search.slice(1) : ""
  if (query.length > 0 && kind === "asset") {
    const dot = extensionIndex(last)
    const tag = `__${mapping.hashQuery(query)}`
    last = dot < 0 ? `${last}${tag}` : `${last.slice(0, dot)}${tag}${last.slice(dot)}`
  }
  return `/${[...prefix, ...segments, last].join("/")}`
}

/** A local path written as a URL path: each segment percent-encoded, `:` (a host's port) and `@` kept readable. */
export const hrefOfPath = (localPath: string): string =>
  localPath.split("/").map((segment) => encodeURIComponent(segment).replace(/%3A/gi, ":").replace(/%40/g, "@")).join("/")

/** A same-origin link made relative to the site root (scheme and host dropped; path, query and fragment kept). */
export const rootRelative = (url: URL): string => `${url.pathname}${url.search}${url.hash}`

/** One `srcset` candidate: its URL and its descriptor (`2x`, `300w`, or empty). */
export interface SrcsetCandidate {
  readonly url: string
  readonly descriptor: string
}

/**
 * Splits a `srcset` the way the HTML standard reads it: a URL runs to the next whitespace (trailing
 * commas belong to the separator), its descriptors to the next comma.
 */
export const parseSrcset = (srcset: string): ReadonlyArray<SrcsetCandidate> => {
  const candidates: Array<SrcsetCandidate> = []
  let position = 0
  while (position < srcset.length) {
    while (position < srcset.length && /[\s,]/.test(srcset.charAt(position))) position += 1
    if (position >= srcset.length) break
    const urlStart = position
    while (position < srcset.length && !/\s/.test(srcset.charAt(position))) position += 1
    let url = srcset.slice(urlStart, position)
    let descriptor = ""
    if (url.endsWith(",")) {
      url = url.replace(/,+$/, "")
    } else {
      const descriptorStart = position
      while (position < srcset.length && srcset.charAt(position) !== ",") position += 1
      descriptor = srcset.slice(descriptorStart, position).trim()
    }
    if (url.length > 0) candidates.push({ url, descriptor })
  }
  return candidates
}

export const formatSrcset = (candidates: ReadonlyArray<SrcsetCandidate>): string =>
  candidates.map((candidate) => candidate.descriptor.length > 0 ? `${candidate.url} ${candidate.descriptor}` : candidate.url)
    .join(", ")

/** What a rewrite found: the URLs the rewritten text now points at locally, to be downloaded. */
export interface Rewritten {
  readonly text: string
  readonly assets: ReadonlyArray<string>
}

/**
 * Decides, for an asset reference, the local href to write, or undefined to leave it as it is. The
 * HTML and CSS rewriters share it; it records every URL it localises.
 */
export type AssetLocalizer = (reference: string, base: URL) => string | undefined

// `url(...)` with or without quotes, and `@import "..."`; CSS is not HTML, and these two forms are
// the whole of how a stylesheet refers to other files.
const cssUrlPattern = /url\(\s*(["']?)([^"')]*?)\1\s*\)|@import\s+(["'])([^"']+)\3/g

/** Localises every `url()` and `@import` of a stylesheet (or a `style` attribute) resolved against `base`. */
export const rewriteCssUrls = (css: string, base: URL, localize: AssetLocalizer): string =>
  css.replace(cssUrlPattern, (match, quote: string | undefined, url: string | undefined, importQuote: string | undefined, importUrl: string | undefined) => {
    if (importUrl !== undefined && importQuote !== undefined) {
      const local = localize(importUrl, base)
      return local === undefined ? match : `@import ${importQuote}${local}${importQuote}`
    }
    if (url === undefined) return match
    const local = localize(url, base)
    return local === undefined ? match : `url(${quote ?? ""}${local}${quote ?? ""})`
  })

/**
 * Replaces every occurrence of each known absolute URL (longest first, so a URL is never replaced
 * inside a longer one) with its local href, then any remaining mention of the origin with nothing, so
 * text assets (scripts, JSON, SVG) point at the mirror too (MIR-2 "known URLs in text assets").
 */
export const localizeKnownUrls = (
  text: string,
  known: ReadonlyMap<string, string>,
  origin: URL
): string => {
  const urls = [...known.keys()].sort((a, b) => b.length - a.length)
  let out = text
  for (const url of urls) {
    const local = known.get(url)
    if (local !== undefined && out.includes(url)) out = out.split(url).join(local)
  }
  return stripOrigin(out, origin)
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/**
 * Drops the origin (http and https, plain and JSON-escaped) from absolute URLs in `text`, leaving
 * root-relative ones; a bare origin becomes `/`. A longer host (`example.community` for
 * `example.com`) or another port is left alone.
 */
export const stripOrigin = (text: string, origin: URL): string => {
  const pattern = new RegExp(`https?:(?:\\\\?/){2}${escapeRegExp(origin.host)}(?![\\w.:-])`, "gi")
  return text.replace(pattern, (match: string, offset: number) => {
    const next = text.slice(offset + match.length, offset + match.length + 2)
    return next.startsWith("/") || next === "\\/" ? "" : "/"
  })
}
