/** The style guide page to the exact text (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { scrollFallbackScript, styleguideHtml, withScrollFallback } from "../../src/domain/DesignStyleguide.js"
import type { DesignTokens } from "../../src/domain/DesignTokens.js"

const tokens: DesignTokens = {
  version: 1,
  slug: "site",
  url: "https://example.com/?a=1&b=2",
  title: "Site & \"Co\"",
  breakpoints: ["mobile", "desktop"],
  colors: [{ value: "#fff", count: 1 }, { value: "rgb(0, 0, 0)", count: 2 }],
  fontFamilies: [{ value: "Inter<x>", count: 3 }],
  fontSizes: [{ value: "16px", count: 1 }, { value: "999px", count: 1 }, { value: "0.5px", count: 1 }, { value: "auto", count: 1 }],
  fontWeights: [{ value: "700", count: 1 }],
  spacing: [{ value: "8px", count: 4 }],
  radii: []
}

/** Rendered inside each test (not while collecting), so that coverage per test sees which test reaches what. */
const page = () => {
  const html = styleguideHtml(tokens, [
    { breakpoint: "mobile", width: 375, href: "shots/mobile.png" },
    { breakpoint: "desktop", width: 1280, href: "shots/desktop.png" }
  ])
  const [head, rest] = html.split("</style></head><body>\n")
  return { html, head, rest }
}

describe("styleguideHtml, exactly", () => {
  it("opens with the escaped title and the stylesheet, and ends the body", () => {
    const { head, html } = page()
    assert.isTrue(
      head?.startsWith(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Site &amp; &quot;Co&quot;: style guide</title>\n" +
          "<link rel=\"stylesheet\" href=\"tokens.css\"><style>\nbody { margin: 0;"
      )
    )
    assert.isTrue(html.endsWith("</div></main>\n</body></html>\n"))
  })

  it("lists each kind of token with a sample, its value and its use count; an empty kind has no section", () => {
    const { rest } = page()
    assert.strictEqual(
      rest,
      [
        "<header><h1>Site &amp; &quot;Co&quot;</h1><div>https://example.com/?a=1&amp;b=2: tokens ranked by use, breakpoints mobile, desktop</div></header>",
        "<main><div class=\"tokens-column\"><section><h2>Colours</h2><ul class=\"tokens\">",
        "<li><span class=\"swatch\" style=\"background:#fff\"></span><code>#fff</code><small>1 use</small></li>",
        "<li><span class=\"swatch\" style=\"background:rgb(0, 0, 0)\"></span><code>rgb(0, 0, 0)</code><small>2 uses</small></li>",
        "</ul></section>",
        "<section><h2>Font families</h2><ul class=\"tokens\">",
        "<li><span style=\"font-family:&quot;Inter&lt;x&gt;&quot;\">Aa</span><code>Inter&lt;x&gt;</code><small>3 uses</small></li>",
        "</ul></section>",
        "<section><h2>Font sizes</h2><ul class=\"tokens\">",
        "<li><span style=\"font-size:16px\">Aa</span><code>16px</code><small>1 use</small></li>",
        "<li><span style=\"font-size:240px\">Aa</span><code>999px</code><small>1 use</small></li>",
        "<li><span style=\"font-size:1px\">Aa</span><code>0.5px</code><small>1 use</small></li>",
        "<li><span style=\"font-size:1px\">Aa</span><code>auto</code><small>1 use</small></li>",
        "</ul></section>",
        "<section><h2>Font weights</h2><ul class=\"tokens\">",
        "<li><span style=\"font-weight:700\">Aa</span><code>700</code><small>1 use</small></li>",
        "</ul></section>",
        "<section><h2>Spacing</h2><ul class=\"tokens\">",
        "<li><span class=\"bar\" style=\"width:8px\"></span><code>8px</code><small>4 uses</small></li>",
        "</ul></section>",
        "</div>",
        "<div class=\"shots\"><figure><figcaption>mobile (375px)</figcaption><img src=\"shots/mobile.png\" alt=\"Site &amp; &quot;Co&quot; at mobile\"></figure>",
        "<figure><figcaption>desktop (1280px)</figcaption><img src=\"shots/desktop.png\" alt=\"Site &amp; &quot;Co&quot; at desktop\"></figure></div></main>",
        "</body></html>",
        ""
      ].join("\n")
    )
  })

  it("radii get their own sample", () => {
    const withRadii = styleguideHtml({ ...tokens, colors: [], fontFamilies: [], fontSizes: [], fontWeights: [], spacing: [], radii: [{ value: "4px", count: 2 }] }, [])
    assert.include(
      withRadii,
      "<main><div class=\"tokens-column\">\n\n\n\n\n<section><h2>Radii</h2><ul class=\"tokens\">\n" +
        "<li><span class=\"radius\" style=\"border-radius:4px\"></span><code>4px</code><small>2 uses</small></li>\n</ul></section></div>\n" +
        "<div class=\"shots\"></div></main>"
    )
  })
})

describe("withScrollFallback, exactly", () => {
  it("goes before the last </body> in any case, or at the end", () => {
    assert.strictEqual(withScrollFallback("<BODY>x</BODY>"), `<BODY>x${scrollFallbackScript}\n</BODY>`)
    assert.strictEqual(withScrollFallback("</body>"), `${scrollFallbackScript}\n</body>`)
    assert.strictEqual(withScrollFallback("<p>x</p>"), `<p>x</p>\n${scrollFallbackScript}\n`)
  })
})
