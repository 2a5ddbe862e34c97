/**
 * The hi-fi design toolkit end to end on the real CLI and headless Chromium (issue 24): the fixture
 * site (two breakpoints, a CSS animation, a web font served locally) goes through
 * `start hi-fi-design-toolkit`; the tokens hold its known colours and font, the style guide shows the
 * screenshots, the reference copy serves offline within the diff threshold, the manifest and the out
 * record list every artifact; then a planted change in the copy pushes `design diff` over the
 * threshold. Browser launches: extract, motion and diff in the pipeline, one more diff.
 */
import { execSync } from "node:child_process"
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join, relative } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import {
  asArray,
  asObject,
  asString,
  describeResult,
  type Json,
  makeTempRepo,
  readJson,
  requireBuiltCli,
  runCli,
  type StartedRun,
  startJson,
  type TempRepo
} from "../support/cli.js"
import { fixtureColours, fixtureDesignConfig, fixtureFont, startDesignFixture, studioSite } from "../support/designFixture.js"
import type { SiteServer } from "../support/siteServer.js"

let site: SiteServer
let repo: TempRepo
let run: StartedRun
let runId: string
let root: string

const hasFfmpeg = (() => {
  try {
    execSync("command -v ffmpeg", { stdio: "ignore" })
    return true
  } catch {
    return false
  }
})()

const pngSignature = [0x89, 0x50, 0x4e, 0x47]
const isPng = (file: string) => [...readFileSync(file).subarray(0, 4)].every((byte, i) => byte === pngSignature[i])

/** Every file under `dir`, relative to the repository, with a reference copy counted once as its folder. */
const artifactPaths = (dir: string): ReadonlyArray<string> =>
  readdirSync(dir).flatMap((name) => {
    const full = join(dir, name)
    if (relative(root, dir) === "reference") return [relative(repo.dir, full)]
    return statSync(full).isDirectory() ? artifactPaths(full) : [relative(repo.dir, full)]
  })

beforeAll(async () => {
  requireBuiltCli()
  site = await startDesignFixture()
  repo = makeTempRepo()
  writeFileSync(repo.path("design.config.yaml"), fixtureDesignConfig(site.baseUrl))
  execSync(`mkdir -p compliance && echo '{"allowedSources":[{"origin":"https://other.example"}]}' > compliance/permit.json`, { cwd: repo.dir })
  run = await startJson(repo, ["hi-fi-design-toolkit", "--task", "demo"])
  runId = asString(run.output["run_id"], "run_id")
  root = repo.path(".runs", "demo", runId, "artifacts", "design-toolkit")
}, 180_000)

afterAll(async () => {
  await site.close()
  repo.cleanup()
})

const tokens = () => readJson(join(root, "tokens", "fixture", "tokens.json"))
const values = (list: Json | undefined) => asArray(list, "tokens").map((token) => asString(asObject(token, "token")["value"], "value"))

describe("hi-fi-design-toolkit on the fixture site", () => {
  it("runs every stage; the unlisted origin is a warning only", () => {
    assert.strictEqual(run.result.code, 0, describeResult(run.result))
    assert.strictEqual(run.output["status"], "succeeded")
    const commands = asArray(run.manifest["commands"], "commands").map((c) => asObject(c, "command"))
    assert.deepStrictEqual(commands.map((c) => [c["id"], c["status"]]), [
      ["design-config", "succeeded"],
      ["design-toolkit-extract", "succeeded"],
      ["design-toolkit-tokens", "succeeded"],
      ["design-toolkit-styleguide", "succeeded"],
      ["design-toolkit-reference", "succeeded"],
      ["design-advanced-assets", hasFfmpeg ? "succeeded" : "failed"],
      ["design-visual-regression", "succeeded"],
      ["design-artifact-writer", "succeeded"]
    ])
    const configLog = readFileSync(join(run.runDir, "commands", "01-design-config.ndjson"), "utf8")
    assert.include(configLog, `${site.baseUrl} is not listed in compliance/permit.json (allowedSources); extraction continues`)
  })

  it("captures a screenshot, the DOM and the style census per breakpoint", () => {
    for (const breakpoint of ["desktop", "mobile"]) {
      const dir = join(root, "context", "fixture", breakpoint)
      assert.isTrue(isPng(join(dir, "screenshot.png")), breakpoint)
      assert.include(readFileSync(join(dir, "dom.html"), "utf8"), "<h1>Fixture Studio</h1>")
      assert.include(readFileSync(join(dir, "census.json"), "utf8"), "Fixture Sans")
    }
  })

  it("extracts the fixture's colours and web font, ranked by use, as JSON and CSS custom properties", () => {
    const found = tokens()
    assert.includeMembers(values(found["colors"]), Object.values(fixtureColours))
    assert.strictEqual(values(found["fontFamilies"])[0], fixtureFont)
    assert.includeMembers(values(found["fontSizes"]), ["48px", "32px", "20px"])
    assert.includeMembers(values(found["radii"]), ["8px", "12px"])
    const css = readFileSync(join(root, "tokens", "fixture", "tokens.css"), "utf8")
    assert.include(css, `--color-1: ${fixtureColours.text};`)
    assert.include(css, `--font-family-1: "${fixtureFont}";`)
  })

  it("writes a style guide page beside both screenshots", () => {
    const html = readFileSync(join(root, "styleguide", "fixture", "index.html"), "utf8")
    for (const breakpoint of ["desktop", "mobile"]) {
      assert.include(html, `src="${breakpoint}.png"`)
      assert.isTrue(isPng(join(root, "styleguide", "fixture", `${breakpoint}.png`)))
    }
    assert.include(html, fixtureColours.heading)
  })

  it("stages a reference copy with its font and CSS localised and the scroll fallback", () => {
    const dir = join(root, "reference", "fixture")
    assert.include(readFileSync(join(dir, "index.html"), "utf8"), "codex-scroll-fallback")
    assert.notInclude(readFileSync(join(dir, "assets", "site.css"), "utf8"), "127.0.0.1")
    assert.deepStrictEqual(readFileSync(join(dir, "assets", "fonts", "fixture-sans.woff2")).length, readFileSync(join(studioSite, "assets", "fonts", "fixture-sans.woff2")).length)
  })

  it("serves the copy offline within the threshold at both breakpoints", () => {
    const report = readJson(join(root, "diffs", "fixture", "report.json"))
    assert.strictEqual(report["status"], "passed")
    const entries = asArray(report["breakpoints"], "breakpoints").map((e) => asObject(e, "entry"))
    assert.deepStrictEqual(entries.map((e) => e["breakpoint"]), ["desktop", "mobile"])
    for (const entry of entries) assert.isBelow(Number(entry["percent"]), 2, JSON.stringify(entry))
  })

  it.runIf(hasFfmpeg)("records a scroll video and three key frames per breakpoint (FFmpeg present)", () => {
    for (const breakpoint of ["desktop", "mobile"]) {
      const dir = join(root, "context", "fixture", breakpoint, "motion")
      assert.isAbove(statSync(join(dir, "motion.mp4")).size, 1000)
      assert.includeMembers(readFileSync(join(dir, "motion.mp4")).subarray(4, 8).toString("latin1").split(""), ["f", "t", "y", "p"])
      for (const n of [1, 2, 3]) assert.isTrue(isPng(join(dir, `keyframe-${n}.png`)))
    }
  })

  it("lists every artifact in the manifest and in out/<task>/design/runs/<run>.json", () => {
    const expected = [...artifactPaths(root)].sort()
    const record = readJson(repo.path("out", "demo", "design", "runs", `${runId}.json`))
    for (const holder of [run.manifest, record]) {
      const listed = asArray(holder["design_toolkit_artifacts"], "design_toolkit_artifacts").map((a) => asString(asObject(a, "artifact")["path"], "path"))
      assert.deepStrictEqual([...listed].sort(), expected)
      const summary = asObject(holder["design_toolkit_summary"], "design_toolkit_summary")
      assert.strictEqual(summary["artifacts"], expected.length)
      assert.strictEqual(asObject(summary["diff"], "diff")["status"], "passed")
    }
    assert.strictEqual(record["manifest"], relative(repo.dir, join(run.runDir, "manifest.json")))
  })

  it("fails design diff once a visual change is planted in the reference copy, with the live site gone", async () => {
    await site.close()
    const css = join(root, "reference", "fixture", "assets", "site.css")
    writeFileSync(css, readFileSync(css, "utf8").replace(`background: ${fixtureColours.background}`, "background: #202020"))
    const result = await runCli(["design", "diff", "--task", "demo", "--run", runId], { cwd: repo.dir })
    assert.strictEqual(result.code, 1, describeResult(result))
    assert.match(result.stderr, /design diff: fixture @ (desktop|mobile) differs by \d+\.\d+% \(threshold 2%\)/)
    const report = readJson(join(root, "diffs", "fixture", "report.json"))
    assert.strictEqual(report["status"], "failed")
    for (const entry of asArray(report["breakpoints"], "breakpoints")) assert.isAbove(Number(asObject(entry, "entry")["percent"]), 2)
  })
})
