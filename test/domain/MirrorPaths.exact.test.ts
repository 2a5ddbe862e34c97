/**
 * MIR-2's URL mapping to the character: where an asset or page without an extension, with a dotfile
 * name or a query is stored, how a local path is written as an href, which references resolve, the
 * corners of `srcset`, and how known URLs and the origin are replaced in text assets.
 * MirrorRewrite.test.ts checks the same rules through the HTML and CSS rewriters.
 */
import { assert, describe, it } from "@effect/vitest"
import {
  formatSrcset,
  hrefOfPath,
  isSameOrigin,
  isWebUrl,
  localizeKnownUrls,
  localPathOf,
  parseSrcset,
  resolveReference,
  rewriteCssUrls,
  rootRelative,
  stripOrigin
} from "../../src/domain/MirrorPaths.js"

const origin = new URL("https://example.com")
const mapping = { origin, hashQuery: (query: string) => `q${query}` }
const local = (href: string, kind: "page" | "asset") => localPathOf(new URL(href, origin), mapping, kind)

describe("localPathOf", () => {
  it("a folder asset is `index`, a folder page `index.html`; a page with an extension keeps its name", () => {
    assert.strictEqual(local("/dir/", "asset"), "/dir/index")
    assert.strictEqual(local("/", "asset"), "/index")
    assert.strictEqual(local("/dir/", "page"), "/dir/index.html")
    assert.strictEqual(local("/a/b.html", "page"), "/a/b.html")
    assert.strictEqual(local("/a/b", "asset"), "/a/b")
  })

  it("a name over 200 bytes (file systems refuse 255) keeps its head and extension, tagged with its hash", () => {
    const hashed = { origin, hashQuery: (text: string) => `h${text.length}` }
    const long = "a".repeat(300)
    assert.strictEqual(localPathOf(new URL(`/${long}.png`, origin), hashed, "asset"), `/${"a".repeat(190)}__h304.png`)
    assert.strictEqual(localPathOf(new URL(`/${long}/b.png`, origin), hashed, "asset"), `/${"a".repeat(194)}__h300/b.png`)
    assert.strictEqual(localPathOf(new URL(`/${long}`, origin), hashed, "page"), `/${"a".repeat(194)}__h300/index.html`)
    assert.strictEqual(localPathOf(new URL(`/${long}.png?v=1`, origin), hashed, "asset"), `/${"a".repeat(190)}__h304__h3.png`)
    // Counted in UTF-8 bytes, never cutting a character: 'é' is two.
    assert.strictEqual(localPathOf(new URL(`/${"é".repeat(150)}.css`, origin), hashed, "asset"), `/${"é".repeat(95)}__h154.css`)
    // An extension longer than 16 bytes is part of the name.
    assert.strictEqual(localPathOf(new URL(`/x.${long}`, origin), hashed, "asset"), `/x.${"a".repeat(192)}__h302`)
    assert.strictEqual(local(`/${"a".repeat(200)}`, "asset"), `/${"a".repeat(200)}`)
  })

  it("a leading dot is not an extension: a dotfile page is a folder, a dotfile asset's query tag goes last", () => {
    assert.strictEqual(local("/.well-known", "page"), "/.well-known/index.html")
    assert.strictEqual(local("/.env?x=1", "asset"), "/.env__qx=1")
    assert.strictEqual(local("/a.b.css?v=2", "asset"), "/a.b__qv=2.css")
  })

  it("a page's query is not part of its file; an asset's is", () => {
    assert.strictEqual(local("/about?x=1", "page"), "/about/index.html")
    assert.strictEqual(local("/s.js?", "asset"), "/s.js")
  })

  it("decodes segments, keeps one that does not decode, and replaces separators", () => {
    assert.strictEqual(local("/caf%C3%A9/a%20b.png", "asset"), "/café/a b.png")
    assert.strictEqual(local("/bad%E0%A4%A/x.png", "asset"), "/bad%E0%A4%A/x.png")
    assert.strictEqual(local("/a%5Cb%00c.png", "asset"), "/a_b_c.png")
  })

  it("a host named `.` or `..` cannot climb out of /external", () => {
    assert.strictEqual(local("https://./x.js", "asset"), "/external/_/x.js")
    assert.strictEqual(local("https://../x.js", "asset"), "/external/_/x.js")
  })

  it("another host's files go under /external/<host>, and http is another origin than https", () => {
    assert.strictEqual(local("http://example.com/x.js", "asset"), "/external/example.com/x.js")
    assert.strictEqual(local("https://cdn.net/", "page"), "/external/cdn.net/index.html")
  })
})

describe("hrefs and references", () => {
  it("hrefOfPath encodes each segment, keeping `/`, a port's `:` and `@` readable", () => {
    assert.strictEqual(hrefOfPath("/external/cdn.net:8443/a b@c/é?#.png"), "/external/cdn.net:8443/a%20b@c/%C3%A9%3F%23.png")
  })

  it("rootRelative keeps path, query and fragment", () => {
    assert.strictEqual(rootRelative(new URL("https://example.com/a/b?c=1#d")), "/a/b?c=1#d")
  })

  it("only http and https are web URLs; the same origin means scheme, host and port", () => {
    assert.isTrue(isWebUrl(new URL("http://a.b/")))
    assert.isTrue(isWebUrl(new URL("https://a.b/")))
    for (const href of ["ftp://a.b/", "data:text/plain,x", "mailto:a@b.c"]) assert.isFalse(isWebUrl(new URL(href)), href)
    assert.isTrue(isSameOrigin(new URL("https://example.com/x"), origin))
    for (const href of ["http://example.com/", "https://example.com:444/", "https://www.example.com/"]) {
      assert.isFalse(isSameOrigin(new URL(href), origin), href)
    }
  })

  it("resolveReference trims, drops the fragment, and refuses empty, fragment-only, unparsable and non-web references", () => {
    const base = new URL("https://example.com/blog/post/")
    assert.strictEqual(resolveReference("  ../x.png#top ", base)?.href, "https://example.com/blog/x.png")
    assert.strictEqual(resolveReference("//cdn.net/a", base)?.href, "https://cdn.net/a")
    for (const reference of ["", "   ", "#top", " #x", "mailto:a@b.c", "javascript:void(0)", "http://[::1"]) {
      assert.isUndefined(resolveReference(reference, base), JSON.stringify(reference))
    }
  })
})

describe("srcset", () => {
  it("skips leading separators, keeps commas inside a URL, and ends a URL's candidate at its trailing comma", () => {
    assert.deepStrictEqual(parseSrcset(" ,, a.png, b.png 2x ,  c.png   3x"), [
      { url: "a.png", descriptor: "" },
      { url: "b.png", descriptor: "2x" },
      { url: "c.png", descriptor: "3x" }
    ])
    assert.deepStrictEqual(parseSrcset("a.png 1x,"), [{ url: "a.png", descriptor: "1x" }])
  })

  it("only the commas that end a URL are dropped, all of them, not one inside it", () => {
    assert.deepStrictEqual(parseSrcset("b,c.png, d.png"), [{ url: "b,c.png", descriptor: "" }, { url: "d.png", descriptor: "" }])
    assert.deepStrictEqual(parseSrcset("a.png,, b.png"), [{ url: "a.png", descriptor: "" }, { url: "b.png", descriptor: "" }])
  })

  it("an empty or separators-only srcset has no candidates", () => {
    for (const srcset of ["", "   ", ",,,", " , ,"]) assert.deepStrictEqual(parseSrcset(srcset), [], JSON.stringify(srcset))
  })

  it("formatSrcset writes a descriptor after a space, and none when empty", () => {
    assert.strictEqual(formatSrcset([{ url: "a.png", descriptor: "2x" }, { url: "b.png", descriptor: "" }]), "a.png 2x, b.png")
    assert.strictEqual(formatSrcset([]), "")
  })
})

describe("rewriteCssUrls", () => {
  const base = new URL("https://example.com/css/")
  const localize = (reference: string) => (reference.startsWith("keep") ? undefined : `/L/${reference}`)

  it("keeps each url()'s own quoting, and leaves what the localiser declines as written", () => {
    assert.strictEqual(
      rewriteCssUrls(`a{b:url("x.png")} c{d:url(y.png)} e{f:url( 'keep.png' )}`, base, localize),
      `a{b:url("/L/x.png")} c{d:url(/L/y.png)} e{f:url( 'keep.png' )}`
    )
  })

  it("rewrites @import in either quote, and leaves a declined one as written", () => {
    assert.strictEqual(
      rewriteCssUrls(`@import 'a.css'; @import "keep.css";`, base, localize),
      `@import '/L/a.css'; @import "keep.css";`
    )
  })
})

describe("localizeKnownUrls and stripOrigin", () => {
  it("replaces the longest known URL first, then drops the origin", () => {
    const known = new Map([["https://cdn.net/a.js", "/A"], ["https://cdn.net/a.js?v=1", "/B"]])
    assert.strictEqual(
      localizeKnownUrls("x https://cdn.net/a.js?v=1 y https://cdn.net/a.js z https://example.com/p", known, origin),
      "x /B y /A z /p"
    )
  })

  it("drops http and https in any case; a bare origin becomes `/`, plain or JSON-escaped", () => {
    assert.strictEqual(stripOrigin("http://example.com/a HTTPS://EXAMPLE.COM/b", origin), "/a /b")
    assert.strictEqual(stripOrigin("see https://example.com.", origin), "see https://example.com.")
    assert.strictEqual(stripOrigin("see https://example.com", origin), "see /")
    assert.strictEqual(stripOrigin("\"https:\\/\\/example.com\" \"https:\\/\\/example.com\\/x\"", origin), "\"/\" \"\\/x\"")
  })

  it("leaves another port, a longer host name and a dotted host prefix alone; escapes the host", () => {
    const text = "https://example.com:8080/a https://example.com-cdn.net/b https://example.comx/c https://exampleXcom/d"
    assert.strictEqual(stripOrigin(text, origin), text)
  })
})
