/**
 * The learning pipeline (SPEC LRN-1..7, DECISIONS D-17): after a succeeded run, the working tree is
 * captured (git tag, tarball, diff), a scenario is synthesized from the run, and the scenario is
 * replayed on the clean tree. This module holds what the pipeline records: the manifest's `learning`
 * section (MAN-3), the files under `learning/` and the pipeline's constants. The pure rules are
 * beside it: the scenario picking (`LearningSynthesis.ts`), the snapshot's file lists
 * (`LearningSnapshotPaths.ts`) and the status machine with its alerts (`LearningStatus.ts`). No I/O.
 *
 * Like CliManifest, every schema here is JSON-safe: its Type is its Encoded form (no transformations).
 */
import { Schema } from "effect"

// ---------------------------------------------------------------------------------------------
// Enums (LRN-7)

export const ValidationStatus = Schema.Literal(
  "pending",
  "validated",
  "snapshot_failed",
  "stalled_snapshot",
  "needs_manual_scenario"
)
export type ValidationStatus = typeof ValidationStatus.Type

export const SnapshotStatus = Schema.Literal("pending", "captured", "snapshot_failed", "stalled_snapshot")
export type SnapshotStatus = typeof SnapshotStatus.Type

export const AlertType = Schema.Literal("snapshot_failed", "stalled_snapshot", "needs_manual_scenario", "budget_exceeded")
export type AlertType = typeof AlertType.Type

export const AlertChannel = Schema.Literal("slack", "pagerduty")
export type AlertChannel = typeof AlertChannel.Type

export const ScenarioStatus = Schema.Literal("pending", "synthesized", "needs_manual_scenario")
export type ScenarioStatus = typeof ScenarioStatus.Type

/** Where the scenario's command came from (LRN-5), in order of preference. */
export const ScenarioSource = Schema.Literal("execution_history", "prompt", "diff")
export type ScenarioSource = typeof ScenarioSource.Type

export const ValidationMode = Schema.Literal("per-task", "grouped")

// ---------------------------------------------------------------------------------------------
// The manifest section (MAN-3, LRN-3..6)

const NullableString = Schema.NullOr(Schema.String)

/** LRN-5: a grouping sets the validation mode to `grouped`; the CLI flow has none. */
export const LearningGrouping = Schema.Struct({
  id: Schema.String,
  members: Schema.Array(Schema.String),
  window_hours: Schema.optional(Schema.Number)
})

export const LearningValidation = Schema.Struct({
  mode: ValidationMode,
  grouping: Schema.NullOr(LearningGrouping),
  status: ValidationStatus,
  reason: Schema.optional(NullableString),
  log_path: Schema.optional(NullableString),
  last_error: Schema.optional(NullableString),
  git_status_path: Schema.optional(NullableString),
  git_log_path: Schema.optional(NullableString)
})
export type LearningValidation = typeof LearningValidation.Type

export const LearningAlert = Schema.Struct({
  type: AlertType,
  channel: AlertChannel,
  target: Schema.String,
  message: Schema.String,
  created_at: Schema.String
})
export type LearningAlert = typeof LearningAlert.Type

/** A reviewer's decision on a learning candidate (MAN-4's shape); the pipeline itself adds none. */
export const LearningApproval = Schema.Struct({
  actor: Schema.String,
  timestamp: Schema.String,
  reason: Schema.optional(Schema.String)
})

/** LRN-3 on success; LRN-4 on failure, with `unknown`/`unavailable` placeholders for what is missing. */
export const LearningSnapshot = Schema.Struct({
  tag: Schema.String,
  commit_sha: Schema.String,
  tarball_path: Schema.String,
  tarball_digest: Schema.String,
  storage_path: Schema.String,
  retention_days: Schema.Int,
  status: SnapshotStatus,
  attempts: Schema.Int,
  created_at: Schema.String,
  last_error: NullableString,
  /** `learning/snapshot-files.txt` and how many files it lists (what the tarball holds). */
  file_list_path: Schema.optional(Schema.String),
  file_count: Schema.optional(Schema.Int)
})
export type LearningSnapshot = typeof LearningSnapshot.Type

export const LearningQueue = Schema.Struct({
  snapshot_id: Schema.String,
  diff_path: NullableString,
  prompt_path: NullableString,
  execution_history_path: Schema.String,
  manifest_path: Schema.String,
  enqueued_at: Schema.String,
  payload_path: Schema.String,
  status: Schema.Literal("queued")
})
export type LearningQueue = typeof LearningQueue.Type

export const LearningScenario = Schema.Struct({
  path: NullableString,
  generated_at: Schema.String,
  source: Schema.NullOr(ScenarioSource),
  status: ScenarioStatus,
  attempts: Schema.Int,
  partial_path: NullableString,
  manual_template: NullableString,
  approver: NullableString,
  reason: NullableString
})
export type LearningScenario = typeof LearningScenario.Type

/** The manifest's `learning` field (MAN-3). */
export const LearningSection = Schema.Struct({
  validation: LearningValidation,
  alerts: Schema.Array(LearningAlert),
  approvals: Schema.Array(LearningApproval),
  snapshot: Schema.optional(LearningSnapshot),
  queue: Schema.optional(LearningQueue),
  scenario: Schema.optional(LearningScenario)
})
export type LearningSection = typeof LearningSection.Type

/** MAN-3: what a new manifest holds before any capture. */
export const initialLearningSection: LearningSection = {
  validation: { mode: "per-task", grouping: null, status: "pending" },
  alerts: [],
  approvals: []
}

// ---------------------------------------------------------------------------------------------
// Files under `learning/` (LRN-2, LRN-5)

/** `learning/queue-payload.json` (LRN-2). */
export const QueuePayload = Schema.Struct({
  snapshot_id: Schema.String,
  snapshot_commit: Schema.String,
  diff_path: NullableString,
  prompt_path: NullableString,
  execution_history_path: Schema.String,
  manifest_path: Schema.String
})
export type QueuePayload = typeof QueuePayload.Type

/** A command the run executed, as the scenario's context records it. */
export const HistoryEntry = Schema.Struct({
  index: Schema.Int,
  id: Schema.String,
  command: Schema.String,
  status: Schema.String,
  exit_code: Schema.NullOr(Schema.Int),
  completed_at: NullableString
})
export type HistoryEntry = typeof HistoryEntry.Type

/** `learning/scenario.json`, or `scenario.partial.json` (no command, plus reason and template). */
export const ScenarioFile = Schema.Struct({
  id: Schema.String,
  entrypoint: NullableString,
  commands: Schema.Array(Schema.String),
  validation: Schema.Struct({ requiresCleanFixture: Schema.Boolean }),
  context: Schema.Struct({
    prompt: NullableString,
    /** The changed files the diff heuristic looked at, one a line; null when it was not needed. */
    diff: NullableString,
    execution_history: Schema.Array(HistoryEntry)
  }),
  generated_at: Schema.String,
  reason: Schema.optional(Schema.String),
  manual_template: Schema.optional(Schema.String)
})
export type ScenarioFile = typeof ScenarioFile.Type

// ---------------------------------------------------------------------------------------------
// Constants

/** LRN-1: exactly `1`, unlike the other boolean variables (ENV-6). */
export const isLearningEnabled = (value: string | undefined): boolean => value === "1"

/** LRN-2: three attempts, 500 ms then 1000 ms apart (a RetryPolicy for `retrySchedule`). */
export const snapshotRetryPolicy = { attempts: 3, initialDelayMs: 500, factor: 2 } as const

export const snapshotRetentionDays = 30
export const snapshotTagPrefix = "learning-snapshot-"
export const manualScenarioTemplate = ".agent/task/templates/manual-scenario-template.md"
export const cleanFixtureReason = "Validation requires a clean fixture"
export const slackTarget = "#learning-alerts"
export const pagerdutyTarget = "learning-pipeline"
