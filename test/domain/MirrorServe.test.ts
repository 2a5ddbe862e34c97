import { assert, describe, it } from "@effect/vitest"
import { absoluteReferences, isOutbound, routeSlug } from "../../src/domain/MirrorCheck.js"
import { resolveMirrorConfig } from "../../src/domain/MirrorConfig.js"
import { cspHeader, cspProblem, fileHeaders, parseRange, requestTarget } from "../../src/domain/MirrorServe.js"

describe("requestTarget", () => {
  it("decodes once and refuses .. in any spelling and NUL bytes", () => {
    assert.deepStrictEqual(requestTarget("/a/./b%20c/?q=1"), { _tag: "File", segments: ["a", "b c"] })
    for (const raw of ["/../x", "/%2e%2e/x", "/a/..%2Fx", "/..%5cx", "/a\\..\\x"]) {
      assert.deepStrictEqual(requestTarget(raw), { _tag: "Refused", status: 403, reason: "path traversal" }, raw)
    }
    assert.deepStrictEqual(requestTarget("/a%00.html"), { _tag: "Refused", status: 403, reason: "NUL byte in path" })
    assert.deepStrictEqual(requestTarget("/%E0%A4%A"), { _tag: "Refused", status: 400, reason: "malformed percent-encoding" })
  })
})

describe("parseRange", () => {
  it("reads one range of the three forms, ignores several, refuses the rest", () => {
    assert.deepStrictEqual(parseRange(undefined, 10), { _tag: "Whole" })
    assert.deepStrictEqual(parseRange("bytes=2-4", 10), { _tag: "Part", start: 2, end: 4 })
    assert.deepStrictEqual(parseRange("bytes=8-", 10), { _tag: "Part", start: 8, end: 9 })
    assert.deepStrictEqual(parseRange("bytes=-3", 10), { _tag: "Part", start: 7, end: 9 })
    assert.deepStrictEqual(parseRange("bytes=5-99", 10), { _tag: "Part", start: 5, end: 9 })
    assert.deepStrictEqual(parseRange("bytes=0-1,4-5", 10), { _tag: "Whole" })
    for (const header of ["bytes=10-", "bytes=4-2", "bytes=-0", "bytes=-", "items=1-2"]) {
      assert.deepStrictEqual(parseRange(header, 10), { _tag: "Unsatisfiable" }, header)
    }
  })
})

describe("headers", () => {
  it("gives HTML no-cache and the CSP, other files a year of immutability", () => {
    assert.strictEqual(fileHeaders("/x/index.html", "strict", true)["cache-control"], "no-cache")
    assert.strictEqual(fileHeaders("/x/index.html", "strict", true)["content-security-policy"], cspHeader("strict"))
    assert.isUndefined(fileHeaders("/x/index.html", "off", true)["content-security-policy"])
    assert.strictEqual(fileHeaders("/x/a.woff2", "self", false)["cache-control"], "public, max-age=31536000, immutable")
    assert.isUndefined(fileHeaders("/x/a.woff2", "self", false)["accept-ranges"])
    assert.strictEqual(cspHeader("img-src 'none'"), "img-src 'none'")
  })

  it("a --csp no header can carry is refused up front (every HTML page was a 500 served as '200' in the log)", () => {
    for (const fine of ["self", "strict", "off", "img-src 'none'", "default-src 'self'\tdata:"]) assert.isUndefined(cspProblem(fine), fine)
    assert.strictEqual(cspProblem(""), "it is empty")
    assert.strictEqual(cspProblem("   "), "it is empty")
    for (const bad of ["a\r\nX-Evil: 1", "a\nb", "a\u0000b", "a\u007fb", "img-src \u2018self\u2019"]) {
      assert.strictEqual(cspProblem(bad), "a header cannot hold a line break, a control character or a character beyond Latin-1", bad)
    }
  })
})

describe("MirrorCheck", () => {
  const settings = resolveMirrorConfig({
    origin: "https://example.com",
    routes: ["/"],
    allowlistHosts: ["fonts.gstatic.com"],
    blocklistHosts: ["ads.example.net"]
  })
  const server = new URL("http://127.0.0.1:4173")

  it("lets requests reach the mirror's server and allowlisted hosts only", () => {
    assert.isFalse(isOutbound(new URL("http://127.0.0.1:4173/a.png"), settings, server))
    assert.isFalse(isOutbound(new URL("https://fonts.gstatic.com/f.woff2"), settings, server))
    assert.isFalse(isOutbound(new URL("data:image/png;base64,AA"), settings, server))
    assert.isTrue(isOutbound(new URL("https://www.googletagmanager.com/gtm.js"), settings, server))
    assert.isTrue(isOutbound(new URL("https://cdn.ads.example.net/x.js"), settings, server))
  })

  it("finds absolute references to the origin and blocklisted hosts, not to look-alike hosts", () => {
    assert.deepStrictEqual(
      absoluteReferences(`<a href="https://example.com/a">x</a> https://example.community/ <img src="http://x.ads.example.net/p.gif">`, settings),
      ["http://x.ads.example.net/p.gif", "https://example.com/a"]
    )
    assert.deepStrictEqual([routeSlug("/"), routeSlug("/about/team/"), routeSlug("/a b?x=1")], ["index", "about-team", "a_b"])
  })
})
