/**
 * `mirror fetch` end to end (SPEC MIR-1..3): the built CLI mirrors the fixture site from three
 * loopback servers into a temporary repository; the tests read back the tree, the manifest and what
 * each server was asked.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join, relative } from "node:path"
import { afterEach, assert, beforeAll, beforeEach, describe, it } from "vitest"
import {
  asArray,
  asObject,
  asString,
  describeResult,
  type JsonObject,
  makeTempRepo,
  readJson,
  requireBuiltCli,
  runCli,
  type TempRepo
} from "../support/cli.js"
import { binary, fixtureConfig, type MirrorFixture, startMirrorFixture, writeMirrorConfig } from "../support/mirrorFixture.js"
import { fill } from "../support/siteServer.js"

let fixture: MirrorFixture
let repo: TempRepo

beforeAll(requireBuiltCli)
beforeEach(async () => {
  fixture = await startMirrorFixture()
  repo = makeTempRepo()
})
afterEach(async () => {
  await fixture.close()
  repo.cleanup()
})

const env = { MCP_RUNNER_TASK_ID: "mirror-task" }

const fetchJson = async (args: ReadonlyArray<string> = []) => {
  const result = await runCli(["mirror", "fetch", "--project", "demo", "--format", "json", ...args], { cwd: repo.dir, env })
  let output: JsonObject
  try {
    output = asObject(JSON.parse(result.stdout), "stdout")
  } catch (error) {
    throw new Error(`stdout is not one JSON document (${String(error)})\n${describeResult(result)}`)
  }
  return { result, output, manifest: readJson(repo.path(asString(output["manifest"], "manifest"))) }
}

const filesUnder = (dir: string): ReadonlyArray<string> =>
  existsSync(dir)
    ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile())
      .map((entry) => relative(dir, join(entry.parentPath, entry.name))).sort()
    : []

const urlsOf = (manifest: JsonObject) => asArray(manifest["urls"], "urls").map((entry) => asObject(entry, "url record"))

const expectedIndex = `<!DOCTYPE html><html><head>
<meta charset="utf-8">
<title>Fixture</title>
<link rel="stylesheet" href="/assets/site.css">

<link rel="canonical" href="/">
<meta property="og:image" content="/images/og.png">
<meta name="twitter:image" content="/external/{cdnHost}/cdn/card__f67bbdbf.png">


<script src="/external/{cdnHost}/cdn/lib__8d2e83e6.js"></script>
</head><body>

<a href="/about/">About</a>
<a href="https://fb.com/sharer/sharer.php?u=x">Share</a>
<img src="/images/logo.png" srcset="/images/logo.png 1x, /external/{cdnHost}/cdn/logo@2x.png 2x" alt="logo">
<img src="/external/{cdnHost}/cdn/gone.png" alt="gone">

<div style="background: url('/images/bg.png')">hello</div>

</body></html>`

describe("mirror fetch", () => {
  it("mirrors the site: trackers stripped, assets localised byte for byte, every URL in the manifest, promoted", async () => {
    writeMirrorConfig(repo.dir, "demo", fixtureConfig(fixture))
    const { result, output, manifest } = await fetchJson()
    assert.strictEqual(result.code, 0, describeResult(result))
    assert.strictEqual(output["status"], "ok")
    assert.strictEqual(output["promotion"], "promoted")
    assert.match(result.stderr, /\[mirror:fetch\] 12\/12 URLs, 1\.\d KiB/)

    const cdnHost = new URL(fixture.cdn.baseUrl).host
    const publicDir = repo.path("packages", "demo", "public")
    assert.deepStrictEqual(filesUnder(publicDir), [
      "about/index.html",
      "assets/site.css",
      `external/${cdnHost}/cdn/card__f67bbdbf.png`,
      `external/${cdnHost}/cdn/font.css`,
      `external/${cdnHost}/cdn/fonts/f.woff2`,
      `external/${cdnHost}/cdn/gone.png`,
      `external/${cdnHost}/cdn/lib__8d2e83e6.js`,
      `external/${cdnHost}/cdn/logo@2x.png`,
      "images/bg.png",
      "images/logo.png",
      "images/og.png",
      "index.html"
    ])
    assert.strictEqual(readFileSync(join(publicDir, "index.html"), "utf8"), fill(expectedIndex, { cdnHost }))
    assert.strictEqual(
      readFileSync(join(publicDir, "assets", "site.css"), "utf8"),
      `@import url("/external/${cdnHost}/cdn/font.css");\nbody { background: url(/images/bg.png) }\n.logo { background-image: url("/images/logo.png") }\n`
    )
    assert.strictEqual(readFileSync(join(publicDir, "external", cdnHost, "cdn", "font.css"), "utf8"), `@font-face { font-family: F; src: url(/external/${cdnHost}/cdn/fonts/f.woff2) format("woff2") }\n`)
    assert.strictEqual(readFileSync(join(publicDir, "external", cdnHost, "cdn", "lib__8d2e83e6.js"), "utf8"), `window.lib = { api: "/api/data.json" };\n`)
    assert.deepStrictEqual(new Uint8Array(readFileSync(join(publicDir, "images", "logo.png"))), binary(1))
    assert.deepStrictEqual(new Uint8Array(readFileSync(join(publicDir, "external", cdnHost, "cdn", "gone.png"))), binary(7))

    const urls = urlsOf(manifest)
    assert.strictEqual(urls.length, 12)
    const gone = urls.find((entry) => entry["url"] === `${fixture.cdn.baseUrl}/cdn/gone.png`)
    assert.strictEqual(gone?.["outcome"], "archived")
    assert.strictEqual(gone?.["source"], `${fixture.archive.baseUrl}/web/0if_/${fixture.cdn.baseUrl}/cdn/gone.png`)
    assert.deepStrictEqual(urls.filter((entry) => entry["kind"] === "route").map((entry) => entry["path"]), ["index.html", "about/index.html"])
    assert.strictEqual(manifest["task_id"], "mirror-task")
    assert.strictEqual(manifest["status"], "ok")
    assert.deepStrictEqual(manifest["permit"], { path: "compliance/permit.json", verdict: "no-permit-file" })
    assert.isTrue(existsSync(repo.path(asString(manifest["staging_dir"], "staging_dir"), "index.html")))
    assert.notInclude(fixture.origin.requests.join(" "), "gtag")

    // A second fetch is answered from the per-project cache: the servers are not asked again.
    const asked = fixture.origin.requests.length + fixture.cdn.requests.length
    const again = await fetchJson()
    assert.strictEqual(again.result.code, 0, describeResult(again.result))
    assert.isTrue(urlsOf(again.manifest).every((entry) => entry["outcome"] === "cached"))
    assert.strictEqual(fixture.origin.requests.length + fixture.cdn.requests.length, asked)
  })

  it("retries a failing download with backoff, and records the permit's verdict", async () => {
    writeMirrorConfig(repo.dir, "demo", fixtureConfig(fixture))
    mkdirSync(repo.path("compliance"))
    writeFileSync(repo.path("compliance", "permit.json"), JSON.stringify({ allowedSources: [{ origin: fixture.origin.baseUrl }] }))
    fixture.origin.failFirst("/images/og.png", 2, 503)
    const { result, manifest } = await fetchJson()
    assert.strictEqual(result.code, 0, describeResult(result))
    const og = urlsOf(manifest).find((entry) => entry["url"] === `${fixture.origin.baseUrl}/images/og.png`)
    assert.strictEqual(og?.["outcome"], "fetched")
    assert.strictEqual(og?.["attempts"], 3)
    assert.strictEqual(fixture.origin.requests.filter((target) => target === "/images/og.png").length, 3)
    assert.deepStrictEqual(manifest["permit"], { path: "compliance/permit.json", verdict: "allowed" })
  })

  it("a URL whose name is too long for a file (over 255 bytes) is stored under a shorter name, and linked there", async () => {
    const long = "a".repeat(300)
    fixture.origin.pages.set("/long/", { body: `<html><body><img src="/${long}.png"><img src="/${long}/b.png"></body></html>` })
    fixture.origin.pages.set(`/${long}.png`, { type: "image/png", body: binary(8) })
    fixture.origin.pages.set(`/${long}/b.png`, { type: "image/png", body: binary(9) })
    writeMirrorConfig(repo.dir, "demo", fixtureConfig(fixture, { routes: ["/long/"] }))
    const { result, output } = await fetchJson()
    assert.strictEqual(result.code, 0, describeResult(result))
    assert.strictEqual(output["promotion"], "promoted")
    const stored = filesUnder(repo.path("packages", "demo", "public"))
    assert.strictEqual(stored.length, 3, stored.join("\n"))
    const page = readFileSync(repo.path("packages", "demo", "public", "long", "index.html"), "utf8")
    for (const file of stored.filter((name) => name.endsWith(".png"))) {
      assert.isAtMost(Math.max(...file.split("/").map((name) => name.length)), 200)
      assert.include(page, `src="/${file}"`)
    }
  })

  it("does not promote when a URL failed, promotes with --force (still exit 1), and never with --dry-run", async () => {
    writeMirrorConfig(repo.dir, "demo", fixtureConfig(fixture))
    const publicDir = repo.path("packages", "demo", "public")
    const failed = await fetchJson(["--archive-fallback=false"])
    assert.strictEqual(failed.result.code, 1, describeResult(failed.result))
    assert.strictEqual(failed.output["status"], "incomplete")
    assert.strictEqual(failed.output["promotion"], "skipped")
    assert.match(failed.result.stderr, /error: mirror incomplete: 1 URL\(s\) failed/)
    assert.isFalse(existsSync(publicDir))
    const gone = urlsOf(failed.manifest).find((entry) => entry["outcome"] === "failed")
    assert.strictEqual(gone?.["url"], `${fixture.cdn.baseUrl}/cdn/gone.png`)
    assert.strictEqual(gone?.["http_status"], 404)
    assert.deepStrictEqual(failed.manifest["errors"], [`${fixture.cdn.baseUrl}/cdn/gone.png: HTTP 404`])

    const dry = await fetchJson(["--archive-fallback=false", "--dry-run", "--force"])
    assert.strictEqual(dry.output["promotion"], "dry-run")
    assert.isFalse(existsSync(publicDir))

    const forced = await fetchJson(["--archive-fallback=false", "--force"])
    assert.strictEqual(forced.result.code, 1, describeResult(forced.result))
    assert.strictEqual(forced.output["promotion"], "promoted")
    assert.isTrue(existsSync(join(publicDir, "index.html")))
    assert.isFalse(existsSync(join(publicDir, "external", new URL(fixture.cdn.baseUrl).host, "cdn", "gone.png")))
  })

  it("rejects a bad config with every problem at once (exit 2) and writes nothing", async () => {
    writeMirrorConfig(repo.dir, "demo", { origin: "ftp://x", routes: [], stripPatterns: ["("] })
    const result = await runCli(["mirror", "fetch", "--project", "demo"], { cwd: repo.dir, env })
    assert.strictEqual(result.code, 2, describeResult(result))
    const line = result.stderr.trim()
    assert.include(line, "packages/demo/mirror.config.json is not valid")
    assert.include(line, "origin: must be an http:// or https:// URL")
    assert.include(line, "routes: must list at least one route")
    assert.include(line, "stripPatterns.0: is not a valid regular expression")
    assert.strictEqual(result.stdout, "")
    assert.isFalse(existsSync(repo.path(".runs")))

    const missing = await runCli(["mirror", "fetch", "--project", "nothing"], { cwd: repo.dir, env })
    assert.strictEqual(missing.code, 2, describeResult(missing))
    assert.include(missing.stderr, "packages/nothing/mirror.config.json is not valid: the file does not exist")
    const traversal = await runCli(["mirror", "fetch", "--project", ".."], { cwd: repo.dir, env })
    assert.strictEqual(traversal.code, 2, describeResult(traversal))
    const outside = await runCli(["mirror", "fetch", "--project", "demo", "--config", "/nonexistent/mirror.json"], { cwd: repo.dir, env })
    assert.strictEqual(outside.code, 2, describeResult(outside))
    assert.include(outside.stderr, "error: /nonexistent/mirror.json is not valid: the file does not exist.")
    for (const concurrency of ["0", "-5"]) {
      const none = await runCli(["mirror", "fetch", "--project", "demo", "--concurrency", concurrency], { cwd: repo.dir, env })
      assert.strictEqual(none.code, 2, describeResult(none))
      assert.strictEqual(none.stderr, `error: --concurrency must be 1 or more (got ${concurrency}).\n`)
    }
    writeMirrorConfig(repo.dir, "demo", { ...fixtureConfig(fixture), routes: [`//${new URL(fixture.cdn.baseUrl).host}/cdn/`] })
    const otherHost = await runCli(["mirror", "fetch", "--project", "demo"], { cwd: repo.dir, env })
    assert.strictEqual(otherHost.code, 2, describeResult(otherHost))
    assert.include(otherHost.stderr, "routes.0: must be a path on the origin, starting with a single / (//host/ names another host).")
    assert.deepStrictEqual(fixture.cdn.requests, [], "nothing was asked of the other host")
    writeMirrorConfig(repo.dir, "demo", { origin: "https://example.com", routes: "x" })
    const wrongType = await runCli(["mirror", "fetch", "--project", "demo"], { cwd: repo.dir, env })
    assert.strictEqual(wrongType.code, 2, describeResult(wrongType))
    assert.strictEqual(
      wrongType.stderr,
      `error: packages/demo/mirror.config.json is not valid: routes: Expected an array of strings, actual "x". ` +
        `Fix the fields listed; the least a mirror needs is {"origin": "https://example.com", "routes": ["/"]}.\n`
    )
    assert.isFalse(existsSync(repo.path(".runs")))
  })
})
