/**
 * Retention at `design write` on a real folder (DES-1 `retention`): earlier runs of the task older
 * than `retention.days` or beyond the newest `retention.maxRuns` lose their design artifacts and
 * out record; `autoPurge: false` only reports; nothing outside a run's own
 * `artifacts/design-toolkit/` is touched: not a file beside it, not another task, not the folder a
 * symlinked artifacts folder points to.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { asArray, asObject, describeResult, readJson, requireBuiltCli, runCli, makeTempRepo, type TempRepo } from "../support/cli.js"
import { fixtureDesignConfig } from "../support/designFixture.js"

let repo: TempRepo
let outside: string
const day = 24 * 60 * 60 * 1000
const start = Date.now()
/** A run id (ID-2) of a run started `daysAgo` days before the test. */
const runIdOf = (daysAgo: number, hex: string) => `${new Date(start - daysAgo * day).toISOString().replace(/[:.]/g, "-")}-${hex}`

const current = runIdOf(0, "00000000")
const expired = runIdOf(45, "0000000e")
const recent = [runIdOf(1, "00000001"), runIdOf(2, "00000002"), runIdOf(3, "00000003")]
const linked = runIdOf(60, "0000000f")
const linkedRun = runIdOf(70, "0000000d")
const otherTask = runIdOf(90, "000000aa")

const artifacts = (task: string, run: string) => repo.path(".runs", task, run, "artifacts", "design-toolkit")
const plantRun = (task: string, run: string) => {
  mkdirSync(join(artifacts(task, run), "context", "fixture", "desktop"), { recursive: true })
  writeFileSync(join(artifacts(task, run), "context", "fixture", "desktop", "screenshot.png"), "png")
  mkdirSync(repo.path("out", task, "design", "runs"), { recursive: true })
  writeFileSync(repo.path("out", task, "design", "runs", `${run}.json`), "{}")
}
const config = (retention: string) => `${fixtureDesignConfig("http://127.0.0.1:9")}    retention: ${retention}\n`
const write = () => runCli(["design", "write", "--task", "demo", "--run", current], { cwd: repo.dir })

beforeAll(() => {
  requireBuiltCli()
  repo = makeTempRepo()
  outside = mkdtempSync(join(tmpdir(), "design-retention-outside-"))
  for (const run of [expired, ...recent]) plantRun("demo", run)
  plantRun("other", otherTask)
  writeFileSync(repo.path(".runs", "demo", expired, "notes.txt"), "kept")
  mkdirSync(repo.path(".runs", "demo", "cli", expired), { recursive: true })
  writeFileSync(repo.path(".runs", "demo", "cli", expired, "manifest.json"), "{}")
  mkdirSync(repo.path(".runs", "demo", linked, "artifacts"), { recursive: true })
  writeFileSync(join(outside, "keep.txt"), "not ours")
  symlinkSync(outside, repo.path(".runs", "demo", linked, "artifacts", "design-toolkit"))
  // A whole run folder that is a symlink: its artifacts folder looks right from inside .runs.
  mkdirSync(join(outside, "run", "artifacts", "design-toolkit"), { recursive: true })
  writeFileSync(join(outside, "run", "artifacts", "design-toolkit", "keep.txt"), "not ours either")
  symlinkSync(join(outside, "run"), repo.path(".runs", "demo", linkedRun))
  // Every task folder that saw a finished run holds files beside the run folders (metrics.json):
  // asking for <file>/artifacts/design-toolkit failed with ENOTDIR and the write step with it.
  writeFileSync(repo.path(".runs", "demo", "metrics.json"), "{}\n")
})

afterAll(() => {
  repo.cleanup()
  rmSync(outside, { recursive: true, force: true })
})

describe("design write: retention", () => {
  it("only reports what it would delete when autoPurge is false", async () => {
    writeFileSync(repo.path("design.config.yaml"), config("{ days: 30, maxRuns: 3, autoPurge: false }"))
    const result = await write()
    assert.strictEqual(result.code, 0, describeResult(result))
    assert.include(result.stderr, `[design:retention] would delete (retention.autoPurge is false) .runs/demo/${expired}/artifacts/design-toolkit`)
    for (const run of [expired, ...recent]) assert.isTrue(existsSync(artifacts("demo", run)), run)
  })

  it("deletes expired runs and runs beyond maxRuns, reports them, and touches nothing else", async () => {
    writeFileSync(repo.path("design.config.yaml"), config("{ days: 30, maxRuns: 3 }"))
    const result = await write()
    assert.strictEqual(result.code, 0, describeResult(result))
    assert.include(result.stderr, `[design:retention] deleted .runs/demo/${expired}/artifacts/design-toolkit (expired: 45.0 days old, retention.days is 30)`)
    assert.include(result.stderr, `[design:retention] deleted .runs/demo/${recent[2]}/artifacts/design-toolkit (beyond the newest 3 runs (retention.maxRuns))`)
    assert.match(result.stderr, new RegExp(`\\[design:retention\\] not touching \\.runs/demo/${linked}/artifacts/design-toolkit: it resolves to ${outside}`))
    assert.match(result.stderr, new RegExp(`\\[design:retention\\] not touching \\.runs/demo/${linkedRun}/artifacts/design-toolkit: it resolves to ${outside}/run/`))
    assert.include(result.stdout, `retention (30 days, 3 runs): deleted the design artifacts of ${recent[2]} (over-max-runs), ${expired} (expired); 2 refused`)

    assert.isFalse(existsSync(repo.path(".runs", "demo", expired, "artifacts")))
    assert.isTrue(existsSync(repo.path(".runs", "demo", expired, "notes.txt")), "a file beside the artifacts stays, and so does its run folder")
    assert.isTrue(existsSync(repo.path(".runs", "demo", "cli", expired, "manifest.json")), "the run's manifest stays")
    assert.isFalse(existsSync(repo.path(".runs", "demo", recent[2] ?? "")), "an emptied run folder goes")
    assert.isFalse(existsSync(repo.path("out", "demo", "design", "runs", `${expired}.json`)))
    for (const run of recent.slice(0, 2)) {
      assert.isTrue(existsSync(artifacts("demo", run)), run)
      assert.isTrue(existsSync(repo.path("out", "demo", "design", "runs", `${run}.json`)), run)
    }
    assert.isTrue(existsSync(join(outside, "keep.txt")), "a symlinked artifacts folder is never followed")
    assert.isTrue(existsSync(join(outside, "run", "artifacts", "design-toolkit", "keep.txt")), "nor a symlinked run folder")
    assert.isTrue(existsSync(artifacts("other", otherTask)), "another task's runs are not this task's")

    const retention = asObject(asObject(readJson(repo.path("out", "demo", "design", "runs", `${current}.json`))["design_toolkit_summary"], "summary")["retention"], "retention")
    assert.deepInclude(retention, { days: 30, max_runs: 3, auto_purge: true })
    const purged = asArray(retention["purged"], "purged").map((entry) => asObject(entry, "entry"))
    assert.deepStrictEqual(purged.map((p) => [p["run_id"], p["reason"], p["deleted"]]), [[recent[2], "over-max-runs", true], [expired, "expired", true]])
    assert.strictEqual(asArray(retention["refused"], "refused").length, 2)
  })
})
