/** TM-4..6's build, test and review results from a manifest to the exact value (mutation testing, issue 16). */
import { Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { CliManifest, CommandEntry } from "../../src/domain/Manifest.js"
import { makeRunLayout } from "../../src/domain/RunLayout.js"
import { buildResultOf, reviewResultOf, summarizeRun, testResultOf } from "../../src/domain/RunSummary.js"
import { queuedManifest } from "../support/manifests.js"

const base = (): CliManifest =>
  Effect.runSync(Effect.map(Path.Path, (path) =>
    queuedManifest(makeRunLayout(path, { repoRoot: "/repo", runsRoot: "/repo/.runs", outRoot: "/repo/out" }, "t", "r"), "t", "r", "2026-01-01T00:00:00.000Z")
  ).pipe(Effect.provide(Path.layer)))

const withStages = (manifest: CliManifest, statuses: ReadonlyArray<CommandEntry["status"]>, summaries: ReadonlyArray<string | null> = []) => {
  const [first] = manifest.commands
  if (first === undefined) throw new Error("the fixture has a stage")
  return {
    ...manifest,
    commands: statuses.map((status, i) => ({ ...first, index: i + 1, id: `s${i}`, title: `S${i}`, status, summary: summaries[i] ?? null }))
  }
}

const guard = (failed: number) => ({
  present: true,
  recommendation: null,
  summary: "guard summary",
  computed_at: "now",
  counts: { total: 1, succeeded: 1 - failed, failed, skipped: 0, other: 0 }
})

describe("buildResultOf, testResultOf and reviewResultOf, exactly", () => {
  it("a succeeded run: artifacts, notes per stage, a stages report, approval with the notes as feedback", () => {
    const manifest = { ...withStages(base(), ["succeeded", "skipped", "succeeded"], ["built", null, null]), status: "succeeded" as const }
    const build = buildResultOf(manifest, "sub", "cloud")
    assert.deepStrictEqual(build, {
      subtaskId: "sub",
      artifacts: [
        { path: `${manifest.artifact_root}/manifest.json`, description: "CLI run manifest" },
        { path: manifest.log_path, description: "Runner log (ndjson)" }
      ],
      mode: "cloud",
      runId: "r",
      success: true,
      notes: "S0: built\nS1: skipped\nS2: succeeded"
    })
    assert.deepStrictEqual(testResultOf(manifest, build), {
      subtaskId: "sub",
      success: true,
      reports: [{ name: "stages", status: "passed", details: "3 stages: 2 succeeded, 1 skipped, 0 failed." }],
      runId: "r"
    })
    assert.deepStrictEqual(reviewResultOf(manifest, build), {
      summary: `Diagnostics pipeline succeeded.\nManifest: ${manifest.artifact_root}/manifest.json\nRunner log: ${manifest.log_path}`,
      decision: { approved: true, feedback: "S0: built\nS1: skipped\nS2: succeeded" }
    })
  })

  it("a failed run with one stage and guard stages: singular stage, guardrails reported, no approval", () => {
    const manifest = { ...withStages(base(), ["failed"]), status: "failed" as const, guardrail_status: guard(1) }
    const build = buildResultOf(manifest, "sub", "mcp")
    assert.isFalse(build.success)
    assert.deepStrictEqual(testResultOf(manifest, build).reports, [
      { name: "stages", status: "failed", details: "1 stage: 0 succeeded, 0 skipped, 1 failed." },
      { name: "guardrails", status: "failed", details: "guard summary" }
    ])
    const passed = { ...manifest, status: "succeeded" as const, guardrail_status: guard(0) }
    assert.deepStrictEqual(testResultOf(passed, build).reports[1], { name: "guardrails", status: "passed", details: "guard summary" })
    const absent = { ...manifest, guardrail_status: { ...guard(0), present: false } }
    assert.strictEqual(testResultOf(absent, build).reports.length, 1)
    assert.deepStrictEqual(reviewResultOf(manifest, build).decision, { approved: false, feedback: "S0: failed" })
    assert.isTrue(reviewResultOf(manifest, build).summary.startsWith("Diagnostics pipeline failed — inspect manifest for details.\n"))
  })

  it("no stages: no notes, no feedback", () => {
    const manifest = { ...withStages(base(), []), status: "succeeded" as const }
    const build = buildResultOf(manifest, "sub", "mcp")
    assert.isFalse("notes" in build)
    assert.deepStrictEqual(reviewResultOf(manifest, build).decision, { approved: true })
    assert.strictEqual(testResultOf(manifest, build).reports[0]?.details, "0 stages: 0 succeeded, 0 skipped, 0 failed.")
  })
})

describe("summarizeRun, exactly", () => {
  const plan = { items: [], targetId: "p:s0" }

  it("a failed build skips tests and review", () => {
    const manifest = { ...withStages(base(), ["failed"]), status: "failed" as const }
    const summary = summarizeRun(manifest, plan, "ts")
    assert.strictEqual(summary.mode, "mcp")
    assert.strictEqual(summary.build.subtaskId, "p:s0")
    assert.deepStrictEqual(summary.test, {
      subtaskId: "p:s0",
      success: false,
      reports: [{ name: "tests", status: "failed", details: "Skipped because the build stage failed." }],
      runId: "r"
    })
    assert.deepStrictEqual(summary.review, {
      summary: "Review skipped: build stage failed.",
      decision: { approved: false, feedback: "Build stage failed; review skipped." }
    })
    assert.deepStrictEqual([summary.taskId, summary.runId, summary.timestamp, summary.plan], ["t", "r", "ts", plan])
  })

  it("a succeeded run goes to the reviewer even when a guard stage failed (D-18); without a target the pipeline names the subtask", () => {
    const manifest = { ...withStages(base(), ["succeeded"]), status: "succeeded" as const, guardrail_status: guard(1) }
    const summary = summarizeRun(manifest, { items: [], targetId: null }, "ts", "cloud")
    assert.strictEqual(summary.build.subtaskId, "trivial")
    assert.strictEqual(summary.mode, "cloud")
    assert.isTrue(summary.test.success)
    assert.deepStrictEqual(summary.review.decision.approved, true)
  })
})
