/**
 * What `mirror check` (SPEC MIR-5) reports, and the judgements it makes without a browser: which
 * requests leave the allowed hosts, which text carries a tracker, which markup still points at the
 * origin or a blocklisted host.
 */
import { Schema } from "effect"
import { hostListed, type MirrorSettings } from "./MirrorConfig.js"

export const CheckIssueKind = Schema.Literal(
  "route-status",
  "outbound-request",
  "http-error",
  "request-failed",
  "tracker",
  "absolute-reference"
)
export type CheckIssueKind = typeof CheckIssueKind.Type

export const CheckIssue = Schema.Struct({
  route: Schema.String,
  kind: CheckIssueKind,
  detail: Schema.String
})
export type CheckIssue = typeof CheckIssue.Type

export const CheckedRoute = Schema.Struct({
  route: Schema.String,
  url: Schema.String,
  http_status: Schema.NullOr(Schema.Int),
  /** The screenshot's file name, next to report.json. */
  screenshot: Schema.NullOr(Schema.String)
})
export type CheckedRoute = typeof CheckedRoute.Type

/** `mirror check`'s report: every route checked and every issue found (MIR-5). */
export const CheckReport = Schema.Struct({
  version: Schema.Literal(1),
  project: Schema.String,
  base_url: Schema.String,
  browser: Schema.String,
  checked_at: Schema.String,
  status: Schema.Literal("passed", "failed"),
  routes: Schema.Array(CheckedRoute),
  issues: Schema.Array(CheckIssue)
})
export type CheckReport = typeof CheckReport.Type

/**
 * MIR-5: a request may go to the mirror's own server, or to an allowlisted host that is not
 * blocklisted; data:, blob: and about: URLs never leave the browser.
 */
export const isOutbound = (url: URL, settings: MirrorSettings, server: URL): boolean => {
  if (!["http:", "https:", "ws:", "wss:"].includes(url.protocol)) return false
  if (url.host === server.host) return false
  return hostListed(url, settings.blocklistHosts) || !hostListed(url, settings.allowlistHosts)
}

/** The strip patterns found in `text` (responses and the DOM), as their sources. */
export const trackersIn = (text: string, settings: MirrorSettings): ReadonlyArray<string> =>
  settings.stripPatterns.filter((pattern) => pattern.test(text)).map((pattern) => pattern.source)

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/**
 * Absolute references to the origin (`http(s)://<origin host>`) or a blocklisted host left in the
 * markup, each once: a mirror that still has them would reach the live site.
 */
export const absoluteReferences = (html: string, settings: MirrorSettings): ReadonlyArray<string> => {
  const hosts = [settings.origin.host, ...settings.blocklistHosts]
  const found = new Set<string>()
  for (const host of hosts) {
    const pattern = new RegExp(`https?://(?:[\\w-]+\\.)*${escapeRegExp(host)}(?![\\w.:-])[^\\s"'<>)]*`, "gi")
    for (const match of html.matchAll(pattern)) found.add(match[0])
  }
  return [...found].sort()
}

/** A file name for a route's screenshot: `/` is `index`, `/about/team/` is `about-team`. */
export const routeSlug = (route: string): string => {
  const slug = route.split(/[?#]/)[0]?.split("/").filter((part) => part.length > 0).join("-").replace(/[^A-Za-z0-9._-]/g, "_") ?? ""
  return slug.length === 0 ? "index" : slug
}

/** MIR-5's closing line. */
export const checkSummary = (issues: ReadonlyArray<CheckIssue>): string =>
  issues.length === 0
    ? "[mirror:check] all routes returned 200 with no outbound or tracker violations"
    : `[mirror:check] detected issues (${issues.length})`
