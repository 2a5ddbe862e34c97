/** mirror.config.json and permit.json (MIR-1, MIR-2) to the exact value (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { formatIssues } from "../../src/domain/FileErrors.js"
import {
  defaultArchiveBaseUrl,
  defaultAssetRoots,
  defaultShareHostRewrites,
  defaultStripPatterns,
  hostListed,
  MirrorConfigFile,
  permitVerdict,
  resolveMirrorConfig
} from "../../src/domain/MirrorConfig.js"

const issuesOf = (input: unknown) =>
  Either.match(Schema.decodeUnknownEither(MirrorConfigFile, { errors: "all" })(input), { onLeft: formatIssues, onRight: () => [] })

const decoded = (input: unknown) => Schema.decodeUnknownSync(MirrorConfigFile)(input)

describe("the file's rules, exactly", () => {
  it("names every bad field with what it wants", () => {
    const issues = issuesOf({
      origin: "ftp://x.test",
      routes: ["no-slash"],
      stripPatterns: ["(", "ok"],
      rewriteRules: [{ pattern: "a", replace: "b", flags: "q" }, { pattern: "[", replace: "" }],
      archiveBaseUrl: "nowhere"
    })
    assert.deepStrictEqual(issues.length, 6)
    assert.deepStrictEqual(issues.slice(0, 2), ["origin: must be an http:// or https:// URL", "routes.0: must be a path on the origin, starting with /"])
    assert.match(issues[2] ?? "", /^stripPatterns\.0: is not a valid regular expression \(Invalid regular expression: .+\)$/)
    assert.match(issues[3] ?? "", /^rewriteRules\.0: is not a valid regular expression \(Invalid flags supplied to RegExp constructor 'q'\)$/)
    assert.match(issues[4] ?? "", /^rewriteRules\.1: is not a valid regular expression \(Invalid regular expression: .+\)$/)
    assert.strictEqual(issues[5], "archiveBaseUrl: must be an absolute URL such as https://example.com")
    assert.deepStrictEqual(issuesOf({ origin: "http://x.test", routes: [] }), ["routes: must list at least one route, such as \"/\""])
    assert.deepStrictEqual(issuesOf({ origin: "https://x.test", routes: ["/"], rewriteRules: [{ pattern: "a", replace: "b", flags: "i" }] }), [])
  })

  it("a route or asset root that names another host ('//host/', '/\\host/') is refused: it would be fetched from there", () => {
    const onOrigin = "must be a path on the origin, starting with a single / (//host/ names another host)"
    assert.deepStrictEqual(issuesOf({ origin: "https://x.test", routes: ["//evil.test/page", "/\\evil.test/", "/ok/"], assetRoots: ["//cdn.test"] }), [
      `routes.0: ${onOrigin}`,
      `routes.1: ${onOrigin}`,
      `assetRoots.0: ${onOrigin}`
    ])
    assert.deepStrictEqual(issuesOf({ origin: "https://x.test", routes: ["/", "/a//b", "/%2F%2Fevil.test/"] }), [])
  })

  it("a field of the wrong type says what was found and what is expected, in words", () => {
    assert.deepStrictEqual(issuesOf({ origin: "https://x.test", routes: "x", assetRoots: {}, shareHostRewrites: "x", stripPatterns: 5 }), [
      `routes: Expected an array of strings, actual "x"`,
      "assetRoots: Expected an array of strings, actual {}",
      "stripPatterns: Expected an array of strings, actual 5",
      `shareHostRewrites: Expected an object, actual "x"`
    ])
  })
})

describe("resolveMirrorConfig, exactly", () => {
  it("the defaults", () => {
    const settings = resolveMirrorConfig(decoded({ origin: "https://x.test:8443/a", routes: ["/"] }))
    assert.strictEqual(settings.origin.href, "https://x.test:8443/a")
    assert.deepStrictEqual(settings.routes, ["/"])
    assert.deepStrictEqual(settings.assetRoots, defaultAssetRoots)
    assert.deepStrictEqual(defaultAssetRoots, ["/wp-content", "/wp-includes", "/"])
    assert.deepStrictEqual(settings.stripPatterns.map((pattern) => [pattern.source, pattern.flags]), defaultStripPatterns.map((source) => [new RegExp(source).source, "i"]))
    assert.deepStrictEqual(settings.rewriteRules, [])
    assert.deepStrictEqual(settings.allowlistHosts, ["x.test:8443", "x.test", "localhost", "127.0.0.1"])
    assert.deepStrictEqual(settings.blocklistHosts, [])
    assert.deepStrictEqual(settings.shareHostRewrites, defaultShareHostRewrites)
    assert.strictEqual(settings.enableArchiveFallback, true)
    assert.strictEqual(settings.archiveBaseUrl, defaultArchiveBaseUrl)
    assert.deepStrictEqual(settings.additionalAssets, [])
  })

  it("every value given; the default strip patterns can be turned off; rewrite rules are always global", () => {
    const settings = resolveMirrorConfig(decoded({
      origin: "http://x.test",
      routes: ["/a"],
      assetRoots: ["/static"],
      stripPatterns: ["tracker\\.js"],
      disableDefaultStripPatterns: true,
      rewriteRules: [{ pattern: "a", replace: "b" }, { pattern: "c", replace: "d", flags: "gi" }, { pattern: "e", replace: "f", flags: "m" }],
      allowlistHosts: ["cdn.test", "x.test"],
      blocklistHosts: ["ads.test"],
      shareHostRewrites: { "t.co": "https://t.test" },
      enableArchiveFallback: false,
      archiveBaseUrl: "https://archive.test/",
      additionalAssets: ["/robots.txt"]
    }))
    assert.deepStrictEqual(settings.stripPatterns.map((pattern) => pattern.source), ["tracker\\.js"])
    assert.deepStrictEqual(settings.rewriteRules.map((rule) => [rule.pattern.source, rule.pattern.flags, rule.replace]), [
      ["a", "g", "b"],
      ["c", "gi", "d"],
      ["e", "gm", "f"]
    ])
    assert.deepStrictEqual(settings.allowlistHosts, ["cdn.test", "x.test", "localhost", "127.0.0.1"])
    assert.deepStrictEqual(settings.blocklistHosts, ["ads.test"])
    assert.deepStrictEqual(settings.shareHostRewrites, { "t.co": "https://t.test" })
    assert.strictEqual(settings.enableArchiveFallback, false)
    assert.strictEqual(settings.archiveBaseUrl, "https://archive.test/")
    assert.deepStrictEqual(settings.additionalAssets, ["/robots.txt"])
    assert.deepStrictEqual(settings.assetRoots, ["/static"])
    const both = resolveMirrorConfig(decoded({ origin: "http://x.test", routes: ["/"], stripPatterns: ["extra"], disableDefaultStripPatterns: false }))
    assert.deepStrictEqual(both.stripPatterns.map((pattern) => pattern.source), [...defaultStripPatterns, "extra"].map((source) => new RegExp(source).source))
  })
})

describe("hostListed and permitVerdict, exactly", () => {
  it("by host:port, by host name, or as a parent domain; nothing else", () => {
    const url = new URL("https://cdn.x.test:8443/a")
    assert.isTrue(hostListed(url, ["cdn.x.test:8443"]))
    assert.isTrue(hostListed(url, ["cdn.x.test"]))
    assert.isTrue(hostListed(url, ["x.test"]))
    assert.isFalse(hostListed(url, ["dn.x.test", "cdn.x.test:1", "other.test"]))
    assert.isFalse(hostListed(url, []))
    assert.isTrue(hostListed(new URL("http://a.test/"), ["a.test"]))
  })

  it("no file, an origin listed, not listed, and entries that are no URL", () => {
    const origin = new URL("https://x.test/page")
    assert.strictEqual(permitVerdict(undefined, origin), "no-permit-file")
    assert.strictEqual(permitVerdict({ allowedSources: [{ origin: "not a url" }, { origin: "https://x.test/other" }] }, origin), "allowed")
    assert.strictEqual(permitVerdict({ allowedSources: [{ origin: "http://x.test" }] }, origin), "not-listed")
    assert.strictEqual(permitVerdict({ allowedSources: [{ origin: "not a url" }] }, origin), "not-listed")
    assert.strictEqual(permitVerdict({}, origin), "not-listed")
  })
})
