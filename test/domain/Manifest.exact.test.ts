/**
 * The manifest's end-of-run transitions to the exact value (RUN-3, RUN-9, RUN-12, D-8, issue 16
 * item 21; mutation testing, issue 16): finalized, cancelled, interrupted stages settled, and a run
 * failed by a file error.
 */
import { assert, describe, it } from "@effect/vitest"
import {
  cancelledManifest,
  failedOnFileError,
  finalizedManifest,
  settleInterrupted
} from "../../src/domain/Manifest.js"
import { commandEntry, runManifest } from "../support/manifests.js"

// The stages started at 2026-12-07T00:00:00.000Z (runManifest's default).
const now = "2026-12-07T00:05:00.000Z"

const entry = commandEntry
const manifest = runManifest

const failedAdvice = "Guardrail command failed; re-run scripts/run-mcp-diagnostics.sh --no-watch to gather failure artifacts."
const missingAdvice = "Guardrail command missing; run scripts/run-mcp-diagnostics.sh --no-watch to capture reviewer diagnostics."

describe("finalizedManifest (RUN-3, MAN-5, RUN-12)", () => {
  it("all stages succeeded: succeeded, no detail, the guardrail line replacing the old one", () => {
    const done = finalizedManifest(
      manifest([entry(1, "build", "make", "succeeded"), entry(2, "guard", "npx spec-guard", "succeeded")], {
        summary: "built\nGuardrails: spec-guard command not found.",
        status_detail: "stale detail"
      }),
      now
    )
    assert.deepStrictEqual(
      [done.status, done.status_detail, done.completed_at, done.heartbeat_at, done.summary],
      ["succeeded", null, now, now, "built\nGuardrails: spec-guard succeeded (1 passed)."]
    )
    assert.deepStrictEqual(done.guardrail_status, {
      present: true,
      recommendation: null,
      summary: "Guardrails: spec-guard succeeded (1 passed).",
      computed_at: now,
      counts: { total: 1, succeeded: 1, failed: 0, skipped: 0, other: 0 }
    })
  })

  it("a failed stage: failed with pipeline-failed unless a stage said more; the advice appended", () => {
    const failing = [entry(1, "guard", "npx spec-guard", "failed")]
    const done = finalizedManifest(manifest(failing), now)
    assert.deepStrictEqual(
      [done.status, done.status_detail, done.summary],
      ["failed", "pipeline-failed", `Guardrails: spec-guard failed (1/1 failed).\n${failedAdvice}`]
    )
    assert.strictEqual(finalizedManifest(manifest(failing, { status_detail: "stage:guard:failed" }), now).status_detail, "stage:guard:failed")
  })

  it("no guard stage where one is required: the missing advice follows the line", () => {
    const done = finalizedManifest(manifest([entry(1, "build", "make", "succeeded")]), now)
    assert.strictEqual(done.summary, `Guardrails: spec-guard command not found.\n${missingAdvice}`)
    const optional = finalizedManifest(manifest([entry(1, "build", "make", "succeeded")], { guardrails_required: false }), now)
    assert.strictEqual(optional.summary, "Guardrails: spec-guard command not found.")
  })
})

describe("cancelledManifest (D-8)", () => {
  it("the running stage is cancelled and named; the others stay; the summary says so", () => {
    const cancelled = cancelledManifest(
      manifest([entry(1, "a", "true", "succeeded"), entry(2, "b", "sleep 9", "running"), entry(3, "c", "true", "pending")], {
        summary: "started"
      }),
      now
    )
    assert.deepStrictEqual(
      [cancelled.status, cancelled.status_detail, cancelled.completed_at, cancelled.summary],
      ["cancelled", "stage:b:cancelled", now, "started\nRun cancelled."]
    )
    assert.deepStrictEqual(cancelled.commands.map((c) => [c.status, c.completed_at]), [
      ["succeeded", null],
      ["cancelled", now],
      ["pending", null]
    ])
  })

  it("between stages it is plain cancelled; a finished run is returned as it is", () => {
    const between = cancelledManifest(manifest([entry(1, "a", "true", "pending")]), now)
    assert.deepStrictEqual([between.status_detail, between.summary], ["cancelled", "Run cancelled."])
    for (const status of ["succeeded", "failed", "cancelled"] as const) {
      const finished = manifest([entry(1, "a", "true", "running")], { status })
      assert.strictEqual(cancelledManifest(finished, now), finished)
    }
  })
})

describe("settleInterrupted (RUN-9)", () => {
  it("running stages other than the target fail as interrupted; the first one is the run's detail", () => {
    const settled = settleInterrupted(
      manifest([
        entry(1, "a", "true", "running"),
        entry(2, "target", "true", "running"),
        entry(3, "c", "true", "running"),
        entry(4, "d", "true", "succeeded")
      ]),
      "target",
      now
    )
    assert.strictEqual(settled.status_detail, "stage:a:interrupted")
    const interrupted = "Interrupted: the orchestrator stopped while this stage ran; not re-run, this resume targeted target."
    assert.deepStrictEqual(settled.commands.map((c) => [c.id, c.status, c.completed_at, c.summary]), [
      ["a", "failed", now, interrupted],
      ["target", "running", null, null],
      ["c", "failed", now, interrupted],
      ["d", "succeeded", null, null]
    ])
  })

  it("nothing but the target running: the manifest as it is", () => {
    const only = manifest([entry(1, "target", "true", "running"), entry(2, "b", "true", "pending")])
    assert.strictEqual(settleInterrupted(only, "target", now), only)
  })
})

describe("failedOnFileError (issue 16 item 21)", () => {
  it("the running stage and the run fail with the reason", () => {
    const reason = "could not write runner.ndjson: disk full"
    const failed = failedOnFileError(
      manifest([entry(1, "a", "true", "succeeded"), entry(2, "b", "true", "running")], { summary: "started" }),
      reason,
      now
    )
    assert.deepStrictEqual(
      [failed.status, failed.status_detail, failed.completed_at, failed.heartbeat_at, failed.summary],
      ["failed", "stage:b:error", now, now, `started\n${reason}`]
    )
    assert.deepStrictEqual(failed.commands.map((c) => [c.status, c.completed_at, c.summary]), [
      ["succeeded", null, null],
      ["failed", now, reason]
    ])
  })

  it("between stages: the run's own detail or pipeline-failed; a finished run is returned as it is", () => {
    const pending = [entry(1, "a", "true", "pending")]
    assert.strictEqual(failedOnFileError(manifest(pending), "r", now).status_detail, "pipeline-failed")
    assert.strictEqual(failedOnFileError(manifest(pending, { status_detail: "queued:x" }), "r", now).status_detail, "queued:x")
    for (const status of ["succeeded", "failed", "cancelled"] as const) {
      const finished = manifest(pending, { status })
      assert.strictEqual(failedOnFileError(finished, "r", now), finished)
    }
  })
})
