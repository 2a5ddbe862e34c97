import { assert, describe, it } from "@effect/vitest"
import { computeGuardrailStatus } from "../../src/domain/Guardrails.js"
import type { CommandEntry, EntryStatus } from "../../src/domain/Manifest.js"

const at = "2026-01-01T00:00:00.000Z"
const missing = "Guardrail command missing; run scripts/run-mcp-diagnostics.sh --no-watch to capture reviewer diagnostics."
const failedAdvice = "Guardrail command failed; re-run scripts/run-mcp-diagnostics.sh --no-watch to gather failure artifacts."

let nextIndex = 1
const entry = (id: string, command: string | null, status: EntryStatus, kind: CommandEntry["kind"] = "command"): CommandEntry => ({
  index: nextIndex++,
  id,
  title: id,
  command,
  kind,
  status,
  started_at: null,
  completed_at: null,
  exit_code: null,
  summary: null,
  log_path: null,
  error_file: null,
  sub_run_id: null
})

const guard = (status: EntryStatus, command = "node scripts/spec-guard.mjs --dry-run") => entry("guard", command, status)
const build = entry("build", "npm run build", "succeeded")

describe("MAN-5 guardrail status", () => {
  it("reports a missing guardrail with a recommendation when guardrails are required", () => {
    assert.deepStrictEqual(computeGuardrailStatus([build, entry("spec-guard", "npm test", "succeeded")], true, at), {
      present: false,
      recommendation: missing,
      summary: "Guardrails: spec-guard command not found.",
      computed_at: at,
      counts: { total: 0, succeeded: 0, failed: 0, skipped: 0, other: 0 }
    })
  })

  it("reports a missing guardrail without a recommendation when not required", () => {
    const status = computeGuardrailStatus([build], false, at)
    assert.strictEqual(status.summary, "Guardrails: spec-guard command not found.")
    assert.isNull(status.recommendation)
    assert.isFalse(status.present)
    assert.deepStrictEqual(computeGuardrailStatus([], false, at).counts, { total: 0, succeeded: 0, failed: 0, skipped: 0, other: 0 })
  })

  it("matches `spec-guard` anywhere in the command, whatever the stage id", () => {
    const status = computeGuardrailStatus([
      entry("lint", "FOO=1 npx spec-guard --strict", "succeeded"),
      entry("check", "node scripts/spec-guard.mjs", "succeeded"),
      entry("spec", "specguard", "succeeded")
    ], true, at)
    assert.strictEqual(status.counts.total, 2)
    assert.strictEqual(status.summary, "Guardrails: spec-guard succeeded (2 passed).")
  })

  it("never counts nested entries", () => {
    const status = computeGuardrailStatus([
      entry("spec-guard", null, "succeeded", "subpipeline"),
      entry("nested", "spec-guard", "failed", "subpipeline")
    ], true, at)
    assert.strictEqual(status.counts.total, 0)
    assert.strictEqual(status.summary, "Guardrails: spec-guard command not found.")
    assert.strictEqual(status.recommendation, missing)
  })

  it("reports failures first, with the failed recommendation", () => {
    const status = computeGuardrailStatus([guard("succeeded"), guard("failed"), guard("skipped"), build], false, at)
    assert.deepStrictEqual(status, {
      present: true,
      recommendation: failedAdvice,
      summary: "Guardrails: spec-guard failed (1/3 failed).",
      computed_at: at,
      counts: { total: 3, succeeded: 1, failed: 1, skipped: 1, other: 0 }
    })
    const onlyFailed = computeGuardrailStatus([guard("failed")], true, at)
    assert.strictEqual(onlyFailed.summary, "Guardrails: spec-guard failed (1/1 failed).")
    assert.isFalse(onlyFailed.present)
    assert.strictEqual(onlyFailed.recommendation, failedAdvice)
  })

  it("reports all succeeded", () => {
    assert.deepStrictEqual(computeGuardrailStatus([build, guard("succeeded"), guard("succeeded")], true, at), {
      present: true,
      recommendation: null,
      summary: "Guardrails: spec-guard succeeded (2 passed).",
      computed_at: at,
      counts: { total: 2, succeeded: 2, failed: 0, skipped: 0, other: 0 }
    })
  })

  it("reports all skipped", () => {
    const status = computeGuardrailStatus([guard("skipped"), guard("skipped")], true, at)
    assert.strictEqual(status.summary, "Guardrails: spec-guard skipped (all 2 skipped).")
    assert.isFalse(status.present)
    assert.isNull(status.recommendation)
    assert.deepStrictEqual(status.counts, { total: 2, succeeded: 0, failed: 0, skipped: 2, other: 0 })
  })

  it("reports a partial outcome with its non-zero parts", () => {
    const mixed = computeGuardrailStatus([guard("succeeded"), guard("skipped"), guard("pending"), guard("running")], true, at)
    assert.strictEqual(mixed.summary, "Guardrails: spec-guard partial (1 passed, 1 skipped, 2 pending of 4).")
    assert.deepStrictEqual(mixed.counts, { total: 4, succeeded: 1, failed: 0, skipped: 1, other: 2 })
    assert.isTrue(mixed.present)
    assert.isNull(mixed.recommendation)

    assert.strictEqual(
      computeGuardrailStatus([guard("succeeded"), guard("skipped")], true, at).summary,
      "Guardrails: spec-guard partial (1 passed, 1 skipped of 2)."
    )
    assert.strictEqual(
      computeGuardrailStatus([guard("skipped"), guard("pending")], true, at).summary,
      "Guardrails: spec-guard partial (1 skipped, 1 pending of 2)."
    )
    const pendingOnly = computeGuardrailStatus([guard("pending")], true, at)
    assert.strictEqual(pendingOnly.summary, "Guardrails: spec-guard partial (1 pending of 1).")
    assert.isFalse(pendingOnly.present)
  })

  it("counts cancelled guardrails as other", () => {
    const status = computeGuardrailStatus([guard("succeeded"), guard("cancelled")], true, at)
    assert.deepStrictEqual(status.counts, { total: 2, succeeded: 1, failed: 0, skipped: 0, other: 1 })
    assert.strictEqual(status.summary, "Guardrails: spec-guard partial (1 passed, 1 pending of 2).")
  })

  it("counts the guard subcommands as guardrails, nested entries never", () => {
    const status = computeGuardrailStatus([
      build,
      guard("succeeded", "codex-orchestrator guard spec --dry-run"),
      guard("failed", "npx codex-orchestrator guard diff-budget"),
      guard("succeeded", "codex-orch guard docs"),
      entry("review", "codex-orchestrator review", "succeeded"),
      entry("nested", "codex-orchestrator guard spec", "failed", "subpipeline")
    ], true, at)
    assert.deepStrictEqual(status.counts, { total: 3, succeeded: 2, failed: 1, skipped: 0, other: 0 })
    assert.strictEqual(status.summary, "Guardrails: spec-guard failed (1/3 failed).")
  })
})
