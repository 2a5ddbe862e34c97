/**
 * The learning section's status machine (SPEC LRN-3..6): how each step of a capture (a snapshot
 * attempt, the scenario, the replay) changes the manifest's `learning` section and its alerts.
 */
import {
  cleanFixtureReason,
  type LearningAlert,
  type LearningQueue,
  type LearningScenario,
  type LearningSection,
  type LearningSnapshot,
  manualScenarioTemplate,
  pagerdutyTarget,
  slackTarget,
  snapshotRetentionDays
} from "./LearningRecords.js"
import { manualScenarioReason } from "./LearningSynthesis.js"

export interface RunRef {
  readonly taskId: string
  readonly runId: string
}

/** LRN-4: one failed snapshot attempt raises a Slack alert and a PagerDuty page. */
export const snapshotFailureAlerts = (
  run: RunRef,
  attempt: number,
  message: string,
  at: string
): ReadonlyArray<LearningAlert> => [
  { type: "snapshot_failed", channel: "slack", target: slackTarget, message: `Snapshot attempt ${attempt} failed: ${message}`, created_at: at },
  {
    type: "snapshot_failed",
    channel: "pagerduty",
    target: pagerdutyTarget,
    message: `Snapshot attempt ${attempt} failed for ${run.taskId}/${run.runId}`,
    created_at: at
  }
]

/**
 * LRN-4: a failed attempt. The snapshot keeps what is unknown as placeholders; the validation turns
 * `snapshot_failed` only after the last attempt (`final`), with the error as its reason.
 */
export const onSnapshotAttemptFailed = (
  section: LearningSection,
  input: { readonly run: RunRef; readonly attempt: number; readonly message: string; readonly at: string; readonly final: boolean }
): LearningSection => ({
  ...section,
  snapshot: {
    tag: section.snapshot?.tag ?? "unknown",
    commit_sha: "unknown",
    tarball_path: "unavailable",
    tarball_digest: "unavailable",
    storage_path: "unavailable",
    retention_days: snapshotRetentionDays,
    status: "snapshot_failed",
    attempts: input.attempt,
    created_at: input.at,
    last_error: input.message
  },
  alerts: [...section.alerts, ...snapshotFailureAlerts(input.run, input.attempt, input.message, input.at)],
  validation: input.final
    ? { ...section.validation, status: "snapshot_failed", reason: input.message, last_error: input.message }
    : section.validation
})

/** LRN-3: captured and queued; a validation left `snapshot_failed` by an earlier attempt is `pending` again. */
export const onSnapshotCaptured = (
  section: LearningSection,
  snapshot: LearningSnapshot,
  queue: LearningQueue
): LearningSection => ({
  ...section,
  snapshot,
  queue,
  validation: section.validation.status === "snapshot_failed"
    ? { mode: section.validation.mode, grouping: section.validation.grouping, status: "pending" }
    : section.validation
})

export const onScenarioSynthesized = (section: LearningSection, scenario: LearningScenario): LearningSection => ({
  ...section,
  scenario
})

/**
 * LRN-5: no scenario could be synthesized. The seed waits for a second attempt before asking for a
 * manual scenario; the CLI captures once per run, so the first attempt is the last one.
 */
export const onManualScenarioNeeded = (
  section: LearningSection,
  input: { readonly run: RunRef; readonly partialPath: string; readonly at: string }
): LearningSection => ({
  ...section,
  scenario: {
    path: null,
    generated_at: input.at,
    source: null,
    status: "needs_manual_scenario",
    attempts: 1,
    partial_path: input.partialPath,
    manual_template: manualScenarioTemplate,
    approver: null,
    reason: manualScenarioReason
  },
  validation: { ...section.validation, status: "needs_manual_scenario", reason: manualScenarioReason },
  alerts: [...section.alerts, {
    type: "needs_manual_scenario",
    channel: "slack",
    target: slackTarget,
    message: `Manual scenario needed for ${input.run.taskId}/${input.run.runId}: ${manualScenarioReason}`,
    created_at: input.at
  }]
})

/** LRN-6: the outcome of replaying the scenario. */
export type ValidationOutcome =
  | { readonly _tag: "Validated" }
  | { readonly _tag: "Dirty"; readonly gitStatusPath: string; readonly gitLogPath: string }
  | { readonly _tag: "CommandFailed"; readonly reason: string; readonly lastError: string }
  | { readonly _tag: "Unusable"; readonly reason: string }

export const onValidated = (
  section: LearningSection,
  logPath: string,
  outcome: ValidationOutcome
): LearningSection => {
  const base = { mode: section.validation.mode, grouping: section.validation.grouping, log_path: logPath }
  switch (outcome._tag) {
    case "Validated":
      return { ...section, validation: { ...base, status: "validated", reason: null, last_error: null } }
    case "Dirty":
      return {
        ...section,
        validation: {
          ...base,
          status: "stalled_snapshot",
          reason: cleanFixtureReason,
          last_error: null,
          git_status_path: outcome.gitStatusPath,
          git_log_path: outcome.gitLogPath
        }
      }
    case "CommandFailed":
      return { ...section, validation: { ...base, status: "snapshot_failed", reason: outcome.reason, last_error: outcome.lastError } }
    case "Unusable":
      return { ...section, validation: { ...base, status: "snapshot_failed", reason: outcome.reason, last_error: outcome.reason } }
  }
}
