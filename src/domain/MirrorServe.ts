/**
 * The decisions of `mirror serve` (SPEC MIR-4) that need no I/O: which file a request path names (or
 * why it is refused), what a Range header asks for, and the headers each kind of file gets.
 */
import { utf8Length } from "./Bytes.js"

/** A request path that names a file under the root, or the status that refuses it. */
export type RequestTarget =
  | { readonly _tag: "File"; readonly segments: ReadonlyArray<string> }
  | { readonly _tag: "Refused"; readonly status: 400 | 403 | 404; readonly reason: string }

/** The longest file name (UTF-8 bytes) a file system holds: a longer one names nothing. */
const nameMax = 255

/**
 * Reads the raw request target: the path is percent-decoded once and split on `/` and `\`; a NUL byte
 * (raw or encoded) or a `..` segment (raw or encoded) is refused with 403, before anything touches
 * the disk. Empty and `.` segments are dropped; a segment longer than a file name can be is not found (404).
 */
export const requestTarget = (rawUrl: string): RequestTarget => {
  const pathPart = rawUrl.split(/[?#]/)[0] ?? ""
  if (pathPart.includes("\0") || /%00/i.test(pathPart)) return { _tag: "Refused", status: 403, reason: "NUL byte in path" }
  let decoded: string
  try {
    decoded = decodeURIComponent(pathPart)
  } catch {
    return { _tag: "Refused", status: 400, reason: "malformed percent-encoding" }
  }
  const segments = decoded.split(/[/\\]/).filter((segment) => segment.length > 0 && segment !== ".")
  if (segments.includes("..")) return { _tag: "Refused", status: 403, reason: "path traversal" }
  if (segments.some((segment) => utf8Length(segment) > nameMax)) {
    return { _tag: "Refused", status: 404, reason: `a name longer than ${nameMax} bytes` }
  }
  return { _tag: "File", segments }
}

/** Whether a file name has an extension (`about` has none, so `/about` serves `about/index.html`). */
export const hasExtension = (segments: ReadonlyArray<string>): boolean => {
  const last = segments[segments.length - 1]
  return last !== undefined && last.lastIndexOf(".") > 0
}

export type RangeRequest =
  | { readonly _tag: "Whole" }
  | { readonly _tag: "Part"; readonly start: number; readonly end: number }
  | { readonly _tag: "Unsatisfiable" }

/**
 * One byte range of a file of `size` bytes (RFC 9110 §14): `bytes=a-b`, `bytes=a-`, `bytes=-n`.
 * Several ranges are answered with the whole file (a server may ignore Range); a syntactically bad
 * or unsatisfiable one is 416.
 */
export const parseRange = (header: string | undefined, size: number): RangeRequest => {
  if (header === undefined) return { _tag: "Whole" }
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (match === null) return header.includes(",") && header.trim().startsWith("bytes=") ? { _tag: "Whole" } : { _tag: "Unsatisfiable" }
  const [, first = "", last = ""] = match
  if (first === "" && last === "") return { _tag: "Unsatisfiable" }
  if (first === "") {
    const suffix = Number(last)
    return suffix === 0 || size === 0 ? { _tag: "Unsatisfiable" } : { _tag: "Part", start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(first)
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1)
  return start >= size || end < start ? { _tag: "Unsatisfiable" } : { _tag: "Part", start, end }
}

export type CspChoice = "self" | "strict" | "off" | string

const cspPolicies: Readonly<Record<string, string>> = {
  self: "default-src 'self'; img-src 'self' data: blob:; media-src 'self' data: blob:; font-src 'self' data:; " +
    "style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; connect-src 'self'; frame-src 'self'; " +
    "object-src 'none'; base-uri 'self'; form-action 'self'",
  strict: "default-src 'self'; img-src 'self' data:; font-src 'self'; style-src 'self'; script-src 'self'; " +
    "connect-src 'self'; frame-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

/** What a header value may hold (as Node checks it): tab, visible ASCII, space and Latin-1. */
const headerValue = /^[\t\x20-\x7e\x80-\xff]*$/

/**
 * Why `--csp` cannot be served, or undefined: a policy that no header can carry (a line break, a
 * control character, a curly quote pasted from a document) would make every HTML answer fail.
 */
export const cspProblem = (choice: CspChoice): string | undefined =>
  choice.trim().length === 0
    ? "it is empty"
    : headerValue.test(choice)
    ? undefined
    : "a header cannot hold a line break, a control character or a character beyond Latin-1"

/** The Content-Security-Policy for HTML: a named policy, none with `off`, or the given policy verbatim. */
export const cspHeader = (choice: CspChoice): string | undefined => choice === "off" ? undefined : cspPolicies[choice] ?? choice

const mimeTypes: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  htm: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  json: "application/json",
  map: "application/json",
  webmanifest: "application/manifest+json",
  xml: "application/xml",
  txt: "text/plain; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  avif: "image/avif",
  ico: "image/x-icon",
  woff: "font/woff",
  woff2: "font/woff2",
  ttf: "font/ttf",
  otf: "font/otf",
  eot: "application/vnd.ms-fontobject",
  mp4: "video/mp4",
  webm: "video/webm",
  mp3: "audio/mpeg",
  ogg: "audio/ogg",
  wav: "audio/wav",
  pdf: "application/pdf"
}

const extensionOf = (file: string) => {
  const name = file.slice(file.lastIndexOf("/") + 1)
  const dot = name.lastIndexOf(".")
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : ""
}

export const contentTypeOf = (file: string): string => mimeTypes[extensionOf(file)] ?? "application/octet-stream"

export const isHtmlFile = (file: string): boolean => ["html", "htm"].includes(extensionOf(file))

/** MIR-4: HTML is revalidated every time and carries the CSP; everything else is immutable for a year. */
export const fileHeaders = (file: string, csp: CspChoice, range: boolean): Record<string, string> => {
  const policy = isHtmlFile(file) ? cspHeader(csp) : undefined
  return {
    "content-type": contentTypeOf(file),
    "cache-control": isHtmlFile(file) ? "no-cache" : "public, max-age=31536000, immutable",
    "x-content-type-options": "nosniff",
    ...(range ? { "accept-ranges": "bytes" } : {}),
    ...(policy === undefined ? {} : { "content-security-policy": policy })
  }
}
