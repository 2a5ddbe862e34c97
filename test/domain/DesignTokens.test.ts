import { assert, describe, it } from "@effect/vitest"
import { PNG } from "pngjs"
import { classifyArtifact } from "../../src/domain/DesignRecord.js"
import { styleguideHtml, withScrollFallback } from "../../src/domain/DesignStyleguide.js"
import { normalizeColor, primaryFamily, tokensCss, tokensOf } from "../../src/domain/DesignTokens.js"
import { comparePngs } from "../../src/layers/internal/designImages.js"
import { keyFrameIndexes } from "../../src/layers/internal/designMotion.js"
import { census } from "../support/designCensus.js"

const source = { slug: "site", url: "https://example.com/", title: "Example" }

describe("tokens from computed styles", () => {
  it("normalises computed colours to hex and drops what nobody chose", () => {
    assert.strictEqual(normalizeColor("rgb(26, 43, 60)"), "#1a2b3c")
    assert.strictEqual(normalizeColor("rgba(255, 255, 255, 0.5)"), "#ffffff80")
    assert.strictEqual(normalizeColor("rgb(0 0 0 / 50%)"), "#00000080")
    assert.isUndefined(normalizeColor("rgba(0, 0, 0, 0)"))
    assert.isUndefined(normalizeColor("currentcolor"))
    assert.strictEqual(primaryFamily("\"Fixture Sans\", system-ui, sans-serif"), "Fixture Sans")
    assert.isUndefined(primaryFamily(" "))
  })

  it("sums every breakpoint's counts, merges spellings of one colour, ranks by use then value", () => {
    const desktop = census({
      colors: { "rgb(26, 43, 60)": 5, "rgb(211, 54, 130)": 1 },
      backgrounds: { "rgba(0, 0, 0, 0)": 40, "rgb(253, 246, 227)": 1 },
      fontFamilies: { "\"Fixture Sans\", sans-serif": 6 },
      fontSizes: { "16px": 4, "48px": 1 },
      spacing: { "16px": 3, "24px": 3 },
      radii: { "8px": 3 }
    })
    const mobile = census({
      colors: { "rgb(26, 43, 60)": 4 },
      borders: { "rgb(211, 54, 130)": 2 },
      fontFamilies: { "'Fixture Sans', serif": 4, "Georgia": 1 },
      fontSizes: { "16px": 4, "32px": 1 },
      spacing: { "24px": 1 }
    })
    const tokens = tokensOf(source, [{ breakpoint: "desktop", census: desktop }, { breakpoint: "mobile", census: mobile }])
    assert.deepStrictEqual(tokens.breakpoints, ["desktop", "mobile"])
    assert.deepStrictEqual(tokens.colors, [
      { value: "#1a2b3c", count: 9 },
      { value: "#d33682", count: 3 },
      { value: "#fdf6e3", count: 1 }
    ])
    assert.deepStrictEqual(tokens.fontFamilies, [{ value: "Fixture Sans", count: 10 }, { value: "Georgia", count: 1 }])
    assert.deepStrictEqual(tokens.fontSizes.map((t) => [t.value, t.count]), [["16px", 8], ["32px", 1], ["48px", 1]])
    assert.deepStrictEqual(tokens.spacing, [{ value: "24px", count: 4 }, { value: "16px", count: 3 }])
    const css = tokensCss(tokens)
    assert.include(css, "--color-1: #1a2b3c; /* 9 uses */")
    assert.include(css, "--font-family-1: \"Fixture Sans\"; /* 10 uses */")
    assert.include(css, "--space-1: 24px;")
    assert.include(css, "--radius-1: 8px; /* 3 uses */")
  })
})

describe("style guide and reference page", () => {
  it("escapes what the page shows and links its screenshots relatively", () => {
    const tokens = tokensOf({ ...source, title: "<Shop & Co>" }, [{ breakpoint: "desktop", census: census({ colors: { "rgb(1, 2, 3)": 1 } }) }])
    const html = styleguideHtml(tokens, [{ breakpoint: "desktop", width: 1280, href: "desktop.png" }])
    assert.include(html, "&lt;Shop &amp; Co&gt;")
    assert.notInclude(html, "<Shop")
    assert.include(html, "src=\"desktop.png\"")
    assert.include(html, "background:#010203")
  })

  it("adds the scroll fallback once, before </body>", () => {
    const once = withScrollFallback("<html><body><p>x</p></body></html>")
    assert.match(once, /<script id="codex-scroll-fallback">[\s\S]*<\/script>\n<\/body>/)
    assert.strictEqual(withScrollFallback(once), once)
    assert.include(withScrollFallback("<p>fragment</p>"), "codex-scroll-fallback")
  })
})

const png = (width: number, height: number, paint: (x: number, y: number) => readonly [number, number, number]) => {
  const image = new PNG({ width, height })
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const [r, g, b] = paint(x, y)
      image.data.set([r, g, b, 255], (y * width + x) * 4)
    }
  }
  return new Uint8Array(PNG.sync.write(image))
}

describe("pixel diff", () => {
  it("finds no difference between equal images, the changed block, and the area only one image covers", () => {
    const white = png(20, 10, () => [255, 255, 255])
    assert.strictEqual(comparePngs(white, white).differing, 0)
    const block = png(20, 10, (x, y) => (x < 5 && y < 4 ? [255, 0, 0] : [255, 255, 255]))
    const changed = comparePngs(white, block)
    assert.strictEqual(changed.differing, 20)
    assert.strictEqual(changed.percent, 10)
    const taller = comparePngs(white, png(20, 15, () => [255, 255, 255]))
    assert.deepStrictEqual([taller.width, taller.height, taller.differing], [20, 15, 100])
    assert.strictEqual(PNG.sync.read(Buffer.from(taller.image)).height, 15)
  })

  it("keeps the first, middle and last frames", () => {
    assert.deepStrictEqual(keyFrameIndexes(13), [0, 6, 12])
    assert.deepStrictEqual(keyFrameIndexes(2), [0, 1])
    assert.deepStrictEqual(keyFrameIndexes(0), [])
  })
})

describe("artifact records", () => {
  it("classifies files by kind, slug, breakpoint and name", () => {
    assert.deepStrictEqual(classifyArtifact(["context", "site", "mobile", "screenshot.png"]), { kind: "context", slug: "site", breakpoint: "mobile", type: "screenshot" })
    assert.deepStrictEqual(classifyArtifact(["context", "site", "desktop", "motion", "keyframe-2.png"]), { kind: "context", slug: "site", breakpoint: "desktop", type: "keyframe" })
    assert.deepStrictEqual(classifyArtifact(["diffs", "site", "mobile-diff.png"]), { kind: "diffs", slug: "site", breakpoint: "mobile", type: "diff-image" })
    assert.deepStrictEqual(classifyArtifact(["styleguide", "site", "tokens.css"]), { kind: "styleguide", slug: "site", breakpoint: null, type: "tokens-css" })
    assert.isUndefined(classifyArtifact(["elsewhere", "site", "x.png"]))
    assert.isUndefined(classifyArtifact(["tokens", "site"]))
  })
})
