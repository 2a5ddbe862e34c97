/**
 * The HUD on a real terminal (HUD-1, CLI-8): the built CLI in a pseudo-terminal (util-linux `script`),
 * the screen read back as text; and the one stderr line that says why it is not shown elsewhere.
 */
import { execFileSync } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import { afterEach, assert, beforeAll, describe, it } from "vitest"
import { commandStage, makeTempRepo, pipeline, readJson, requireBuiltCli, runCli, type TempRepo } from "../support/cli.js"
import { runInTerminal } from "../support/terminal.js"

const hasScript = (() => {
  try {
    execFileSync("script", ["--version"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
})()

const config = {
  pipelines: [
    pipeline("demo", [
      commandStage("build", "for i in 1 2 3; do echo building $i; sleep 0.3; done"),
      commandStage("test", "echo testing; sleep 0.3; echo all green")
    ]),
    pipeline("slow", [commandStage("wait", "echo waiting; exec sleep 37.4242")]),
    pipeline("gate", [
      commandStage("build", "echo built"),
      commandStage("deploy", "echo deployed", { approvalRequired: true })
    ])
  ]
}

/** Processes whose command line holds `marker` (the stage's sleep), other than ours. */
const processesWith = (marker: string) =>
  readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(marker)
      } catch {
        return false
      }
    })

let repo: TempRepo | undefined
afterEach(() => repo?.cleanup())
beforeAll(requireBuiltCli)

describe.skipIf(!hasScript)("HUD on a terminal (script from util-linux)", () => {
  it("start --ui: the header, a stage row turning succeeded, then the summary after the HUD, exit 0", async () => {
    repo = makeTempRepo(config)
    const term = runInTerminal(["start", "demo", "--ui", "--task", "hud"], { cwd: repo.dir })
    await term.waitFor(/\[01\] RUNNING +Stage build/)
    assert.strictEqual(await term.exit, 0)
    const screen = term.screen()
    const runId = /Run started: (\S+)/.exec(screen)?.[1] ?? "missing"
    assert.match(screen, new RegExp(`HUD \\| TASK hud \\| RUN ${runId} \\| STATUS \\[IN_PROGRESS\\] \\| ELAPSED 00:0\\d`))
    assert.match(screen, /\[01\] SUCCEEDED Stage build \d+\.\ds - building 1/)
    assert.match(screen, /\[02\] SUCCEEDED Stage test \d+\.\ds - testing/)
    assert.match(screen, /\[build\] building 3/)
    assert.match(screen, /\[test\] all green/)
    // The last frame, then the plain summary below it.
    const lastFrame = screen.lastIndexOf("STATUS [SUCCEEDED]")
    assert.isAbove(lastFrame, 0)
    assert.isAbove(screen.indexOf(`Run started: ${runId}`), lastFrame)
    assert.include(screen.slice(lastFrame), "read-only HUD | manifest: ")
    assert.notInclude(screen, "HUD off")
    const manifest = readJson(repo.path(".runs", "hud", "cli", runId, "manifest.json"))
    assert.strictEqual(manifest["status"], "succeeded")
  })

  it("Ctrl-C under the HUD cancels the run as without it: exit 130, the stage's process gone, the run cancelled", async () => {
    repo = makeTempRepo(config)
    const term = runInTerminal(["start", "slow", "--ui", "--task", "hud"], { cwd: repo.dir })
    await term.waitFor(/\[wait\] waiting/)
    assert.isNotEmpty(processesWith("37.4242"))
    term.type("\u0003")
    assert.strictEqual(await term.exit, 130)
    assert.deepStrictEqual(processesWith("37.4242"), [])
    const runs = readdirSync(repo.path(".runs", "hud", "cli"))
    assert.strictEqual(runs.length, 1)
    const manifest = readJson(repo.path(".runs", "hud", "cli", runs[0] ?? "", "manifest.json"))
    assert.strictEqual(manifest["status"], "cancelled")
  })

  it("an approval under the HUD: the frame shows it waiting, the question below it, the answer typed, the HUD back", async () => {
    repo = makeTempRepo(config)
    const term = runInTerminal(["start", "gate", "--ui", "--task", "hud", "--approval-policy", "on-request"], { cwd: repo.dir })
    await term.waitFor(/Approve \(key gate:deploy\)\? \[y\/N\] $/)
    const asked = term.screen()
    assert.match(asked, /APPROVAL waiting: Stage deploy \(deploy\) wants to run: echo deployed\n/)
    assert.match(asked, /\[01\] SUCCEEDED Stage build/)
    assert.isBelow(asked.lastIndexOf("APPROVAL waiting"), asked.indexOf("needs approval to run"))
    term.type("y\n")
    assert.strictEqual(await term.exit, 0)
    const after = term.screen().slice(asked.length)
    assert.match(after, /\[02\] SUCCEEDED Stage deploy [\d.]+s - deployed/)
    assert.notInclude(after, "APPROVAL waiting")
  })

  it("TERM=dumb: no HUD, one line says why, the run goes on", async () => {
    repo = makeTempRepo(config)
    const term = runInTerminal(["start", "demo", "--ui", "--task", "hud"], { cwd: repo.dir, env: { TERM: "dumb" } })
    assert.strictEqual(await term.exit, 0)
    assert.include(term.screen(), "HUD off: TERM=dumb")
    assert.notInclude(term.screen(), "HUD | TASK")
  })
})

describe("HUD refused off a terminal (CLI-8)", () => {
  it("piped output: one stderr line says why; stdout has only the result", async () => {
    repo = makeTempRepo(config)
    const text = await runCli(["start", "demo", "--ui", "--task", "hud"], { cwd: repo.dir, env: { CI: undefined } })
    assert.strictEqual(text.code, 0)
    assert.strictEqual(text.stderr.split("\n").filter((line) => line.startsWith("HUD off:")).length, 1)
    assert.include(text.stderr, "HUD off: not a terminal")
    assert.notInclude(text.stdout, "HUD")
    const json = await runCli(["start", "demo", "--interactive", "--format", "json", "--task", "hud"], { cwd: repo.dir })
    assert.strictEqual(json.code, 0)
    assert.include(json.stderr, "HUD off: json format requested")
    assert.strictEqual(JSON.parse(json.stdout).status, "succeeded")
    const off = await runCli(["start", "demo", "--ui", "--no-interactive", "--task", "hud"], { cwd: repo.dir })
    assert.notInclude(off.stderr, "HUD off")
  })
})
