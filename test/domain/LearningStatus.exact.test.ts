/** The learning section's status machine (LRN-3..6) to the exact value (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import {
  initialLearningSection,
  isLearningEnabled,
  type LearningQueue,
  type LearningSection,
  type LearningSnapshot
} from "../../src/domain/LearningRecords.js"
import {
  onManualScenarioNeeded,
  onScenarioSynthesized,
  onSnapshotAttemptFailed,
  onSnapshotCaptured,
  onValidated
} from "../../src/domain/LearningStatus.js"
import { manualScenarioReason } from "../../src/domain/LearningSynthesis.js"

const run = { taskId: "t", runId: "r" }
const at = "2026-01-01T00:00:00.000Z"
const grouping = { id: "g", members: ["a"] }
const grouped = (): LearningSection => ({ ...initialLearningSection, validation: { mode: "grouped", grouping, status: "pending" } })

describe("onSnapshotAttemptFailed, exactly", () => {
  it("a first attempt records placeholders and two alerts; the validation waits", () => {
    const section = onSnapshotAttemptFailed(grouped(), { run, attempt: 1, message: "disk", at, final: false })
    assert.deepStrictEqual(section, {
      validation: { mode: "grouped", grouping, status: "pending" },
      approvals: [],
      snapshot: {
        tag: "unknown",
        commit_sha: "unknown",
        tarball_path: "unavailable",
        tarball_digest: "unavailable",
        storage_path: "unavailable",
        retention_days: 30,
        status: "snapshot_failed",
        attempts: 1,
        created_at: at,
        last_error: "disk"
      },
      alerts: [
        { type: "snapshot_failed", channel: "slack", target: "#learning-alerts", message: "Snapshot attempt 1 failed: disk", created_at: at },
        { type: "snapshot_failed", channel: "pagerduty", target: "learning-pipeline", message: "Snapshot attempt 1 failed for t/r", created_at: at }
      ]
    })
  })

  it("the last attempt keeps the tag already known, adds its alerts and fails the validation with the reason", () => {
    const first = onSnapshotAttemptFailed(grouped(), { run, attempt: 1, message: "a", at, final: false })
    const tagged: LearningSection = first.snapshot === undefined ? first : { ...first, snapshot: { ...first.snapshot, tag: "learning-snapshot-r" } }
    const last = onSnapshotAttemptFailed(tagged, { run, attempt: 3, message: "b", at, final: true })
    assert.strictEqual(last.snapshot?.tag, "learning-snapshot-r")
    assert.strictEqual(last.snapshot?.attempts, 3)
    assert.deepStrictEqual(last.alerts.map((alert) => alert.message), [
      "Snapshot attempt 1 failed: a",
      "Snapshot attempt 1 failed for t/r",
      "Snapshot attempt 3 failed: b",
      "Snapshot attempt 3 failed for t/r"
    ])
    assert.deepStrictEqual(last.validation, { mode: "grouped", grouping, status: "snapshot_failed", reason: "b", last_error: "b" })
  })
})

describe("onSnapshotCaptured and onScenarioSynthesized, exactly", () => {
  const snapshot: LearningSnapshot = {
    tag: "learning-snapshot-r",
    commit_sha: "abc",
    tarball_path: "t.tgz",
    tarball_digest: "d",
    storage_path: "s",
    retention_days: 30,
    status: "captured",
    attempts: 2,
    created_at: at,
    last_error: null
  }
  const queue: LearningQueue = {
    snapshot_id: "learning-snapshot-r",
    diff_path: null,
    prompt_path: null,
    execution_history_path: "h",
    manifest_path: "m",
    enqueued_at: at,
    payload_path: "p",
    status: "queued"
  }

  it("a validation failed by an earlier attempt is pending again, without its reason; another stays as it is", () => {
    const failed = onSnapshotAttemptFailed(grouped(), { run, attempt: 1, message: "x", at, final: true })
    const captured = onSnapshotCaptured(failed, snapshot, queue)
    assert.deepStrictEqual(captured.validation, { mode: "grouped", grouping, status: "pending" })
    assert.deepStrictEqual(captured.snapshot, snapshot)
    assert.deepStrictEqual(captured.queue, queue)
    assert.strictEqual(captured.alerts.length, 2)
    const validated = { ...grouped(), validation: { mode: "per-task" as const, grouping: null, status: "validated" as const, reason: null } }
    assert.deepStrictEqual(onSnapshotCaptured(validated, snapshot, queue).validation, validated.validation)
  })

  it("a synthesized scenario is stored as given", () => {
    const scenario = {
      path: "s.json",
      generated_at: at,
      source: "prompt" as const,
      status: "synthesized" as const,
      attempts: 1,
      partial_path: null,
      manual_template: null,
      approver: null,
      reason: null
    }
    assert.deepStrictEqual(onScenarioSynthesized(grouped(), scenario), { ...grouped(), scenario })
  })
})

describe("onManualScenarioNeeded, exactly", () => {
  it("records the partial scenario, the validation's reason and one Slack alert", () => {
    const section = onManualScenarioNeeded(grouped(), { run, partialPath: "p.json", at })
    assert.deepStrictEqual(section, {
      validation: { mode: "grouped", grouping, status: "needs_manual_scenario", reason: manualScenarioReason },
      approvals: [],
      scenario: {
        path: null,
        generated_at: at,
        source: null,
        status: "needs_manual_scenario",
        attempts: 1,
        partial_path: "p.json",
        manual_template: ".agent/task/templates/manual-scenario-template.md",
        approver: null,
        reason: manualScenarioReason
      },
      alerts: [{
        type: "needs_manual_scenario",
        channel: "slack",
        target: "#learning-alerts",
        message: `Manual scenario needed for t/r: ${manualScenarioReason}`,
        created_at: at
      }]
    })
  })
})

describe("onValidated, exactly", () => {
  const base = { mode: "grouped" as const, grouping, log_path: "v.log" }

  it("each outcome's validation, the mode and grouping kept", () => {
    assert.deepStrictEqual(onValidated(grouped(), "v.log", { _tag: "Validated" }).validation, {
      ...base,
      status: "validated",
      reason: null,
      last_error: null
    })
    assert.deepStrictEqual(onValidated(grouped(), "v.log", { _tag: "Dirty", gitStatusPath: "s.txt", gitLogPath: "l.txt" }).validation, {
      ...base,
      status: "stalled_snapshot",
      reason: "Validation requires a clean fixture",
      last_error: null,
      git_status_path: "s.txt",
      git_log_path: "l.txt"
    })
    assert.deepStrictEqual(onValidated(grouped(), "v.log", { _tag: "CommandFailed", reason: "exit 1", lastError: "stderr" }).validation, {
      ...base,
      status: "snapshot_failed",
      reason: "exit 1",
      last_error: "stderr"
    })
    assert.deepStrictEqual(onValidated(grouped(), "v.log", { _tag: "Unusable", reason: "no command" }).validation, {
      ...base,
      status: "snapshot_failed",
      reason: "no command",
      last_error: "no command"
    })
    assert.deepStrictEqual(onValidated(grouped(), "v.log", { _tag: "Validated" }).alerts, [])
  })

  it("learning is on for exactly 1", () => {
    assert.deepStrictEqual(["1", "true", " 1", undefined].map(isLearningEnabled), [true, false, false, false])
  })
})
