/**
 * `mirror check` through the built CLI in a real headless Chromium (SPEC MIR-5): the fixture site is
 * fetched, the clean mirror passes, then planted violations are each reported. `.ci/run` installs
 * Debian's chromium, so this runs wherever the suite runs.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { asArray, asObject, describeResult, makeTempRepo, readJson, requireBuiltCli, runCli, spawnCli, type TempRepo, waitFor } from "../support/cli.js"
import { fixtureConfig, type MirrorFixture, startMirrorFixture, writeMirrorConfig } from "../support/mirrorFixture.js"

let fixture: MirrorFixture
let repo: TempRepo
const env = { MCP_RUNNER_TASK_ID: "check-task" }
const pngSignature = [0x89, 0x50, 0x4e, 0x47]

beforeAll(async () => {
  requireBuiltCli()
  fixture = await startMirrorFixture()
  repo = makeTempRepo()
  writeMirrorConfig(repo.dir, "demo", fixtureConfig(fixture))
  const fetched = await runCli(["mirror", "fetch", "--project", "demo"], { cwd: repo.dir, env })
  assert.strictEqual(fetched.code, 0, describeResult(fetched))
})

afterAll(async () => {
  await fixture.close()
  repo.cleanup()
})

const checkJson = async (args: ReadonlyArray<string> = [], extraEnv: Record<string, string> = {}) => {
  const result = await runCli(["mirror", "check", "--project", "demo", "--format", "json", ...args], { cwd: repo.dir, env: { ...env, ...extraEnv } })
  const output = asObject(JSON.parse(result.stdout), `stdout\n${describeResult(result)}`)
  return { result, output, report: readJson(repo.path(String(output["report"]))) }
}

describe("mirror check", () => {
  it("passes the clean mirror on a temporary server and keeps a screenshot per route next to the report", async () => {
    const text = await runCli(["mirror", "check", "--project", "demo"], { cwd: repo.dir, env })
    assert.strictEqual(text.code, 0, describeResult(text))
    assert.include(text.stdout, "[mirror:check] all routes returned 200 with no outbound or tracker violations")

    const { output, report, result } = await checkJson()
    assert.strictEqual(result.code, 0, describeResult(result))
    assert.strictEqual(output["status"], "passed")
    const routes = asArray(report["routes"], "routes").map((route) => asObject(route, "route"))
    assert.deepStrictEqual(routes.map((route) => [route["route"], route["http_status"], route["screenshot"]]), [
      ["/", 200, "index.png"],
      ["/about/", 200, "about.png"]
    ])
    const dir = join(repo.dir, String(output["report"]), "..")
    for (const name of ["index.png", "about.png"]) {
      assert.deepStrictEqual([...readFileSync(join(dir, name)).subarray(0, 4)], pngSignature, name)
    }
    assert.include(String(report["browser"]), "/usr/bin/chromium")
  })

  it("reports every planted violation: outbound request, 404 asset, tracker, absolute origin reference, failing route", async () => {
    const index = repo.path("packages", "demo", "public", "index.html")
    const clean = readFileSync(index, "utf8")
    writeFileSync(
      index,
      clean.replace(
        "</body>",
        `<script src="http://tracker.invalid/t.js"></script><img src="/missing.png"><script>gtag('config','G-1')</script>` +
          `<a href="${fixture.origin.baseUrl}/about/">abs</a></body>`
      )
    )
    writeMirrorConfig(repo.dir, "demo", fixtureConfig(fixture, { routes: ["/", "/about/", "/gone/"] }))
    try {
      const { output, report, result } = await checkJson()
      assert.strictEqual(result.code, 1, describeResult(result))
      assert.strictEqual(output["status"], "failed")
      const issues = asArray(report["issues"], "issues").map((issue) => asObject(issue, "issue"))
      const has = (kind: string, route: string, detail: string) =>
        assert.isTrue(
          issues.some((issue) => issue["kind"] === kind && issue["route"] === route && String(issue["detail"]).includes(detail)),
          `${kind} ${route} ${detail} in ${JSON.stringify(issues, null, 2)}`
        )
      has("outbound-request", "/", "tracker.invalid")
      has("http-error", "/", "/missing.png")
      has("tracker", "/", "gtag")
      has("absolute-reference", "/", `${fixture.origin.baseUrl}/about/`)
      has("route-status", "/gone/", "answered 404")
      assert.isFalse(issues.some((issue) => issue["route"] === "/about/"))
      assert.match(result.stderr, /error: mirror check found \d+ issue\(s\)/)
    } finally {
      writeFileSync(index, clean)
      writeMirrorConfig(repo.dir, "demo", fixtureConfig(fixture))
    }
  })

  it("checks a mirror already served with --port, and names the fix when no browser is found", async () => {
    const server = spawnCli(["mirror", "serve", "--project", "demo", "--port", "0"], { cwd: repo.dir })
    try {
      let stdout = ""
      server.child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
      const port = await waitFor("the server's port", () => /127\.0\.0\.1:(\d+)/.exec(stdout)?.[1])
      const { output, result } = await checkJson(["--port", port])
      assert.strictEqual(result.code, 0, describeResult(result))
      assert.strictEqual(readJson(repo.path(String(output["report"])))["base_url"], `http://127.0.0.1:${port}`)
    } finally {
      server.kill("SIGTERM")
      await server.exited
    }
    const missing = await runCli(["mirror", "check", "--project", "demo"], { cwd: repo.dir, env: { ...env, CHROMIUM_PATH: "/nonexistent/chromium" } })
    assert.strictEqual(missing.code, 1, describeResult(missing))
    assert.include(missing.stderr, "no Chromium found (looked for CHROMIUM_PATH=/nonexistent/chromium)")
    assert.include(missing.stderr, "apt-get install -y chromium")
  })

  it("a check that cannot load a route (nothing on --port) names the URL (exit 1) and leaves no check folder behind", async () => {
    const port = await new Promise<number>((resolvePort) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const address = probe.address()
        probe.close(() => resolvePort(typeof address === "object" && address !== null ? address.port : 0))
      })
    })
    const checks = () => readdirSync(repo.path(".runs", "check-task", "mirror", "demo")).filter((name) => name.startsWith("check-"))
    const before = checks()
    const result = await runCli(["mirror", "check", "--project", "demo", "--port", String(port), "--format", "json"], { cwd: repo.dir, env })
    assert.strictEqual(result.code, 1, describeResult(result))
    assert.strictEqual(result.stdout, "")
    assert.include(result.stderr, `error: the browser could not load http://127.0.0.1:${port}/: `)
    assert.include(result.stderr, "ERR_CONNECTION_REFUSED")
    assert.deepStrictEqual(checks(), before, "the failed check's folder (empty, no report) is removed")
  })

  it("explains every mirror subcommand with --help", async () => {
    for (const command of [[], ["fetch"], ["serve"], ["check"]]) {
      const help = await runCli(["mirror", ...command, "--help"], { cwd: repo.dir })
      assert.strictEqual(help.code, 0, describeResult(help))
      assert.include(help.stdout, command.length === 0 ? "Mirror a website" : "--project")
    }
    assert.isTrue(existsSync(repo.path("packages", "demo", "public", "index.html")))
  })
})
