import { assert, describe, it } from "@effect/vitest"
import { resolveMirrorConfig } from "../../src/domain/MirrorConfig.js"
import { rewriteCss, rewriteHtml } from "../../src/domain/MirrorHtml.js"
import { mirrorStatus, promotionOf } from "../../src/domain/MirrorManifest.js"
import { localizeKnownUrls, localPathOf, parseSrcset, stripOrigin } from "../../src/domain/MirrorPaths.js"

const origin = new URL("https://example.com")
const mapping = { origin, hashQuery: (query: string) => `h${query.length.toString(16).padStart(7, "0")}` }
const settings = resolveMirrorConfig({
  origin: "https://example.com",
  routes: ["/"],
  blocklistHosts: ["ads.example.net"],
  rewriteRules: [{ pattern: "Old Name", replace: "New Name" }]
})
const context = { settings, mapping, documentUrl: new URL("https://example.com/blog/post/") }

const body = (html: string) => {
  const text = rewriteHtml(`<!doctype html><html><head></head><body>${html}</body></html>`, context).text
  return text.slice(text.indexOf("<body>") + 6, text.indexOf("</body>"))
}

describe("MirrorPaths", () => {
  it("stores origin files at their path, pages as index.html and other hosts under /external/<host>", () => {
    assert.strictEqual(localPathOf(new URL("https://example.com/"), mapping, "page"), "/index.html")
    assert.strictEqual(localPathOf(new URL("https://example.com/about"), mapping, "page"), "/about/index.html")
    assert.strictEqual(localPathOf(new URL("https://example.com/about/"), mapping, "page"), "/about/index.html")
    assert.strictEqual(localPathOf(new URL("https://example.com/a/b.css"), mapping, "asset"), "/a/b.css")
    assert.strictEqual(localPathOf(new URL("https://cdn.net:8443/x/y.js?v=1"), mapping, "asset"), "/external/cdn.net:8443/x/y__h0000003.js")
    assert.strictEqual(localPathOf(new URL("https://cdn.net/css?family=A"), mapping, "asset"), "/external/cdn.net/css__h0000008")
  })

  it("never lets a segment climb out of the mirror", () => {
    assert.strictEqual(localPathOf(new URL("https://example.com/a/%2e%2e/%2e%2e/etc/passwd"), mapping, "asset"), "/etc/passwd")
    assert.strictEqual(localPathOf(new URL("https://example.com/a/..%2f..%2fx"), mapping, "asset"), "/a/.._.._x")
  })

  it("reads srcset candidates as the HTML standard does", () => {
    assert.deepStrictEqual(parseSrcset("a.png 1x, b,c.png 2x,d.png"), [
      { url: "a.png", descriptor: "1x" },
      { url: "b,c.png", descriptor: "2x" },
      { url: "d.png", descriptor: "" }
    ])
  })

  it("drops the origin only where the host matches exactly", () => {
    assert.strictEqual(stripOrigin("https://example.com/x https://example.community/y \"https://example.com\"", origin), "/x https://example.community/y \"/\"")
    assert.strictEqual(stripOrigin("{\"u\":\"https:\\/\\/example.com\\/a\"}", origin), "{\"u\":\"\\/a\"}")
    assert.strictEqual(localizeKnownUrls("f('https://cdn.net/a.js?v=1')", new Map([["https://cdn.net/a.js?v=1", "/external/cdn.net/a__x.js"]]), origin), "f('/external/cdn.net/a__x.js')")
  })
})

describe("rewriteHtml", () => {
  it("removes trackers: tag manager scripts, inline gtag, pixels in noscript, blocklisted hosts, matching comments", () => {
    const out = body(
      `<script src="https://www.googletagmanager.com/gtm.js?id=1"></script><script>gtag('js')</script>` +
        `<noscript><img src="https://www.facebook.com/tr?id=1"></noscript><img src="https://ads.example.net/p.gif">` +
        `<!-- google-analytics.com --><script>console.log(1)</script>`
    )
    assert.strictEqual(out, "<script>console.log(1)</script>")
  })

  it("localises assets, srcset, style url() and preview images, and reports what to download", () => {
    const page = rewriteHtml(
      `<html><head><meta property="og:image" content="https://example.com/og.png"><link rel="icon" href="/f.ico"></head>` +
        `<body><img src="../../i.png" srcset="https://cdn.net/a.png 2x, /b.png 300w"><div style="background:url(bg.png)"></div></body></html>`,
      context
    )
    assert.include(page.text, `<meta property="og:image" content="/og.png">`)
    assert.include(page.text, `<link rel="icon" href="/f.ico">`)
    assert.include(page.text, `<img src="/i.png" srcset="/external/cdn.net/a.png 2x, /b.png 300w">`)
    assert.include(page.text, `<div style="background:url(/blog/post/bg.png)"></div>`)
    assert.deepStrictEqual([...page.assets].sort(), [
      "https://cdn.net/a.png",
      "https://example.com/b.png",
      "https://example.com/blog/post/bg.png",
      "https://example.com/f.ico",
      "https://example.com/i.png",
      "https://example.com/og.png"
    ])
  })

  it("makes same-origin links root-relative, rewrites share hosts, leaves other links and applies rewrite rules", () => {
    const out = body(
      `<a href="https://example.com/about?x=1#top">Old Name</a><a href="https://www.facebook.com/sharer.php?u=1">s</a>` +
        `<a href="https://other.org/">o</a><a href="mailto:a@b.c">m</a>`
    )
    assert.strictEqual(
      out,
      `<a href="/about?x=1#top">New Name</a><a href="https://fb.com/sharer.php?u=1">s</a><a href="https://other.org/">o</a><a href="mailto:a@b.c">m</a>`
    )
  })

  it("rewrites stylesheets: url() in any quoting and @import", () => {
    const css = rewriteCss(`@import "https://cdn.net/f.css"; a{b:url( 'x.png' )} c{d:url(data:image/png;base64,AA)}`, {
      ...context,
      documentUrl: new URL("https://example.com/css/site.css")
    })
    assert.strictEqual(css.text, `@import "/external/cdn.net/f.css"; a{b:url('/css/x.png')} c{d:url(data:image/png;base64,AA)}`)
    assert.deepStrictEqual(css.assets, ["https://cdn.net/f.css", "https://example.com/css/x.png"])
  })
})

describe("MirrorManifest", () => {
  const record = (kind: "route" | "asset", outcome: "fetched" | "failed") => ({
    url: "u", kind, outcome, http_status: null, path: null, bytes: 0, source: null, attempts: 1, error: null
  })
  it("is failed when no route was mirrored, incomplete on any failure, ok otherwise; promotion follows MIR-3", () => {
    assert.strictEqual(mirrorStatus([record("route", "failed"), record("asset", "fetched")]), "failed")
    assert.strictEqual(mirrorStatus([record("route", "fetched"), record("asset", "failed")]), "incomplete")
    assert.strictEqual(mirrorStatus([record("route", "fetched")]), "ok")
    assert.strictEqual(promotionOf("incomplete", { dryRun: false, force: false }), "skipped")
    assert.strictEqual(promotionOf("incomplete", { dryRun: false, force: true }), "promoted")
    assert.strictEqual(promotionOf("ok", { dryRun: true, force: true }), "dry-run")
  })
})
