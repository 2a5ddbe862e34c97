/**
 * `packages/<project>/mirror.config.json` (SPEC MIR-1) and `compliance/permit.json`, as schemas, with
 * the defaults the original applied. Every bad field is reported at once by decodeJsonFile.
 */
import { Schema } from "effect"

const regexProblem = (source: string, flags = ""): string | undefined => {
  try {
    new RegExp(source, flags)
    return undefined
  } catch (error) {
    return `is not a valid regular expression (${error instanceof Error ? error.message : String(error)})`
  }
}

const RegexSource = Schema.String.pipe(Schema.filter((source) => regexProblem(source) ?? true))

const HttpUrl = Schema.String.pipe(
  Schema.filter((text) => {
    if (!URL.canParse(text)) return "must be an absolute URL such as https://example.com"
    const protocol = new URL(text).protocol
    return protocol === "http:" || protocol === "https:" ? true : "must be an http:// or https:// URL"
  })
)

/** A host no origin has: a path that resolves to another host against it is not on the origin. */
const probeOrigin = "http://origin.invalid"

const SitePath = Schema.String.pipe(
  Schema.filter((text) => {
    if (!text.startsWith("/")) return "must be a path on the origin, starting with /"
    // `//host/` and `/\host/` are read as another host's URL: the route would be fetched from there.
    if (!URL.canParse(text, probeOrigin) || new URL(text, probeOrigin).origin !== probeOrigin) {
      return "must be a path on the origin, starting with a single / (//host/ names another host)"
    }
    return true
  })
)

const RewriteRule = Schema.Struct({
  pattern: Schema.String,
  replace: Schema.String,
  flags: Schema.optional(Schema.String)
}).pipe(Schema.filter((rule) => regexProblem(rule.pattern, rule.flags ?? "") ?? true))

/** The file as written; optional fields get their defaults in `resolveMirrorConfig`. */
export const MirrorConfigFile = Schema.Struct({
  origin: HttpUrl,
  routes: Schema.Array(SitePath).pipe(Schema.minItems(1, { message: () => "must list at least one route, such as \"/\"" })),
  assetRoots: Schema.optional(Schema.Array(SitePath)),
  stripPatterns: Schema.optional(Schema.Array(RegexSource)),
  disableDefaultStripPatterns: Schema.optional(Schema.Boolean),
  rewriteRules: Schema.optional(Schema.Array(RewriteRule)),
  allowlistHosts: Schema.optional(Schema.Array(Schema.String)),
  blocklistHosts: Schema.optional(Schema.Array(Schema.String)),
  shareHostRewrites: Schema.optional(Schema.Record({ key: Schema.String, value: HttpUrl })),
  enableArchiveFallback: Schema.optional(Schema.Boolean),
  /** Ours: where the archive fallback asks (`<archiveBaseUrl><original url>`); default MIR-2's. */
  archiveBaseUrl: Schema.optional(HttpUrl),
  additionalAssets: Schema.optional(Schema.Array(Schema.String))
})
export type MirrorConfigFile = typeof MirrorConfigFile.Type

/**
 * Tracker scripts and pixels the original strips (gtag/gtm/analytics/hotjar/facebook/clarity...).
 * `mirror check` looks for the same patterns in responses and the DOM.
 */
export const defaultStripPatterns: ReadonlyArray<string> = [
  "googletagmanager\\.com",
  "google-analytics\\.com",
  "\\bgtag\\(",
  "\\bdataLayer\\.push\\b",
  "hotjar\\.com",
  "connect\\.facebook\\.net",
  "\\bfbq\\(",
  "facebook\\.com/tr\\b",
  "clarity\\.ms",
  "doubleclick\\.net",
  "googlesyndication\\.com"
]

export const defaultAssetRoots: ReadonlyArray<string> = ["/wp-content", "/wp-includes", "/"]

export const defaultShareHostRewrites: Readonly<Record<string, string>> = {
  "facebook.com": "https://fb.com",
  "www.facebook.com": "https://fb.com",
  "m.facebook.com": "https://fb.com"
}

export const defaultArchiveBaseUrl = "https://web.archive.org/web/0if_/"

export interface CompiledRewriteRule {
  readonly pattern: RegExp
  readonly replace: string
}

/** The configuration with every default applied; what fetch and check work from. */
export interface MirrorSettings {
  readonly origin: URL
  readonly routes: ReadonlyArray<string>
  readonly assetRoots: ReadonlyArray<string>
  readonly stripPatterns: ReadonlyArray<RegExp>
  readonly rewriteRules: ReadonlyArray<CompiledRewriteRule>
  /** Hosts (`host` or `host:port`) a mirrored page may load from: the configured ones, the origin's, localhost, 127.0.0.1. */
  readonly allowlistHosts: ReadonlyArray<string>
  readonly blocklistHosts: ReadonlyArray<string>
  readonly shareHostRewrites: Readonly<Record<string, string>>
  readonly enableArchiveFallback: boolean
  readonly archiveBaseUrl: string
  readonly additionalAssets: ReadonlyArray<string>
}

/** MIR-1's defaults; rewrite rules are always global (the original forced the `g` flag). */
export const resolveMirrorConfig = (file: MirrorConfigFile): MirrorSettings => {
  const origin = new URL(file.origin)
  const patterns = [...(file.disableDefaultStripPatterns === true ? [] : defaultStripPatterns), ...(file.stripPatterns ?? [])]
  return {
    origin,
    routes: file.routes,
    assetRoots: file.assetRoots ?? defaultAssetRoots,
    stripPatterns: patterns.map((source) => new RegExp(source, "i")),
    rewriteRules: (file.rewriteRules ?? []).map((rule) => {
      const flags = rule.flags ?? ""
      return { pattern: new RegExp(rule.pattern, flags.includes("g") ? flags : `${flags}g`), replace: rule.replace }
    }),
    allowlistHosts: [...new Set([...(file.allowlistHosts ?? []), origin.host, origin.hostname, "localhost", "127.0.0.1"])],
    blocklistHosts: file.blocklistHosts ?? [],
    shareHostRewrites: file.shareHostRewrites ?? defaultShareHostRewrites,
    enableArchiveFallback: file.enableArchiveFallback ?? true,
    archiveBaseUrl: file.archiveBaseUrl ?? defaultArchiveBaseUrl,
    additionalAssets: file.additionalAssets ?? []
  }
}

/** Whether `url`'s host is listed (by `host:port` or by host name) in `hosts`, subdomains included. */
export const hostListed = (url: URL, hosts: ReadonlyArray<string>): boolean =>
  hosts.some((entry) =>
    entry === url.host || entry === url.hostname || url.hostname.endsWith(`.${entry}`)
  )

/** `compliance/permit.json` as far as the mirror reads it: the origins in `allowedSources[].origin`. */
export const PermitFile = Schema.Struct({
  allowedSources: Schema.optional(Schema.Array(Schema.Struct({ origin: Schema.String })))
})
export type PermitFile = typeof PermitFile.Type

/** What the permit says about an origin; recorded in the mirror manifest, never blocking (MIR-2). */
export type PermitVerdict = "allowed" | "not-listed" | "no-permit-file" | "invalid"

export const permitVerdict = (permit: PermitFile | undefined, origin: URL): PermitVerdict => {
  if (permit === undefined) return "no-permit-file"
  const listed = (permit.allowedSources ?? []).some((source) =>
    URL.canParse(source.origin) && new URL(source.origin).origin === origin.origin
  )
  return listed ? "allowed" : "not-listed"
}
