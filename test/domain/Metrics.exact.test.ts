/**
 * A metrics line (MET-1) to the exact value, from a bare manifest and from one with every section
 * (mutation testing, issue 16: Stryker left each `??` default and each count of metricsEntryOf
 * unchecked), the learning columns of LRN-7, and MTTR with a first run of no duration.
 */
import { assert, describe, it } from "@effect/vitest"
import type { CliManifest, CommandEntry, ToolRun } from "../../src/domain/Manifest.js"
import { learningMetricsOf, type MetricsEntry, metricsEntryOf, mttrDeltaOf } from "../../src/domain/Metrics.js"
import type { LearningSection } from "../../src/domain/LearningRecords.js"
import { toolMetricsOf } from "../../src/domain/Tfgrpo.js"
import { commandEntry, runManifest } from "../support/manifests.js"

const started = "2026-12-07T00:00:00.000Z"
const completed = "2026-12-07T00:01:30.500Z"
const recordedAt = "2026-12-07T00:02:00.000Z"

const entry = (index: number, status: CommandEntry["status"]) => commandEntry(index, `s${index}`, "true", status)

const bare: CliManifest = runManifest(
  [entry(1, "succeeded"), entry(2, "failed"), entry(3, "skipped"), entry(4, "pending"), entry(5, "succeeded")],
  { pipeline_id: "flow", pipeline_title: "Flow", status: "failed" },
  started
)

/** Every column a bare manifest without extras gives: the unknowns, nulls and zeros of MET-1. */
const bareLine: MetricsEntry = {
  run_id: "run-1",
  task_id: "demo",
  pipeline_id: "flow",
  status: "failed",
  started_at: started,
  completed_at: null,
  duration_seconds: null,
  commands_passed: 2,
  commands_failed: 1,
  guardrails_present: false,
  recorded_at: recordedAt,
  artifact_path: ".runs/demo/cli/run-1",
  child_runs: 0,
  control_plane_status: "unknown",
  scheduler_mode: null,
  instance_stats: [],
  privacy_mode: null,
  privacy_events: 0,
  handle_count: 0,
  tfgrpo_epoch: null,
  tfgrpo_group_id: null,
  tfgrpo_group_size: null,
  tool_calls: 0,
  token_total: null,
  cost_usd: null,
  latency_ms: null,
  tool_stats: null,
  execution_mode: null,
  learning_validation_status: null,
  learning_snapshot_status: null,
  learning_scenario_status: null,
  learning_crystalizer_status: null,
  learning_alerts: 0,
  learning_group_id: null,
  learning_review_rejections: null,
  learning_review_latency_ms: null,
  learning_regressions_detected: null,
  learning_pattern_promoted: null,
  learning_pattern_deprecated: null,
  learning_throughput_candidates: null
}

const toolRun = (id: string, startedAt: string, completedAt: string): ToolRun => ({
  id,
  tool: "cli:command",
  description: id,
  approvalSource: "auto",
  retryCount: 0,
  attemptCount: 1,
  sandboxState: "sandboxed",
  status: "succeeded",
  startedAt,
  completedAt,
  metadata: {
    stageId: id,
    pipelineId: "flow",
    runId: "run-1",
    commandIndex: 1,
    exec: {
      command: "true",
      args: [],
      cwd: ".",
      sessionId: "s",
      persisted: true,
      correlationId: "c",
      handleId: "h",
      exitCode: 0,
      signal: null
    }
  }
})

const perTool = [
  { tool: "build", tokens: 10, costUsd: 0.00002, latencyMs: 30, attempts: 1, status: "succeeded", sandboxState: "sandboxed" }
]

const full: CliManifest = {
  ...bare,
  status: "succeeded",
  completed_at: completed,
  child_runs: [{ run_id: "child-1", pipeline_id: "nested", status: "succeeded", manifest: "m.json" }],
  guardrail_status: {
    present: true,
    recommendation: null,
    summary: "Guardrails: spec-guard succeeded (1 passed).",
    computed_at: completed,
    counts: { total: 1, succeeded: 1, failed: 0, skipped: 0, other: 0 }
  },
  privacy: {
    mode: "enforce",
    decisions: [],
    totals: { total_frames: 7, redacted_frames: 2, blocked_frames: 0, allowed_frames: 5 },
    log_path: "privacy.ndjson"
  },
  handles: [{
    handle_id: "h",
    correlation_id: "c",
    stage_id: "s1",
    pipeline_id: "flow",
    status: "closed",
    frame_count: 2,
    latest_sequence: 2,
    created_at: started,
    metadata: { run_id: "run-1" }
  }],
  // 1.5 s, and a run whose clock went backwards, which counts 0.
  toolRuns: [toolRun("a", started, "2026-12-07T00:00:01.500Z"), toolRun("b", completed, started)],
  tfgrpo: { epoch: 2, group_id: "g-1", group_size: 2, tool_metrics: toolMetricsOf(perTool), experiences: null }
}

const alert = (type: "snapshot_failed" | "stalled_snapshot") => ({ type, channel: "slack" as const, target: "#ops", message: "m", created_at: started })

const learning: LearningSection = {
  validation: { mode: "per-task", grouping: null, status: "validated" },
  alerts: [alert("stalled_snapshot"), alert("snapshot_failed")],
  approvals: [],
  snapshot: {
    tag: "t",
    commit_sha: "c",
    tarball_path: "s.tar.gz",
    tarball_digest: "d",
    storage_path: "p",
    retention_days: 30,
    status: "captured",
    attempts: 1,
    created_at: started,
    last_error: null
  },
  scenario: {
    path: null,
    generated_at: started,
    source: null,
    status: "synthesized",
    attempts: 1,
    partial_path: null,
    manual_template: null,
    approver: null,
    reason: null
  }
}

describe("metricsEntryOf (MET-1), to the exact line", () => {
  it("a bare manifest without extras: unknown control plane, nulls, zeros; passed and failed counted by status", () => {
    assert.deepStrictEqual(metricsEntryOf(bare, recordedAt), bareLine)
  })

  it("every section and extra: duration, guardrails, privacy, handles, tool runs, TF-GRPO and learning columns", () => {
    const line = metricsEntryOf(full, recordedAt, {
      controlPlaneStatus: "passed",
      schedulerMode: "multi-instance",
      instanceStats: [{ instance_id: "i1", capability: "default", status: "succeeded", attempts: 1, recovery_events: 0 }],
      executionMode: "cloud",
      learning: { validationStatus: "validated", snapshotStatus: "captured", scenarioStatus: null, alerts: 3 }
    })
    assert.deepStrictEqual(line, {
      ...bareLine,
      status: "succeeded",
      completed_at: completed,
      duration_seconds: 90.5,
      guardrails_present: true,
      child_runs: 1,
      control_plane_status: "passed",
      scheduler_mode: "multi-instance",
      instance_stats: [{ instance_id: "i1", capability: "default", status: "succeeded", attempts: 1, recovery_events: 0 }],
      privacy_mode: "enforce",
      privacy_events: 7,
      handle_count: 1,
      tfgrpo_epoch: 2,
      tfgrpo_group_id: "g-1",
      tfgrpo_group_size: 2,
      tool_calls: 2,
      token_total: 10,
      cost_usd: 0.00002,
      latency_ms: 1500,
      tool_stats: perTool,
      execution_mode: "cloud",
      learning_validation_status: "validated",
      learning_snapshot_status: "captured",
      learning_scenario_status: null,
      learning_alerts: 3
    })
  })

  it("a completion time that does not parse gives no duration; a guardrail status that is not present says false", () => {
    const guardrails = { present: false, recommendation: null, summary: "s", computed_at: completed, counts: { total: 1, succeeded: 0, failed: 1, skipped: 0, other: 0 } }
    const line = metricsEntryOf({ ...full, completed_at: "not a time", guardrail_status: guardrails }, recordedAt)
    assert.strictEqual(line.duration_seconds, null)
    assert.strictEqual(line.guardrails_present, false)
    assert.strictEqual(metricsEntryOf({ ...full, started_at: "not a time" }, recordedAt).duration_seconds, null)
  })
})

describe("learningMetricsOf (LRN-7)", () => {
  it("reads the statuses and counts the alerts; a missing snapshot or scenario is null", () => {
    assert.deepStrictEqual(learningMetricsOf(learning), { validationStatus: "validated", snapshotStatus: "captured", scenarioStatus: "synthesized", alerts: 2 })
    const { scenario: _scenario, snapshot: _snapshot, ...without } = learning
    assert.deepStrictEqual(learningMetricsOf(without), { validationStatus: "validated", snapshotStatus: null, scenarioStatus: null, alerts: 2 })
  })
})

describe("mttrDeltaOf (MET-3): a first run of no duration", () => {
  it("a baseline of 0 seconds reduces nothing and counts as met, whatever the mean", () => {
    const line = (runId: string, duration: number) => ({ run_id: runId, status: "succeeded", recorded_at: recordedAt, duration_seconds: duration })
    assert.deepStrictEqual(mttrDeltaOf([line("r1", 0), line("r2", 10)], recordedAt), {
      baseline_mttr_seconds: 0,
      current_mttr_seconds: 5,
      reduction_percent: 0,
      meets_threshold: true,
      updated_at: recordedAt
    })
  })
})
