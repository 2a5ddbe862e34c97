/** design.config.yaml's rules, defaults and messages (DES-1, DES-3) to the exact value (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import {
  DesignConfigFile,
  duplicateBreakpointIssues,
  oneLineDesignConfig,
  resolveDesignConfig
} from "../../src/domain/DesignConfig.js"
import { formatIssues } from "../../src/domain/FileErrors.js"

const toolkit = (section: Readonly<Record<string, unknown>>) => ({ pipelines: { hi_fi_design_toolkit: section } })
const source = { url: "https://x.test/", slug: "x" }

const issuesOf = (input: unknown) =>
  Either.match(Schema.decodeUnknownEither(DesignConfigFile, { errors: "all" })(input), { onLeft: formatIssues, onRight: () => [] })

const decoded = (input: unknown) => Schema.decodeUnknownSync(DesignConfigFile)(input)

const at = "pipelines.hi_fi_design_toolkit"

describe("the file's rules, exactly", () => {
  it("URLs, slugs and breakpoints", () => {
    const issues = issuesOf(toolkit({
      sources: [
        { url: "not a url", slug: "a/b" },
        { url: "ftp://x.test/", slug: "ok", breakpoints: [] },
        { url: "http://x.test/", slug: "ok", breakpoints: ["phone", { id: "w", width: 99 }, { id: "h", width: 100, height: 8001 }] }
      ]
    }))
    assert.includeMembers([...issues], [
      `${at}.sources.0.url: must be an absolute URL such as https://example.com/`,
      `${at}.sources.0.slug: slashes are not allowed (a slug names a folder: letters, digits, '-', '_' or '.')`,
      `${at}.sources.1.url: must be an http:// or https:// URL`,
      `${at}.sources.1.breakpoints: must list at least one breakpoint`,
      `${at}.sources.2.breakpoints.0: must be one of mobile, tablet, desktop, wide, or {id, width, height}`,
      `${at}.sources.2.breakpoints.1.width: must be a whole number of pixels from 100 to 8000 (width)`,
      `${at}.sources.2.breakpoints.2.height: must be a whole number of pixels from 100 to 8000 (height)`
    ])
    assert.deepStrictEqual(issuesOf(toolkit({ sources: [{ ...source, slug: ".." }] })).map((issue) => issue.endsWith(".')")), [true])
    assert.deepStrictEqual(issuesOf(toolkit({ sources: [{ ...source, breakpoints: ["wide", { id: "c", width: 8000, height: 100 }] }] })), [])
    assert.deepStrictEqual(issuesOf(toolkit({ sources: [{ ...source, url: "http://x.test/" }, { ...source, url: "https://x.test/" }] })), [])
  })

  it("a bad breakpoint is one message, for the form it was written in (a name, or a size)", () => {
    const breakpoints = ["phone", { id: "w", width: 99 }, 5, { id: "x" }]
    const preset = "must be one of mobile, tablet, desktop, wide, or {id, width, height}"
    const expected = (where: string) => [
      `${where}.0: ${preset}`,
      `${where}.1.width: must be a whole number of pixels from 100 to 8000 (width)`,
      `${where}.2: ${preset}`,
      `${where}.3.width: is missing`
    ]
    assert.deepStrictEqual(issuesOf(toolkit({ sources: [{ ...source, breakpoints }] })), expected(`${at}.sources.0.breakpoints`))
    assert.deepStrictEqual(issuesOf(toolkit({ breakpoints })), expected(`${at}.breakpoints`))
  })

  it("masks, interactions, retention, diff, publish and self-correction bounds", () => {
    assert.deepStrictEqual(
      issuesOf(toolkit({
        masks: [""],
        interactions: { waitAfterLoadMs: 30_001, scrollSteps: 0, frameIntervalMs: -1 },
        retention: { days: 0, maxRuns: 1001 },
        diff: { maxPercent: 101 },
        publish: { tokensDir: "  ", commands: [""] },
        selfCorrection: { maxIterations: 3 }
      })),
      [
        `${at}.masks.0: must be a non-empty CSS selector`,
        `${at}.retention.days: must be a whole number of days from 1 to 3650`,
        `${at}.retention.maxRuns: must be a whole number of runs from 1 to 1000`,
        `${at}.interactions.waitAfterLoadMs: must be a whole number of milliseconds from 0 to 30000`,
        `${at}.interactions.scrollSteps: must be a whole number from 1 to 120`,
        `${at}.interactions.frameIntervalMs: must be a whole number of milliseconds from 0 to 2000`,
        `${at}.diff.maxPercent: must be a percentage from 0 to 100`,
        `${at}.publish.tokensDir: must name a folder inside the repository`,
        `${at}.publish.commands.0: must be a non-empty command line`,
        `${at}.selfCorrection.maxIterations: must be 1 or 2 (one iteration per correction strategy)`
      ]
    )
  })

  it("the publish folder stays relative and inside the repository", () => {
    const dir = (tokensDir: string) => issuesOf(toolkit({ publish: { tokensDir } }))
    assert.deepStrictEqual(dir("/abs"), [`${at}.publish.tokensDir: must be relative to the repository root, not absolute`])
    assert.deepStrictEqual(dir("C:tokens"), [`${at}.publish.tokensDir: must be relative to the repository root, not absolute`])
    assert.deepStrictEqual(dir("a/../../b"), [`${at}.publish.tokensDir: must stay inside the repository (no \`..\` segments)`])
    assert.deepStrictEqual(dir("a\\..\\b"), [`${at}.publish.tokensDir: must stay inside the repository (no \`..\` segments)`])
    assert.deepStrictEqual(dir("a/..b/c"), [])
    assert.deepStrictEqual(dir("xC:/t"), [])
  })
})

describe("resolveDesignConfig, exactly", () => {
  it("metadata without design, and pipelines without the toolkit, are the defaults", () => {
    assert.isFalse(resolveDesignConfig({ metadata: {} }).referenceEnabled)
    assert.deepStrictEqual(resolveDesignConfig({ pipelines: {} }).sources, [])
    assert.deepStrictEqual(duplicateBreakpointIssues({ pipelines: {} }), [])
  })

  it("an empty file: everything off, the defaults", () => {
    assert.deepStrictEqual(resolveDesignConfig({}), {
      enabled: false,
      referenceEnabled: false,
      sources: [],
      masks: [],
      retentionDays: 30,
      retentionMaxRuns: undefined,
      retentionAutoPurge: true,
      waitAfterLoadMs: 300,
      scrollSteps: 12,
      frameIntervalMs: 100,
      maxDiffPercent: 2,
      publishEnabled: false,
      publishTokensDir: "packages/design-system/tokens/src/hi-fi",
      publishCommands: [],
      selfCorrectionIterations: 0
    })
  })

  it("every value given, shared breakpoints, custom sizes and the 16:10 default height", () => {
    const settings = resolveDesignConfig(decoded({
      metadata: { design: { enabled: true } },
      pipelines: {
        hi_fi_design_toolkit: {
          enabled: true,
          breakpoints: ["tablet", { id: "custom", width: 1000 }],
          sources: [{ ...source, title: "X" }, { ...source, breakpoints: [{ id: "tall", width: 200, height: 900 }, "wide"] }],
          masks: [".banner"],
          retention: { days: 7, maxRuns: 3, autoPurge: false },
          interactions: { waitAfterLoadMs: 0, scrollSteps: 1, frameIntervalMs: 2000 },
          diff: { maxPercent: 0.5 },
          publish: { enabled: true, tokensDir: "t", commands: ["make"] },
          selfCorrection: { enabled: true, maxIterations: 1 }
        }
      }
    }))
    assert.deepStrictEqual(settings, {
      enabled: true,
      referenceEnabled: true,
      sources: [
        {
          url: "https://x.test/",
          slug: "x",
          dir: "x",
          title: "X",
          breakpoints: [{ id: "tablet", width: 768, height: 1024 }, { id: "custom", width: 1000, height: 625 }]
        },
        {
          url: "https://x.test/",
          slug: "x",
          dir: "x-1",
          title: "x",
          breakpoints: [{ id: "tall", width: 200, height: 900 }, { id: "wide", width: 1920, height: 1080 }]
        }
      ],
      masks: [".banner"],
      retentionDays: 7,
      retentionMaxRuns: 3,
      retentionAutoPurge: false,
      waitAfterLoadMs: 0,
      scrollSteps: 1,
      frameIntervalMs: 2000,
      maxDiffPercent: 0.5,
      publishEnabled: true,
      publishTokensDir: "t",
      publishCommands: ["make"],
      selfCorrectionIterations: 1
    })
    const disabled = resolveDesignConfig(decoded(toolkit({ selfCorrection: { enabled: false, maxIterations: 2 } })))
    assert.strictEqual(disabled.selfCorrectionIterations, 0)
  })
})

describe("duplicates and the example, exactly", () => {
  it("names each id listed twice once, per source", () => {
    const file = decoded(toolkit({
      sources: [
        { ...source, breakpoints: ["mobile", { id: "mobile", width: 300 }, "mobile", "wide"] },
        source,
        { ...source, breakpoints: ["wide", "desktop", { id: "desktop", width: 500 }] }
      ]
    }))
    assert.deepStrictEqual(duplicateBreakpointIssues(file), [
      `${at}.sources.0.breakpoints: breakpoint "mobile" is listed twice; give each an id of its own`,
      `${at}.sources.2.breakpoints: breakpoint "desktop" is listed twice; give each an id of its own`
    ])
    assert.deepStrictEqual(duplicateBreakpointIssues({}), [])
  })

  it("the one-line example names one source with desktop and mobile in YAML flow style", () => {
    assert.strictEqual(
      oneLineDesignConfig("https://x.test/", "x"),
      "pipelines: {hi_fi_design_toolkit: {enabled: true, sources: [{url: \"https://x.test/\", slug: x, title: x, breakpoints: [desktop, mobile]}]}}"
    )
  })
})
