/**
 * MIR-2's page rewrite attribute by attribute: which attributes are assets (downloaded and localised),
 * which are links (made root-relative or sent to a share host), which trackers go, and where the asset
 * roots end. MirrorRewrite.test.ts checks whole pages by their outcome.
 */
import { assert, describe, it } from "@effect/vitest"
import { resolveMirrorConfig } from "../../src/domain/MirrorConfig.js"
import { makeLocalizer, rewriteCss, rewriteHtml } from "../../src/domain/MirrorHtml.js"

const mapping = { origin: new URL("https://example.com"), hashQuery: (query: string) => `q${query.length}` }
const settingsOf = (extra: Partial<Parameters<typeof resolveMirrorConfig>[0]> = {}) =>
  resolveMirrorConfig({ origin: "https://example.com", routes: ["/"], blocklistHosts: ["ads.net"], ...extra })
const contextOf = (extra: Partial<Parameters<typeof resolveMirrorConfig>[0]> = {}) => ({
  settings: settingsOf(extra),
  mapping,
  documentUrl: new URL("https://example.com/p/")
})

/** The rewritten body, and the assets found. */
const rewrite = (html: string, extra: Partial<Parameters<typeof resolveMirrorConfig>[0]> = {}) => {
  const out = rewriteHtml(`<html><head></head><body>${html}</body></html>`, contextOf(extra))
  return { body: out.text.slice(out.text.indexOf("<body>") + 6, out.text.indexOf("</body>")), assets: out.assets }
}

describe("asset attributes", () => {
  it("src, data-src, poster and an object's data are assets; an iframe's or frame's src is a link", () => {
    const { assets, body } = rewrite(
      `<img data-src="https://cdn.net/a.png"><video poster="https://cdn.net/v.jpg"></video><object data="https://cdn.net/o.svg"></object>` +
        `<embed data="https://cdn.net/e.svg"><iframe src="https://example.com/frame?x=1"></iframe><iframe src="https://other.org/f"></iframe>`
    )
    assert.strictEqual(
      body,
      `<img data-src="/external/cdn.net/a.png"><video poster="/external/cdn.net/v.jpg"></video><object data="/external/cdn.net/o.svg"></object>` +
        `<embed data="https://cdn.net/e.svg"><iframe src="/frame?x=1"></iframe><iframe src="https://other.org/f"></iframe>`
    )
    assert.deepStrictEqual(assets, ["https://cdn.net/a.png", "https://cdn.net/v.jpg", "https://cdn.net/o.svg"])
  })

  it("a link's href is an asset only for asset rels, in any case; other links are links", () => {
    const { assets, body } = rewrite(
      `<link rel="Shortcut Icon" href="https://cdn.net/f.ico"><link rel="canonical" href="https://example.com/c">` +
        `<link href="https://cdn.net/norel.css"><a href="https://cdn.net/page">x</a>`
    )
    assert.strictEqual(
      body,
      `<link rel="Shortcut Icon" href="/external/cdn.net/f.ico"><link rel="canonical" href="/c">` +
        `<link href="https://cdn.net/norel.css"><a href="https://cdn.net/page">x</a>`
    )
    assert.deepStrictEqual(assets, ["https://cdn.net/f.ico"])
  })

  it("meta content: preview images by property or name are assets, og:url is a link, anything else stays", () => {
    const { assets, body } = rewrite(
      `<meta name="Twitter:Image" content="https://cdn.net/t.png"><meta property="og:url" content="https://example.com/u">` +
        `<meta name="description" content="https://cdn.net/d.png"><div content="https://cdn.net/x.png"></div>`
    )
    assert.strictEqual(
      body,
      `<meta name="Twitter:Image" content="/external/cdn.net/t.png"><meta property="og:url" content="/u">` +
        `<meta name="description" content="https://cdn.net/d.png"><div content="https://cdn.net/x.png"></div>`
    )
    assert.deepStrictEqual(assets, ["https://cdn.net/t.png"])
  })

  it("srcset, data-srcset and imagesrcset are localised candidate by candidate; a declined candidate stays", () => {
    const { body } = rewrite(
      `<img data-srcset="https://cdn.net/a.png 2x"><link rel="preload" imagesrcset="https://cdn.net/b.png 300w">` +
        `<img srcset="https://ads.net/p.png 1x, https://cdn.net/c.png 2x">`
    )
    assert.strictEqual(
      body,
      `<img data-srcset="/external/cdn.net/a.png 2x"><link rel="preload" imagesrcset="/external/cdn.net/b.png 300w">` +
        `<img srcset="https://ads.net/p.png 1x, /external/cdn.net/c.png 2x">`
    )
  })

  it("a <style> element's url()s are localised; an attribute no rule knows is left as written", () => {
    const { body } = rewrite(`<style>a{b:url(https://cdn.net/s.png)}</style><p title="https://cdn.net/t.png">x</p>`)
    assert.strictEqual(body, `<style>a{b:url(/external/cdn.net/s.png)}</style><p title="https://cdn.net/t.png">x</p>`)
  })

  it("a form's action is a link; a template's content is rewritten too", () => {
    const { body } = rewrite(`<form action="https://example.com/send?q=1"></form><template><img src="https://cdn.net/t.png"></template>`)
    assert.strictEqual(body, `<form action="/send?q=1"></form><template><img src="/external/cdn.net/t.png"></template>`)
  })
})

describe("links", () => {
  // A share host shows whether an attribute was read as a link: the origin is dropped from any text anyway.
  it("a form's action, an iframe's or frame's src and og:url are links; the same attributes elsewhere are not", () => {
    const share = "https://www.facebook.com/x"
    const { body } = rewrite(
      `<form action="${share}"></form><iframe src="${share}"></iframe><meta property="OG:URL" content="${share}">` +
        `<div action="${share}"></div><meta property="og:title" content="${share}"><p content="${share}"></p>`
    )
    assert.strictEqual(
      body,
      `<form action="https://fb.com/x"></form><iframe src="https://fb.com/x"></iframe><meta property="OG:URL" content="https://fb.com/x">` +
        `<div action="${share}"></div><meta property="og:title" content="${share}"><p content="${share}"></p>`
    )
    const frames = rewriteHtml(`<frameset><frame src="${share}"></frameset>`, contextOf()).text
    assert.include(frames, `<frame src="https://fb.com/x">`)
  })

  it("a link with a rel list is a link unless one of its rels names an asset", () => {
    const { assets, body } = rewrite(`<link rel="  alternate   Stylesheet " href="https://cdn.net/s.css"><link rel="alternate next" href="https://www.facebook.com/n">`)
    assert.strictEqual(body, `<link rel="  alternate   Stylesheet " href="/external/cdn.net/s.css"><link rel="alternate next" href="https://fb.com/n">`)
    assert.deepStrictEqual(assets, ["https://cdn.net/s.css"])
  })

  it("a share host is rewritten without doubling its slash; unparsable and non-web links stay", () => {
    const { body } = rewrite(
      `<a href=" https://m.facebook.com/share?u=1#x ">s</a><a href="http://[::1">bad</a><a href="tel:123">t</a>`,
      { shareHostRewrites: { "m.facebook.com": "https://fb.example//" } }
    )
    assert.strictEqual(body, `<a href="https://fb.example/share?u=1#x">s</a><a href="http://[::1">bad</a><a href="tel:123">t</a>`)
  })
})

describe("trackers", () => {
  it("a resource hint to another origin goes; one to the origin, and other link rels there, stay", () => {
    const { body } = rewrite(
      `<link rel="dns-prefetch" href="https://cdn.net"><link rel="Preconnect" href="https://example.com">` +
        `<a href="https://ads.net/x">kept: not removable</a>`
    )
    assert.strictEqual(body, `<link rel="Preconnect" href="/"><a href="https://ads.net/x">kept: not removable</a>`)
  })

  it("an element is removed by its href as by its src; a script's or noscript's text decides only for them", () => {
    const { body } = rewrite(
      `<link rel="stylesheet" href="https://www.googletagmanager.com/x.css"><iframe src="https://ads.net/f"></iframe>` +
        `<noscript>fbq('track')</noscript><div>fbq('x')</div><script src="https://ok.net/a.js">gtag('x')</script>`
    )
    assert.strictEqual(body, `<div>fbq('x')</div>`)
  })

  it("a subdomain of a blocklisted host is blocked; a script without a parsable src is judged by its text", () => {
    const { body } = rewrite(`<img src="https://x.ads.net/p.gif"><img src="https://notads.net/p.gif"><script src="http://[::1">ok()</script>`)
    assert.strictEqual(body, `<img src="/external/notads.net/p.gif"><script src="http://[::1">ok()</script>`)
  })
})

describe("makeLocalizer and asset roots", () => {
  it("an origin path under an asset root is downloaded; elsewhere it is only made root-relative", () => {
    const found = new Set<string>()
    const localize = makeLocalizer(contextOf({ assetRoots: ["/static", "/img/"] }), found)
    const base = new URL("https://example.com/p/")
    assert.strictEqual(localize("/static", base), "/static")
    assert.strictEqual(localize("/static/a b.css?v=1", base), "/static/a%20b__q3.css")
    assert.strictEqual(localize("/img/x.png", base), "/img/x.png")
    assert.strictEqual(localize("/staticx/y.css?v=1", base), "/staticx/y.css?v=1")
    assert.strictEqual(localize("/other.png", base), "/other.png")
    assert.strictEqual(localize("https://ads.net/p.png", base), undefined)
    assert.strictEqual(localize("#top", base), undefined)
    assert.deepStrictEqual([...found], ["https://example.com/static", "https://example.com/static/a%20b.css?v=1", "https://example.com/img/x.png"])
  })

  it("rewriteCss reports what it localised and drops the origin elsewhere in the sheet", () => {
    const css = rewriteCss(`a{b:url(https://cdn.net/x.png)} /* https://example.com/keep */`, contextOf())
    assert.deepStrictEqual(css, { text: `a{b:url(/external/cdn.net/x.png)} /* /keep */`, assets: ["https://cdn.net/x.png"] })
  })
})
