/**
 * The design toolkit's command line without a browser run: a bad design.config.yaml (every bad
 * field on one line, exit 2, nothing written), a step without a run (exit 2), the default pipeline
 * chosen by DES-2 (CFG-9), `design setup`, and the help of every step.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { asObject, describeResult, makeTempRepo, parseJson, requireBuiltCli, runCli, type TempRepo } from "../support/cli.js"
import { fixtureDesignConfig } from "../support/designFixture.js"

let repo: TempRepo

beforeAll(() => {
  requireBuiltCli()
  repo = makeTempRepo()
})

afterAll(() => repo.cleanup())

const planned = async (env: Record<string, string> = {}) => {
  const result = await runCli(["plan", "--format", "json"], { cwd: repo.dir, env })
  assert.strictEqual(result.code, 0, describeResult(result))
  return asObject(asObject(parseJson(result.stdout), "plan")["pipeline"], "pipeline")["id"]
}

describe("design config", () => {
  it("reports every bad field of design.config.yaml on one line, exit 2, nothing written", async () => {
    writeFileSync(repo.path("design.config.yaml"), [
      "pipelines:",
      "  hi_fi_design_toolkit:",
      "    enabled: true",
      "    sources:",
      "      - url: not a url",
      "        slug: ../up",
      "        breakpoints: [watch]",
      "    diff: { maxPercent: -1 }",
      ""
    ].join("\n"))
    for (const step of ["config", "extract"]) {
      const result = await runCli(["design", step, "--run", "r1"], { cwd: repo.dir })
      assert.strictEqual(result.code, 2, describeResult(result))
      const lines = result.stderr.trim().split("\n").filter((line) => line.startsWith("error:"))
      assert.strictEqual(lines.length, 1, result.stderr)
      for (const field of ["sources.0.url", "sources.0.slug", "sources.0.breakpoints.0", "diff.maxPercent"]) {
        assert.include(lines[0], `pipelines.hi_fi_design_toolkit.${field}:`, result.stderr)
      }
      assert.strictEqual(result.stdout, "")
    }
    assert.isFalse(existsSync(repo.path(".runs")))
  })

  it("without design.config.yaml: one line (no escaped newlines) whose example config is valid as it stands", async () => {
    const bare = makeTempRepo()
    try {
      const result = await runCli(["design", "config"], { cwd: bare.dir })
      assert.strictEqual(result.code, 2, describeResult(result))
      assert.notInclude(result.stderr, "\\n")
      const line = result.stderr.trim()
      assert.strictEqual(line.split("\n").length, 1, describeResult(result))
      const example = /example, valid as it is: (.+)$/.exec(line)?.[1]
      assert.isDefined(example, line)
      writeFileSync(bare.path("design.config.yaml"), `${example ?? ""}\n`)
      const valid = await runCli(["design", "config"], { cwd: bare.dir })
      assert.strictEqual(valid.code, 0, describeResult(valid))
    } finally {
      bare.cleanup()
    }
  })

  it("refuses a step that does not know its run (exit 2) and says how to give one", async () => {
    writeFileSync(repo.path("design.config.yaml"), fixtureDesignConfig("http://127.0.0.1:9"))
    const result = await runCli(["design", "tokens"], { cwd: repo.dir })
    assert.strictEqual(result.code, 2, describeResult(result))
    assert.include(result.stderr, "pass --run <run-id>")
    const missing = await runCli(["design", "tokens", "--run", "r1", "--task", "demo"], { cwd: repo.dir })
    assert.strictEqual(missing.code, 1, describeResult(missing))
    assert.include(missing.stderr, "census.json is missing; run `codex-orchestrator design extract` for this run first")
  })
})

describe("permit (DES-1)", () => {
  it("warns about an origin compliance/permit.json does not list, and goes on", async () => {
    writeFileSync(repo.path("design.config.yaml"), fixtureDesignConfig("http://127.0.0.1:9"))
    const quiet = await runCli(["design", "config"], { cwd: repo.dir })
    assert.strictEqual(quiet.code, 0, describeResult(quiet))
    assert.include(quiet.stderr, "no compliance/permit.json; extraction continues (DES-1)")
    mkdirSync(repo.path("compliance"), { recursive: true })
    writeFileSync(repo.path("compliance", "permit.json"), JSON.stringify({ allowedSources: [{ origin: "https://other.example" }] }))
    const result = await runCli(["design", "config"], { cwd: repo.dir })
    assert.strictEqual(result.code, 0, describeResult(result))
    assert.include(result.stderr, "http://127.0.0.1:9 is not listed in compliance/permit.json (allowedSources); extraction continues")
    assert.include(result.stdout, "fixture: http://127.0.0.1:9/ at desktop 1280x800, mobile 390x844 (permit: not-listed")
    rmSync(repo.path("compliance"), { recursive: true })
  })
})

describe("default pipeline (DES-2, CFG-9)", () => {
  it("runs the toolkit when it is enabled with a source, unless the variables say otherwise", async () => {
    writeFileSync(repo.path("design.config.yaml"), fixtureDesignConfig("http://127.0.0.1:9"))
    assert.strictEqual(await planned(), "hi-fi-design-toolkit")
    assert.strictEqual(await planned({ DESIGN_TOOLKIT: "0" }), "diagnostics")
    assert.strictEqual(await planned({ DESIGN_PIPELINE: "enabled" }), "design-reference")
    assert.strictEqual(await planned({ DESIGN_CONFIG_PATH: "elsewhere.yaml" }), "diagnostics")
    writeFileSync(repo.path("design.config.yaml"), "metadata:\n  design:\n    enabled: true\npipelines:\n  hi_fi_design_toolkit:\n    enabled: false\n")
    assert.strictEqual(await planned(), "design-reference")
  })
})

describe("design setup and help", () => {
  it("finds Chromium and FFmpeg (.ci/run installs both)", async () => {
    const result = await runCli(["design", "setup", "--format", "json"], { cwd: repo.dir })
    assert.strictEqual(result.code, 0, describeResult(result))
    const output = asObject(parseJson(result.stdout), "setup")
    assert.strictEqual(output["ready"], true)
    assert.include(result.stdout, "/usr/bin/chromium")
    assert.include(result.stdout, "ffmpeg version")
    const missing = await runCli(["design", "setup"], { cwd: repo.dir, env: { CHROMIUM_PATH: "/nowhere/chromium", PATH: "/usr/local/bin:/bin" } })
    assert.strictEqual(missing.code, 1, describeResult(missing))
    assert.include(missing.stdout, "MISSING chromium")
    assert.include(missing.stdout, "fix: apt-get install -y chromium")
    // A browser that is there but does not run is not ready either: setup runs it (--version).
    const broken = await runCli(["design", "setup"], { cwd: repo.dir, env: { CHROMIUM_PATH: "/bin/false" } })
    assert.strictEqual(broken.code, 1, describeResult(broken))
    assert.include(broken.stdout, "MISSING chromium: /bin/false does not run (--version exited 1)")
  })

  it("explains every step in --help", async () => {
    const help = await runCli(["design", "--help"], { cwd: repo.dir })
    assert.strictEqual(help.code, 0, describeResult(help))
    const steps = ["setup", "config", "extract", "tokens", "styleguide", "reference", "motion", "diff", "publish", "write"]
    const helps = await Promise.all(steps.map((step) => runCli(["design", step, "--help"], { cwd: repo.dir })))
    steps.forEach((step, i) => {
      const own = helps[i]
      assert(own !== undefined)
      assert.include(help.stdout, step)
      assert.strictEqual(own.code, 0, describeResult(own))
      assert.match(own.stdout, /design-toolkit|Chromium|FFmpeg|design\.config\.yaml/, step)
    })
  })
})
