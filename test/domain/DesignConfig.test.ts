import { Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { activeDesignPipeline, type DesignEnvironment } from "../../src/domain/DesignActivation.js"
import { uniqueDirs } from "../../src/domain/DesignConfig.js"
import { makeDesignLayout, safeJoin, segmentProblem, UnsafeArtifactPath } from "../../src/domain/DesignPaths.js"
import { resolvePipeline, type PipelineCatalogData, type PipelineDefinition } from "../../src/domain/Pipeline.js"
import { parseDesignConfig } from "../../src/layers/internal/designConfigFile.js"

const parse = (yaml: string) => parseDesignConfig(yaml, "design.config.yaml")

describe("design.config.yaml (DES-1)", () => {
  it("applies the defaults: desktop and mobile, 2% diff threshold, 30 days of retention", () => {
    const settings = Either.getOrThrow(parse("pipelines:\n  hi_fi_design_toolkit:\n    enabled: true\n    sources:\n      - { url: 'https://example.com/a', slug: ex }\n"))
    assert.strictEqual(settings.enabled, true)
    assert.deepStrictEqual(settings.sources.map((s) => [s.dir, s.title, s.breakpoints]), [[
      "ex",
      "ex",
      [{ id: "desktop", width: 1280, height: 800 }, { id: "mobile", width: 390, height: 844 }]
    ]])
    assert.deepStrictEqual([settings.maxDiffPercent, settings.retentionDays, settings.masks], [2, 30, []])
    assert.deepStrictEqual(
      [settings.retentionMaxRuns, settings.retentionAutoPurge, settings.publishEnabled, settings.publishTokensDir, settings.selfCorrectionIterations],
      [undefined, true, false, "packages/design-system/tokens/src/hi-fi", 0]
    )
  })

  it("reads retention, publish and self-correction", () => {
    const settings = Either.getOrThrow(parse([
      "pipelines:",
      "  hi_fi_design_toolkit:",
      "    sources: [{ url: 'https://example.com/', slug: ex }]",
      "    retention: { maxRuns: 5, autoPurge: false }",
      "    publish: { enabled: true, tokensDir: tokens/hi-fi, commands: ['npm run build:tokens'] }",
      "    selfCorrection: { enabled: true }",
      ""
    ].join("\n")))
    assert.deepStrictEqual(
      [settings.retentionDays, settings.retentionMaxRuns, settings.retentionAutoPurge, settings.publishTokensDir, settings.publishCommands, settings.selfCorrectionIterations],
      [30, 5, false, "tokens/hi-fi", ["npm run build:tokens"], 2]
    )
  })

  it("reports every bad field at once, each with its path", () => {
    const result = parse([
      "pipelines:",
      "  hi_fi_design_toolkit:",
      "    enabled: yes please",
      "    sources:",
      "      - url: ftp://example.com/",
      "        slug: ../escape",
      "        breakpoints: [phone, { id: big, width: 50 }]",
      "    masks: ['']",
      "    diff: { maxPercent: 250 }",
      ""
    ].join("\n"))
    assert(Either.isLeft(result))
    const text = result.left.issues.join("\n")
    for (const path of [
      "pipelines.hi_fi_design_toolkit.enabled",
      "pipelines.hi_fi_design_toolkit.sources.0.url",
      "pipelines.hi_fi_design_toolkit.sources.0.slug",
      "pipelines.hi_fi_design_toolkit.sources.0.breakpoints.0",
      "pipelines.hi_fi_design_toolkit.sources.0.breakpoints.1.width",
      "pipelines.hi_fi_design_toolkit.masks.0",
      "pipelines.hi_fi_design_toolkit.diff.maxPercent"
    ]) assert.include(text, `${path}:`, text)
    assert.include(text, "must be an http:// or https:// URL")
    assert.include(result.left.message, "design.config.yaml is not valid")
  })

  it("names the line of a YAML syntax error, and refuses a breakpoint listed twice", () => {
    const syntax = parse("pipelines:\n  hi_fi_design_toolkit: [unclosed\n")
    assert(Either.isLeft(syntax))
    assert.match(syntax.left.issues[0] ?? "", /^line \d+: /)
    const twice = parse("pipelines:\n  hi_fi_design_toolkit:\n    sources:\n      - { url: 'https://e.com/', slug: e, breakpoints: [mobile, mobile] }\n")
    assert(Either.isLeft(twice))
    assert.include(twice.left.issues[0] ?? "", "breakpoint \"mobile\" is listed twice")
  })

  it("suffixes a slug an earlier source already has (DES-3)", () => {
    assert.deepStrictEqual(uniqueDirs(["a", "b", "a", "a", "a-1"]), ["a", "b", "a-1", "a-2", "a-1-1"])
    const settings = Either.getOrThrow(parse(
      "pipelines:\n  hi_fi_design_toolkit:\n    sources:\n      - { url: 'https://e.com/', slug: site }\n      - { url: 'https://f.com/', slug: site }\n"
    ))
    assert.deepStrictEqual(settings.sources.map((s) => [s.slug, s.dir]), [["site", "site"], ["site", "site-1"]])
  })
})

describe("artifact paths (DES-3)", () => {
  it.effect("refuses .. and slashes instead of cleaning them", () =>
    Effect.gen(function*() {
    const posix = yield* Path.Path
    for (const bad of ["..", "../x", "a/b", "a\\b", ".hidden", ""]) assert.isDefined(segmentProblem(bad), bad)
    for (const good of ["fixture", "a..b", "site-1", "v2.0"]) assert.isUndefined(segmentProblem(good), good)
    const refused = safeJoin(posix, "/runs", "reference", "..")
    assert(refused instanceof UnsafeArtifactPath)
    assert.include(refused.message, "`..` segments are not allowed")
    assert.strictEqual(safeJoin(posix, "/runs", "reference", "fixture"), "/runs/reference/fixture")
    }).pipe(Effect.provide(Path.layer)))

  it.effect("puts artifacts in the run's own folder (not cli/) and the record under out/<task>/design/runs/", () =>
    Effect.gen(function*() {
    const posix = yield* Path.Path
    const layout = makeDesignLayout(posix, { repoRoot: "/repo", runsRoot: "/repo/.runs", outRoot: "/repo/out" }, "demo", "r1")
    assert.strictEqual(layout.dir("tokens", "fixture"), "/repo/.runs/demo/r1/artifacts/design-toolkit/tokens/fixture")
    assert(layout.dir("diffs", "../../x") instanceof UnsafeArtifactPath)
    assert.strictEqual(layout.relative(layout.outRecord), "out/demo/design/runs/r1.json")
    }).pipe(Effect.provide(Path.layer)))
})

const env = (toolkit?: string, pipeline?: string, referencePipeline?: string): DesignEnvironment => ({ toolkit, pipeline, referencePipeline })
const facts = (toolkitEnabled: boolean, sourceCount: number, referenceEnabled: boolean) => ({ toolkitEnabled, sourceCount, referenceEnabled })

describe("activation (DES-2)", () => {
  it("lets the first variable set decide, then the config", () => {
    const on = facts(true, 1, true)
    assert.strictEqual(activeDesignPipeline(env("1"), undefined), "hi-fi-design-toolkit")
    assert.strictEqual(activeDesignPipeline(env("Enabled"), undefined), "hi-fi-design-toolkit")
    assert.strictEqual(activeDesignPipeline(env("0", "1"), on), undefined)
    assert.strictEqual(activeDesignPipeline(env(undefined, "yes"), undefined), "design-reference")
    assert.strictEqual(activeDesignPipeline(env(undefined, "off", "1"), on), undefined)
    assert.strictEqual(activeDesignPipeline(env(undefined, undefined, "true"), undefined), "design-reference")
    assert.strictEqual(activeDesignPipeline(env("", ""), on), "hi-fi-design-toolkit")
    assert.strictEqual(activeDesignPipeline(env(), facts(true, 0, true)), "design-reference")
    assert.strictEqual(activeDesignPipeline(env(), facts(false, 3, false)), undefined)
    assert.strictEqual(activeDesignPipeline(env(), undefined), undefined)
  })

  it("picks the active design pipeline when no id is given (CFG-9), falling through when nobody defines it", () => {
    const pipeline = (id: string): PipelineDefinition => ({ id, title: id, stages: [{ kind: "command", id: "s", title: "s", command: "true" }] })
    const catalog: PipelineCatalogData = {
      configPath: "codex.orchestrator.json",
      configFound: false,
      user: [],
      defaultPipeline: undefined,
      builtins: [pipeline("diagnostics"), pipeline("hi-fi-design-toolkit")],
      designPipeline: "hi-fi-design-toolkit"
    }
    const pick = (data: PipelineCatalogData, id?: string) => {
      const resolved = resolvePipeline(data, id)
      return "pipeline" in resolved ? resolved.pipeline.id : resolved._tag
    }
    assert.strictEqual(pick(catalog), "hi-fi-design-toolkit")
    assert.strictEqual(pick(catalog, "diagnostics"), "diagnostics")
    assert.strictEqual(pick({ ...catalog, designPipeline: "design-reference" }), "diagnostics")
    assert.strictEqual(pick({ ...catalog, designPipeline: undefined }), "diagnostics")
  })
})
