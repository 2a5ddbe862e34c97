/** Design tokens and artifact records to the exact value (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { classifyArtifact } from "../../src/domain/DesignRecord.js"
import { normalizeColor, primaryFamily, tokensCss, tokensOf } from "../../src/domain/DesignTokens.js"
import { census } from "../support/designCensus.js"

describe("normalizeColor, exactly", () => {
  it("reads rgb and rgba with commas, spaces, a slash, a fraction or a percentage, in any case and padding", () => {
    assert.strictEqual(normalizeColor("  RGB( 1 , 2 , 3 )  "), "#010203")
    assert.strictEqual(normalizeColor("rgba(255,0,16,1)"), "#ff0010")
    assert.strictEqual(normalizeColor("rgba(255, 0, 16, 0.25)"), "#ff001040")
    assert.strictEqual(normalizeColor("rgb(1 2 3 / 100%)"), "#010203")
    assert.strictEqual(normalizeColor("rgb(1 2 3 / 25%)"), "#01020340")
    assert.strictEqual(normalizeColor("rgba(1, 2, 3, 1.5)"), "#010203")
  })

  it("rounds and clamps channels to 0..255", () => {
    assert.strictEqual(normalizeColor("rgb(300, 1.6, 0.4)"), "#ff0200")
    assert.strictEqual(normalizeColor("rgba(0, 0, 0, 0.001)"), "#00000000")
  })

  it("keeps a #rrggbb value lower-cased and trimmed; anything else, or no alpha at all, is no colour", () => {
    assert.strictEqual(normalizeColor(" #AABBCC "), "#aabbcc")
    assert.isUndefined(normalizeColor("#abc"))
    assert.isUndefined(normalizeColor("x#aabbcc"))
    assert.isUndefined(normalizeColor("#aabbccdd"))
    assert.isUndefined(normalizeColor("rgb(1, 2, 3) x"))
    assert.isUndefined(normalizeColor("x rgb(1, 2, 3)"))
    assert.isUndefined(normalizeColor("rgb(1, 2, 3, 0%)"))
    assert.isUndefined(normalizeColor("rgb(1, 2)"))
  })
})

describe("primaryFamily, exactly", () => {
  it("the first family of the stack, trimmed, one pair of quotes removed", () => {
    assert.strictEqual(primaryFamily(" 'My Font' , serif"), "My Font")
    assert.strictEqual(primaryFamily("Georgia"), "Georgia")
    assert.strictEqual(primaryFamily("\"A\"B\""), "A\"B")
    assert.isUndefined(primaryFamily("\"\", serif"))
    assert.isUndefined(primaryFamily(""))
  })
})

describe("tokensOf and tokensCss, exactly", () => {
  it("ranks by use, then by value; blank values are dropped, others trimmed", () => {
    const tokens = tokensOf({ slug: "s", url: "u", title: "T" }, [{
      breakpoint: "wide",
      census: census({
        backgrounds: { "rgb(0, 0, 255)": 2, "rgb(255, 0, 0)": 2, "#00ff00": 1 },
        fontWeights: { " 700 ": 1, "400": 3, " ": 9 },
        fontSizes: { "b": 1, "a": 1, "c": 1 },
        radii: { "4px": 2 },
        spacing: { "": 4, "8px": 1 }
      })
    }])
    assert.deepStrictEqual(tokens, {
      version: 1,
      slug: "s",
      url: "u",
      title: "T",
      breakpoints: ["wide"],
      colors: [{ value: "#0000ff", count: 2 }, { value: "#ff0000", count: 2 }, { value: "#00ff00", count: 1 }],
      fontFamilies: [],
      fontSizes: [{ value: "a", count: 1 }, { value: "b", count: 1 }, { value: "c", count: 1 }],
      fontWeights: [{ value: "400", count: 3 }, { value: "700", count: 1 }],
      spacing: [{ value: "8px", count: 1 }],
      radii: [{ value: "4px", count: 2 }]
    })
  })

  it("writes every group in order with its count, one use singular, families quoted and escaped", () => {
    const css = tokensCss({
      version: 1,
      slug: "s",
      url: "https://x.test/",
      title: "X",
      breakpoints: ["desktop", "mobile"],
      colors: [{ value: "#000000", count: 1 }, { value: "#ffffff", count: 2 }],
      fontFamilies: [{ value: "Say \"Hi\" \\o/", count: 3 }],
      fontSizes: [{ value: "16px", count: 4 }],
      fontWeights: [{ value: "700", count: 5 }],
      spacing: [{ value: "8px", count: 6 }],
      radii: [{ value: "2px", count: 7 }]
    })
    assert.strictEqual(
      css,
      [
        "/* Design tokens of X (https://x.test/), breakpoints desktop, mobile; ranked by use. */",
        ":root {",
        "  --color-1: #000000; /* 1 use */",
        "  --color-2: #ffffff; /* 2 uses */",
        "  --font-family-1: \"Say \\\"Hi\\\" \\\\o/\"; /* 3 uses */",
        "  --font-size-1: 16px; /* 4 uses */",
        "  --font-weight-1: 700; /* 5 uses */",
        "  --space-1: 8px; /* 6 uses */",
        "  --radius-1: 2px; /* 7 uses */",
        "}",
        ""
      ].join("\n")
    )
  })
})

describe("classifyArtifact, exactly", () => {
  it("publish logs: the record, a log, anything else; too short a path is nothing", () => {
    assert.deepStrictEqual(classifyArtifact(["publish", "logs", "site", "publish.json"]), { kind: "publish", slug: "site", breakpoint: null, type: "publish-record" })
    assert.deepStrictEqual(classifyArtifact(["publish", "logs", "site", "a", "run.log"]), { kind: "publish", slug: "site", breakpoint: null, type: "publish-log" })
    assert.deepStrictEqual(classifyArtifact(["publish", "logs", "site", "x.txt"]), { kind: "publish", slug: "site", breakpoint: null, type: "other" })
    assert.isUndefined(classifyArtifact(["publish", "logs", "site"]))
    assert.isUndefined(classifyArtifact(["publish", "other", "site", "publish.json"]))
    assert.deepStrictEqual(classifyArtifact(["tokens", "logs", "site", "publish.json"]), { kind: "tokens", slug: "logs", breakpoint: null, type: "other" })
  })

  it("the style guide's page, its stylesheet, its images and anything else", () => {
    const of = (name: string) => classifyArtifact(["styleguide", "site", name])?.type
    assert.deepStrictEqual(["index.html", "tokens.css", "shot.png", "notes.txt"].map(of), ["styleguide", "tokens-css", "styleguide-image", "other"])
    assert.strictEqual(classifyArtifact(["styleguide", "site", "index.html"])?.breakpoint, null)
  })

  it("every file name the other kinds know, anchored at both ends", () => {
    const of = (name: string) => classifyArtifact(["tokens", "site", name])?.type
    assert.deepStrictEqual(
      [
        "screenshot.png",
        "dom.html",
        "census.json",
        "source.json",
        "motion.mp4",
        "keyframe-12.png",
        "tokens.json",
        "tokens.css",
        "report.json",
        "self-correction.json",
        "x-screenshot.png",
        "screenshot.png.bak",
        "keyframe-.png",
        "old-report.json"
      ].map(of),
      [
        "screenshot",
        "dom",
        "census",
        "source",
        "motion-video",
        "keyframe",
        "tokens",
        "tokens-css",
        "diff-report",
        "self-correction",
        "other",
        "other",
        "other",
        "other"
      ]
    )
  })

  it("a breakpoint for context files below one, and for diff and reference images of a diff", () => {
    assert.deepStrictEqual(classifyArtifact(["context", "site", "dom.html"]), { kind: "context", slug: "site", breakpoint: null, type: "dom" })
    assert.deepStrictEqual(classifyArtifact(["diffs", "site", "wide-reference.png"]), { kind: "diffs", slug: "site", breakpoint: "wide", type: "reference-screenshot" })
    assert.deepStrictEqual(classifyArtifact(["diffs", "site", "report.json"]), { kind: "diffs", slug: "site", breakpoint: null, type: "diff-report" })
    assert.deepStrictEqual(classifyArtifact(["tokens", "site", "a", "x-diff.png"]), { kind: "tokens", slug: "site", breakpoint: null, type: "diff-image" })
    assert.isUndefined(classifyArtifact([]))
    // Only the ending suffix names the breakpoint.
    assert.strictEqual(classifyArtifact(["diffs", "site", "a-reference.png-diff.png"])?.breakpoint, "a-reference.png")
  })
})
