/**
 * The hi-fi design toolkit end to end on the real CLI and headless Chromium (issue 24), as the
 * README's "Hi-fi design toolkit" bash block runs it (taken from README.md and run as written in the
 * package root): the example studio site (two breakpoints, a CSS animation, a web font served
 * locally, served by `mirror serve`) goes through `start hi-fi-design-toolkit`; the tokens hold its
 * known colours and font, the style guide shows the screenshots, the reference copy serves offline
 * within the diff threshold, the manifest and the out record list every artifact; then, with the
 * site gone, a planted change in the copy pushes `design diff` over the threshold. Browser
 * launches: extract, motion and diff in the pipeline, one more diff.
 */
import { execSync, spawn } from "node:child_process"
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { join, relative } from "node:path"
import { pathToFileURL } from "node:url"
import { chromium } from "playwright-core"
import { PNG } from "pngjs"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import {
  asArray,
  asObject,
  asString,
  cliEnv,
  describeResult,
  type Json,
  type JsonObject,
  packageRoot,
  parseJson,
  readJson,
  requireBuiltCli,
  runCli
} from "../support/cli.js"
import { fixtureColours, fixtureFont, studioSite } from "../support/designFixture.js"

const example = join(packageRoot, "examples", "design")
const origin = "http://127.0.0.1:4175"
let block: { code: number | null; stdout: string; stderr: string }
let manifest: JsonObject
let runDir: string
let runId: string
let root: string

const cleanup = () => {
  for (const path of [".runs", "out", "studio.txt", "run.json", "self-correcting.yaml"]) rmSync(join(example, path), { recursive: true, force: true })
}

/** The first ```bash block after the "## Hi-fi design toolkit" heading. */
const readmeSection = () => {
  const readme = readFileSync(join(packageRoot, "README.md"), "utf8")
  return readme.slice(readme.indexOf("## Hi-fi design toolkit"))
}
const fenced = (language: string) => {
  const match = new RegExp("```" + language + "\\n([\\s\\S]*?)```").exec(readmeSection())
  if (match?.[1] === undefined) throw new Error(`README.md has no ${language} block under ## Hi-fi design toolkit`)
  return match[1]
}

/**
 * Runs the block in its own process group; when bash exits, whatever it left behind (the site's
 * server, if a line failed before `kill %1`) is stopped with the group, so a failure cannot hang.
 */
const runBash = (script: string) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolvePromise, reject) => {
    const child = spawn("bash", ["-euo", "pipefail", "-c", script], { cwd: packageRoot, env: cliEnv(), detached: true })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
    child.on("error", reject)
    child.on("exit", (code) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGTERM")
      } catch {
        // the group is already gone
      }
      resolvePromise({ code, stdout, stderr })
    })
  })

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

/** Every file under `dir`, relative to the example, with a reference copy counted once as its folder. */
const artifactPaths = (dir: string): ReadonlyArray<string> =>
  readdirSync(dir).flatMap((name) => {
    const full = join(dir, name)
    if (relative(root, dir) === "reference") return [relative(example, full)]
    return statSync(full).isDirectory() ? artifactPaths(full) : [relative(example, full)]
  })

beforeAll(async () => {
  requireBuiltCli()
  cleanup()
  block = await runBash(fenced("bash"))
  runId = asString(readJson(join(example, "run.json"))["run_id"], "run_id")
  runDir = join(example, ".runs", "demo", "cli", runId)
  manifest = readJson(join(runDir, "manifest.json"))
  root = join(example, ".runs", "demo", runId, "artifacts", "design-toolkit")
}, 240_000)

afterAll(cleanup)

/** `#rrggbb` as getComputedStyle writes it. */
const rgbOf = (hex: string) => {
  const [r, g, b] = [1, 3, 5].map((at) => Number.parseInt(hex.slice(at, at + 2), 16))
  return `rgb(${r}, ${g}, ${b})`
}

const tokens = () => readJson(join(root, "tokens", "studio", "tokens.json"))
const values = (list: Json | undefined) => asArray(list, "tokens").map((token) => asString(asObject(token, "token")["value"], "value"))

describe("hi-fi-design-toolkit on the fixture site", () => {
  it("runs the README's example as written: every stage succeeds, the diff passes", () => {
    assert.strictEqual(block.code, 0, `${block.stdout}\n${block.stderr}`)
    assert.match(block.stdout, /ok +chromium: /)
    assert.include(block.stdout, "artifacts/design-toolkit/styleguide/studio/index.html")
    assert.include(block.stdout, "\"status\": \"passed\"")
    assert.strictEqual(manifest["status"], "succeeded")
    const commands = asArray(manifest["commands"], "commands").map((c) => asObject(c, "command"))
    assert.deepStrictEqual(commands.map((c) => [c["id"], c["status"]]), [
      ["design-config", "succeeded"],
      ["design-toolkit-extract", "succeeded"],
      ["design-toolkit-tokens", "succeeded"],
      ["design-toolkit-styleguide", "succeeded"],
      ["design-toolkit-reference", "succeeded"],
      ["design-advanced-assets", hasFfmpeg ? "succeeded" : "failed"],
      ["design-visual-regression", "succeeded"],
      ["design-toolkit-publish", "succeeded"],
      ["design-artifact-writer", "succeeded"]
    ])
    const source = readJson(join(root, "context", "studio", "source.json"))
    assert.strictEqual(source["permit"], "allowed")
  })

  it("shows the example config in the README", () => {
    const file = readFileSync(join(example, "design.config.yaml"), "utf8")
    assert.strictEqual(fenced("yaml"), file.slice(file.indexOf("pipelines:")))
  })

  it("captures a screenshot with the masked spinner boxed, the DOM with it emptied and the style census per breakpoint", () => {
    for (const breakpoint of ["desktop", "mobile"]) {
      const dir = join(root, "context", "studio", breakpoint)
      assert.isTrue(isPng(join(dir, "screenshot.png")), breakpoint)
      const image = PNG.sync.read(readFileSync(join(dir, "screenshot.png")))
      let magenta = 0
      for (let i = 0; i < image.data.length; i += 4) {
        if (image.data[i] === 255 && image.data[i + 1] === 0 && image.data[i + 2] === 255) magenta += 1
      }
      assert.isAtLeast(magenta, 40 * 40, `${breakpoint}: the .spinner mask (48x48 px) is boxed in magenta`)
      const dom = readFileSync(join(dir, "dom.html"), "utf8")
      assert.include(dom, "<h1>Fixture Studio</h1>")
      assert.include(dom, `<div class="spinner" data-codex-masked=".spinner"></div>`, `${breakpoint}: the masked counter is emptied in the DOM`)
      for (const secret of ["visitors online", "1234", "aria-label=\"loading\""]) assert.notInclude(dom, secret, breakpoint)
      assert.include(readFileSync(join(dir, "census.json"), "utf8"), "Fixture Sans")
    }
  })

  it("extracts the fixture's colours and web font, ranked by use, as JSON and CSS custom properties", () => {
    const found = tokens()
    assert.includeMembers(values(found["colors"]), Object.values(fixtureColours))
    assert.strictEqual(values(found["fontFamilies"])[0], fixtureFont)
    assert.includeMembers(values(found["fontSizes"]), ["48px", "32px", "20px"])
    assert.includeMembers(values(found["radii"]), ["8px", "12px"])
    const css = readFileSync(join(root, "tokens", "studio", "tokens.css"), "utf8")
    assert.include(css, `--color-1: ${fixtureColours.text};`)
    assert.include(css, `--font-family-1: "${fixtureFont}";`)
  })

  it("writes a style guide page beside both screenshots", () => {
    const html = readFileSync(join(root, "styleguide", "studio", "index.html"), "utf8")
    for (const breakpoint of ["desktop", "mobile"]) {
      assert.include(html, `src="${breakpoint}.png"`)
      assert.isTrue(isPng(join(root, "styleguide", "studio", `${breakpoint}.png`)))
    }
    assert.include(html, fixtureColours.heading)
  })

  it("opens the style guide in Chromium: tokens and both screenshots render, no request fails", async () => {
    const browser = await chromium.launch({ executablePath: process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] })
    try {
      const page = await browser.newPage()
      const failed: Array<string> = []
      page.on("requestfailed", (request) => failed.push(`${request.url()}: ${request.failure()?.errorText ?? "failed"}`))
      page.on("response", (response) => {
        if (response.status() >= 400) failed.push(`${response.url()}: ${response.status()}`)
      })
      await page.goto(pathToFileURL(join(root, "styleguide", "studio", "index.html")).href, { waitUntil: "load" })
      assert.deepStrictEqual(failed, [])
      const shown = await page.evaluate(`JSON.stringify({
        images: [...document.images].map((img) => [img.getAttribute("src"), img.complete && img.naturalWidth > 0]),
        swatches: [...document.querySelectorAll(".swatch")].map((el) => getComputedStyle(el).backgroundColor),
        firstColour: getComputedStyle(document.documentElement).getPropertyValue("--color-1").trim(),
        heading: document.querySelector("h1")?.textContent
      })`)
      const { swatches, ...rest } = asObject(parseJson(String(shown)), "style guide")
      assert.deepStrictEqual(rest, { images: [["desktop.png", true], ["mobile.png", true]], firstColour: fixtureColours.text, heading: "Fixture Studio" })
      const painted = [...asArray(swatches, "swatches")]
      assert.strictEqual(painted.length, values(tokens()["colors"]).length, "a swatch per colour token")
      assert.includeMembers(painted, Object.values(fixtureColours).map(rgbOf), "each of the fixture's colours is painted")
    } finally {
      await browser.close()
    }
  })

  it("stages a reference copy with its font and CSS localised and the scroll fallback", () => {
    const dir = join(root, "reference", "studio")
    assert.include(readFileSync(join(dir, "index.html"), "utf8"), "codex-scroll-fallback")
    assert.notInclude(readFileSync(join(dir, "assets", "site.css"), "utf8"), "127.0.0.1")
    assert.deepStrictEqual(readFileSync(join(dir, "assets", "fonts", "fixture-sans.woff2")).length, readFileSync(join(studioSite, "assets", "fonts", "fixture-sans.woff2")).length)
  })

  it("serves the copy offline within the threshold at both breakpoints", () => {
    const report = readJson(join(root, "diffs", "studio", "report.json"))
    assert.strictEqual(report["status"], "passed")
    const entries = asArray(report["breakpoints"], "breakpoints").map((e) => asObject(e, "entry"))
    assert.deepStrictEqual(entries.map((e) => e["breakpoint"]), ["desktop", "mobile"])
    for (const entry of entries) assert.isBelow(Number(entry["percent"]), 2, JSON.stringify(entry))
  })

  it.runIf(hasFfmpeg)("records a scroll video and three key frames per breakpoint (FFmpeg present)", () => {
    for (const breakpoint of ["desktop", "mobile"]) {
      const dir = join(root, "context", "studio", breakpoint, "motion")
      assert.isAbove(statSync(join(dir, "motion.mp4")).size, 1000)
      assert.includeMembers(readFileSync(join(dir, "motion.mp4")).subarray(4, 8).toString("latin1").split(""), ["f", "t", "y", "p"])
      for (const n of [1, 2, 3]) assert.isTrue(isPng(join(dir, `keyframe-${n}.png`)))
    }
  })

  it("lists every artifact in the manifest and in out/<task>/design/runs/<run>.json", () => {
    const expected = [...artifactPaths(root)].sort()
    const record = readJson(join(example, "out", "demo", "design", "runs", `${runId}.json`))
    for (const holder of [manifest, record]) {
      const listed = asArray(holder["design_toolkit_artifacts"], "design_toolkit_artifacts").map((a) => asString(asObject(a, "artifact")["path"], "path"))
      assert.deepStrictEqual([...listed].sort(), expected)
      const summary = asObject(holder["design_toolkit_summary"], "design_toolkit_summary")
      assert.strictEqual(summary["artifacts"], expected.length)
      assert.strictEqual(asObject(summary["diff"], "diff")["status"], "passed")
    }
    assert.strictEqual(record["manifest"], relative(example, join(runDir, "manifest.json")))
  })

  it("fails design diff once a visual change is planted in the reference copy, with the live site gone", async () => {
    const gone = await fetch(origin).then(() => false, () => true)
    assert.isTrue(gone, "the README block stops the studio site")
    const css = join(root, "reference", "studio", "assets", "site.css")
    writeFileSync(css, readFileSync(css, "utf8").replace(`background: ${fixtureColours.background}`, "background: #202020"))
    const result = await runCli(["design", "diff", "--task", "demo", "--run", runId], { cwd: example })
    assert.strictEqual(result.code, 1, describeResult(result))
    assert.match(result.stderr, /design diff: studio @ (desktop|mobile) differs by \d+\.\d+% \(threshold 2%\)/)
    const report = readJson(join(root, "diffs", "studio", "report.json"))
    assert.strictEqual(report["status"], "failed")
    for (const entry of asArray(report["breakpoints"], "breakpoints")) assert.isAbove(Number(asObject(entry, "entry")["percent"]), 2)
  })

  it("self-corrects the damaged copy at design diff: restaged from the cache, then replaced by the rendered DOM", async () => {
    // The copy keeps the planted background; now its page and the cached page also lose the cards.
    const dropCards = (html: string) => html.replace(/<section class="cards">[\s\S]*?<\/section>/, "")
    const page = join(root, "reference", "studio", "index.html")
    writeFileSync(page, dropCards(readFileSync(page, "utf8")))
    const cache = join(example, ".runs", "demo", "design", "cache", "studio")
    const cachedPage = readdirSync(cache).map((name) => join(cache, name)).find((file) => readFileSync(file, "utf8").includes('<section class="cards">'))
    assert.isDefined(cachedPage)
    writeFileSync(cachedPage ?? "", dropCards(readFileSync(cachedPage ?? "", "utf8")))
    const config = readFileSync(join(example, "design.config.yaml"), "utf8")
    writeFileSync(join(example, "self-correcting.yaml"), `${config}    selfCorrection: { enabled: true, maxIterations: 2 }\n`)

    const result = await runCli(["design", "diff", "--task", "demo", "--run", runId, "--config", "self-correcting.yaml"], { cwd: example })
    assert.strictEqual(result.code, 0, describeResult(result))
    const record = readJson(join(root, "diffs", "studio", "self-correction.json"))
    assert.strictEqual(record["status"], "passed")
    const iterations = asArray(record["iterations"], "iterations").map((i) => asObject(i, "iteration"))
    assert.deepStrictEqual(iterations.map((i) => [i["strategy"], i["kept"]]), [["restage", true], ["rendered-dom", true]])
    const rates = iterations.map((i) => [Number(i["error_rate_before"]), Number(i["error_rate_after"])] as const)
    assert.isAbove(rates[0]?.[0] ?? 0, 2, "the copy started over the threshold")
    assert.isAbove(rates[1]?.[0] ?? 0, 2, "restaging alone did not bring back the cards")
    assert.isBelow(rates[1]?.[1] ?? 100, 2)
    assert.include(result.stdout, "studio: self-correction 2 (rendered-dom)")
    assert.strictEqual(readJson(join(root, "diffs", "studio", "report.json"))["status"], "passed")
    const corrected = readFileSync(page, "utf8")
    assert.include(corrected, 'data-codex-masked=".spinner"', "the page is now the live page's rendered DOM")
    assert.include(corrected, "codex-scroll-fallback")
    assert.notInclude(readFileSync(join(root, "reference", "studio", "assets", "site.css"), "utf8"), "#202020", "the planted background is gone")
  })
})
