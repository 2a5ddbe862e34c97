/**
 * `design publish` on a real folder (CFG-6's design-toolkit-publish, DES-3's publish/logs): off by
 * default; on, each source's tokens land in the repository under publish.tokensDir and the publish
 * commands run with their output logged; a failing command fails the step and names its log; a
 * tokensDir that leaves the repository is refused by the config check (exit 2, with the other bad
 * fields) or, through a symlink, at publish time.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { asArray, asObject, describeResult, makeTempRepo, readJson, requireBuiltCli, runCli, type TempRepo } from "../support/cli.js"
import { fixtureDesignConfig } from "../support/designFixture.js"

let repo: TempRepo
let outside: string
const run = "r1"
const root = () => repo.path(".runs", "demo", run, "artifacts", "design-toolkit")
const tokens = {
  version: 1, slug: "fixture", url: "http://127.0.0.1:9/", title: "Fixture Studio", breakpoints: ["desktop"],
  colors: [{ value: "#1a2b3c", count: 3 }], fontFamilies: [], fontSizes: [], fontWeights: [], spacing: [], radii: []
}
const config = (publish: string, extra = "") => `${fixtureDesignConfig("http://127.0.0.1:9")}    publish: ${publish}\n${extra}`
const publish = () => runCli(["design", "publish", "--task", "demo", "--run", run], { cwd: repo.dir })

beforeAll(() => {
  requireBuiltCli()
  repo = makeTempRepo()
  outside = mkdtempSync(join(tmpdir(), "design-publish-outside-"))
  mkdirSync(join(root(), "tokens", "fixture"), { recursive: true })
  writeFileSync(join(root(), "tokens", "fixture", "tokens.json"), `${JSON.stringify(tokens, null, 2)}\n`)
  writeFileSync(join(root(), "tokens", "fixture", "tokens.css"), ":root {\n  --color-1: #1a2b3c;\n}\n")
})

afterAll(() => {
  repo.cleanup()
  rmSync(outside, { recursive: true, force: true })
})

describe("design publish", () => {
  it("publishes nothing while publish is off (the default)", async () => {
    writeFileSync(repo.path("design.config.yaml"), fixtureDesignConfig("http://127.0.0.1:9"))
    const result = await publish()
    assert.strictEqual(result.code, 0, describeResult(result))
    assert.include(result.stdout, "publish is off")
    assert.isFalse(existsSync(repo.path("packages")))
  })

  it("copies the tokens into tokensDir and runs the commands, output logged per source", async () => {
    writeFileSync(repo.path("design.config.yaml"), config(
      `{ enabled: true, tokensDir: design-system/tokens, commands: ['wc -c < "$DESIGN_TOOLKIT_TOKENS"', 'echo "published $DESIGN_TOOLKIT_SLUG of run $DESIGN_TOOLKIT_RUN_ID"'] }`
    ))
    const result = await publish()
    assert.strictEqual(result.code, 0, describeResult(result))
    assert.include(result.stdout, "fixture: design-system/tokens/fixture.json, design-system/tokens/fixture.css; 2 commands ok")
    assert.deepStrictEqual(readJson(repo.path("design-system", "tokens", "fixture.json")), tokens)
    assert.include(readFileSync(repo.path("design-system", "tokens", "fixture.css"), "utf8"), "--color-1: #1a2b3c;")
    const logs = join(root(), "publish", "logs", "fixture")
    assert.strictEqual(readFileSync(join(logs, "01-command.log"), "utf8").split("\n")[1]?.trim(), String(readFileSync(join(root(), "tokens", "fixture", "tokens.json")).length))
    assert.include(readFileSync(join(logs, "02-command.log"), "utf8"), "published fixture of run r1")
    const record = readJson(join(logs, "publish.json"))
    assert.deepStrictEqual(asArray(record["commands"], "commands").map((c) => asObject(c, "command")["exit_code"]), [0, 0])

    const written = await runCli(["design", "write", "--task", "demo", "--run", run], { cwd: repo.dir })
    assert.strictEqual(written.code, 0, describeResult(written))
    const artifacts = asArray(readJson(repo.path("out", "demo", "design", "runs", `${run}.json`))["design_toolkit_artifacts"], "artifacts")
      .map((a) => asObject(a, "artifact"))
      .filter((a) => a["kind"] === "publish")
    assert.deepStrictEqual(artifacts.map((a) => a["type"]), ["publish-log", "publish-log", "publish-record"])
  })

  it("fails when a command fails, naming the command and its log; stops at that command", async () => {
    writeFileSync(repo.path("design.config.yaml"), config(`{ enabled: true, tokensDir: design-system/tokens, commands: ['echo broken >&2; exit 3', 'echo never'] }`))
    const result = await publish()
    assert.strictEqual(result.code, 1, describeResult(result))
    assert.include(result.stderr, "design publish: fixture: `echo broken >&2; exit 3` exited with 3; see .runs/demo/r1/artifacts/design-toolkit/publish/logs/fixture/01-command.log")
    assert.include(readFileSync(join(root(), "publish", "logs", "fixture", "01-command.log"), "utf8"), "broken")
    assert.deepStrictEqual(asArray(readJson(join(root(), "publish", "logs", "fixture", "publish.json"))["commands"], "commands").length, 1)
  })

  it("refuses a tokensDir outside the repository: in the config (exit 2, every bad field), or through a symlink", async () => {
    writeFileSync(repo.path("design.config.yaml"), config("{ enabled: true, tokensDir: ../elsewhere }", "    selfCorrection: { enabled: true, maxIterations: 9 }\n"))
    const bad = await publish()
    assert.strictEqual(bad.code, 2, describeResult(bad))
    assert.include(bad.stderr, "pipelines.hi_fi_design_toolkit.publish.tokensDir: must stay inside the repository (no `..` segments)")
    assert.include(bad.stderr, "pipelines.hi_fi_design_toolkit.selfCorrection.maxIterations: must be 1 or 2")
    writeFileSync(repo.path("design.config.yaml"), config("{ enabled: true, tokensDir: /tmp/tokens }"))
    const absolute = await publish()
    assert.strictEqual(absolute.code, 2, describeResult(absolute))
    assert.include(absolute.stderr, "publish.tokensDir: must be relative to the repository root, not absolute")

    symlinkSync(outside, repo.path("linked"))
    writeFileSync(repo.path("design.config.yaml"), config("{ enabled: true, tokensDir: linked/tokens }"))
    const linked = await publish()
    assert.strictEqual(linked.code, 2, describeResult(linked))
    assert.include(linked.stderr, "publish.tokensDir resolves to")
    assert.isFalse(existsSync(join(outside, "tokens")), "nothing is written outside the repository, not even a folder")
  })
})
