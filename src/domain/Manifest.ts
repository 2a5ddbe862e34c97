/**
 * The CLI run manifest, `.runs/<task>/cli/<run>/manifest.json` (SPEC MAN-1..6).
 * Keys are the file's snake_case keys, so the schema is the file format with nothing renamed.
 * It holds bounded summaries only; stage output lives in the stage logs (DECISIONS D-12).
 */
import { type ParseResult, Schema } from "effect"
import { ControlPlaneSection } from "./ControlPlane.js"
import { DesignArtifact, DesignSummary } from "./DesignRecord.js"
import { computeGuardrailStatus, GuardrailStatus } from "./Guardrails.js"
import { LearningSection } from "./LearningRecords.js"
import { SchedulerSection } from "./Scheduler.js"
import { PromptPackEntry } from "./PromptPacks.js"
import { ChildRun, CommandEntry, isTerminal, ResumeEvent, RunStatus, type StatusManifest } from "./ManifestStatus.js"
import { TfgrpoSection } from "./Tfgrpo.js"
import { cutOutside } from "./Privacy.js"

// The part `status` reads is defined on its own (see there why); it is part of this module's API too.
export * from "./ManifestStatus.js"

const Timestamp = Schema.String
const NullableString = Schema.NullOr(Schema.String)

/** MAN-4, with what D-14 records for every decision: policy, source, stage, key and the outcome. */
export const ApprovalRecord = Schema.Struct({
  actor: Schema.String,
  timestamp: Timestamp,
  reason: Schema.optional(Schema.String),
  policy: Schema.optional(Schema.String),
  source: Schema.optional(Schema.String),
  stage_id: Schema.optional(Schema.String),
  key: Schema.optional(Schema.String),
  decision: Schema.optional(Schema.Literal("granted", "denied"))
})

/** EXE-6: one per command stage execution: its exec events as a stream of frames. */
export const HandleRecord = Schema.Struct({
  handle_id: Schema.String,
  correlation_id: Schema.String,
  stage_id: Schema.String,
  pipeline_id: Schema.String,
  status: Schema.Literal("open", "closed"),
  frame_count: Schema.Int,
  latest_sequence: Schema.Int,
  created_at: Timestamp,
  metadata: Schema.Struct({ run_id: Schema.String })
})
export type HandleRecord = typeof HandleRecord.Type

/** RET-2 / EXE-2: the record of one tool invocation (a command stage, all its attempts). */
export const ToolRun = Schema.Struct({
  id: Schema.String,
  tool: Schema.Literal("cli:command"),
  description: Schema.String,
  approvalSource: Schema.String,
  retryCount: Schema.Int,
  attemptCount: Schema.Int,
  sandboxState: Schema.Literal("sandboxed", "escalated", "failed"),
  /** `skipped`: the stage's `skipExitCode`, as its entry records it. */
  status: Schema.Literal("succeeded", "skipped", "failed"),
  startedAt: Timestamp,
  completedAt: Timestamp,
  metadata: Schema.Struct({
    stageId: Schema.String,
    pipelineId: Schema.String,
    runId: Schema.String,
    commandIndex: Schema.Int,
    exec: Schema.Struct({
      command: Schema.String,
      args: Schema.Array(Schema.String),
      cwd: Schema.String,
      sessionId: Schema.String,
      persisted: Schema.Boolean,
      correlationId: Schema.String,
      handleId: Schema.String,
      exitCode: Schema.NullOr(Schema.Int),
      signal: Schema.NullOr(Schema.String)
    })
  })
})
export type ToolRun = typeof ToolRun.Type

/** A privacy-guard finding as recorded (PRIV-4); in shadow mode the action is `allow`. */
export const PrivacyDecision = Schema.Struct({
  stage_id: Schema.String,
  /** The exec handle of the stage execution whose output this finding is in (HandleRecord.handle_id). */
  handle_id: Schema.String,
  sequence: Schema.Int,
  action: Schema.Literal("allow", "redact", "block"),
  rule: Schema.NullOr(Schema.String),
  reason: Schema.NullOr(Schema.String),
  timestamp: Timestamp
})
export type PrivacyDecision = typeof PrivacyDecision.Type

/** PRIV-4, bounded (D-12): totals over all output chunks, the latest 50 findings; all of them are in log_path. */
export const PrivacySection = Schema.Struct({
  mode: Schema.Literal("shadow", "enforce"),
  decisions: Schema.Array(PrivacyDecision),
  totals: Schema.Struct({
    total_frames: Schema.Int,
    redacted_frames: Schema.Int,
    blocked_frames: Schema.Int,
    allowed_frames: Schema.Int
  }),
  log_path: Schema.String
})
export type PrivacySection = typeof PrivacySection.Type

/** What a manifest of another version is told: a newer one's run is that version's to resume. */
const versionMessage = (issue: ParseResult.ParseIssue) => {
  const actual: unknown = issue.actual
  return typeof actual === "number" && actual > 1
    ? `is ${actual}, written by a newer codex-orchestrator (this one reads version 1); show and resume the run with that version`
    : `Expected 1, actual ${JSON.stringify(actual) ?? String(actual)}`
}

/** The run manifest, `manifest.json` in the run folder (MAN-1, MAN-3): the run's state, its stages and the sections it recorded. */
export const CliManifest = Schema.Struct({
  version: Schema.Literal(1).annotations({ message: versionMessage }),
  task_id: Schema.String,
  task_slug: Schema.String,
  run_id: Schema.String,
  parent_run_id: NullableString,
  /**
   * RUN-7: the id of the parent's nested stage that made this child run, written when it is created, so
   * resume gives each interrupted nested stage its own child back. Absent in runs that are no child,
   * and in children of earlier versions.
   */
  parent_stage_id: Schema.optional(Schema.String),
  pipeline_id: Schema.String,
  pipeline_title: Schema.String,
  runner: Schema.Literal("codex-cli"),
  approval_policy: NullableString,
  status: RunStatus,
  status_detail: NullableString,
  started_at: Timestamp,
  completed_at: Schema.NullOr(Timestamp),
  updated_at: Timestamp,
  heartbeat_at: Timestamp,
  heartbeat_interval_seconds: Schema.Number,
  heartbeat_stale_after_seconds: Schema.Number,
  artifact_root: Schema.String,
  compat_path: Schema.String,
  log_path: Schema.String,
  summary: NullableString,
  metrics_recorded: Schema.Boolean,
  resume_token: Schema.String,
  resume_events: Schema.Array(ResumeEvent),
  approvals: Schema.Array(ApprovalRecord),
  commands: Schema.Array(CommandEntry),
  child_runs: Schema.Array(ChildRun),
  run_summary_path: NullableString,
  plan_target_id: NullableString,
  instructions_hash: NullableString,
  instructions_sources: Schema.Array(Schema.String),
  /** MAN-3 / INS-4: the prompt packs the run was prepared with, by domain then id. */
  prompt_packs: Schema.optional(Schema.Array(PromptPackEntry)),
  guardrails_required: Schema.Boolean,
  guardrail_status: Schema.optional(GuardrailStatus),
  privacy: Schema.optional(PrivacySection),
  handles: Schema.optional(Schema.Array(HandleRecord)),
  toolRuns: Schema.optional(Schema.Array(ToolRun)),
  /** MODE-1: where the run's stages were meant to run. */
  execution_mode: Schema.optional(Schema.Literal("mcp", "cloud")),
  /** DECISIONS B-3: why a `cloud` run executed locally; null when it did not fall back. */
  cloud_fallback_reason: Schema.optional(NullableString),
  /** CP-5: the run request's validation and the drift report. */
  control_plane: Schema.optional(ControlPlaneSection),
  /** SCH-4: the instances planned before execution, finalized after it (SCH-5). */
  scheduler: Schema.optional(SchedulerSection),
  /** MAN-3 / LRN-3..7: the learning pipeline's snapshot, scenario and validation. */
  learning: Schema.optional(LearningSection),
  /** MAN-3 / TFG-2: the TF-GRPO context, tool metrics and experiences; null when TF-GRPO is off (absent in older manifests). */
  tfgrpo: Schema.optional(Schema.NullOr(TfgrpoSection)),
  /** DES-3: the design toolkit's artifacts and summary, adopted from its writer stage (StageSections.ts). */
  design_toolkit_artifacts: Schema.optional(Schema.Array(DesignArtifact)),
  design_toolkit_summary: Schema.optional(DesignSummary)
})
export type CliManifest = typeof CliManifest.Type

/**
 * A manifest seen as the part status reads. It also makes the compiler check that every CliManifest
 * is a StatusManifest: this stops compiling if the two schemas ever disagree on a field.
 */
export const asStatusManifest = (manifest: CliManifest): StatusManifest => manifest



/** The manifest as written: 2-space JSON plus a trailing newline (SPEC conventions). */
export const encodeManifest = (manifest: CliManifest): string =>
  // The schema has no transformations (its Type is its Encoded form, checked below), so the value is
  // its own encoding; skipping the schema walk saves ~1 ms on every manifest write.
  `${JSON.stringify(manifest satisfies typeof CliManifest.Encoded, null, 2)}\n`

/** MAN-6: string details longer than 8192 characters are cut, and `<key>_truncated: true` is added. */
export const truncateDetails = (details: Readonly<Record<string, unknown>>): Record<string, unknown> => {
  const limit = 8192
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(details)) {
    if (typeof value === "string" && value.length > limit) {
      out[key] = `${value.slice(0, cutOutside(value, limit))}…` // never half a secret
      out[`${key}_truncated`] = true
    } else {
      out[key] = value
    }
  }
  return out
}

/** LOG-2: `errors/<NN>-<slug>.json` for a failed command stage. */
export const ErrorFile = Schema.Struct({
  run_id: Schema.String,
  task_id: Schema.String,
  command_index: Schema.Int,
  command_id: Schema.String,
  command: Schema.String,
  reason: Schema.String,
  details: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  created_at: Timestamp
})
export type ErrorFile = typeof ErrorFile.Type

/** RUN-12: summary lines are newline-joined; appending text the summary already contains is a no-op. */
export const appendSummary = (summary: string | null, line: string): string =>
  summary === null || summary.length === 0 ? line : summary.includes(line) ? summary : `${summary}\n${line}`

/** RUN-12: at the end of a run, any `guardrails:` line is replaced by the current guardrail summary. */
export const upsertGuardrailLine = (summary: string | null, line: string): string => {
  const kept = (summary ?? "").split("\n").filter((l) => l.length > 0 && !l.toLowerCase().startsWith("guardrails:"))
  return [...kept, line].join("\n")
}

/**
 * RUN-3 step 3: the final status (`failed` if a stage failed, with `pipeline-failed` unless a stage
 * said more), the guardrail status (MAN-5) and its summary line, then its recommendation (RUN-12).
 */
export const finalizedManifest = (m: CliManifest, now: string): CliManifest => {
  const failed = m.commands.some((c) => c.status === "failed")
  const guardrails = computeGuardrailStatus(m.commands, m.guardrails_required, now)
  const withGuardrailLine = upsertGuardrailLine(m.summary, guardrails.summary)
  return {
    ...m,
    status: failed ? "failed" : "succeeded",
    status_detail: failed ? m.status_detail ?? "pipeline-failed" : null,
    completed_at: now,
    heartbeat_at: now,
    guardrail_status: guardrails,
    summary: guardrails.recommendation !== null ? appendSummary(withGuardrailLine, guardrails.recommendation) : withGuardrailLine
  }
}

/** D-8: an interrupted run records the stage it was in and ends `cancelled`; a finished run stays as it is. */
export const cancelledManifest = (m: CliManifest, now: string): CliManifest => {
  if (isTerminal(m.status)) return m
  const running = m.commands.find((c) => c.status === "running")
  return {
    ...m,
    status: "cancelled",
    status_detail: running === undefined ? "cancelled" : `stage:${running.id}:cancelled`,
    completed_at: now,
    commands: m.commands.map((c) => c.status === "running" ? { ...c, status: "cancelled" as const, completed_at: now } : c),
    summary: appendSummary(m.summary, "Run cancelled.")
  }
}

/**
 * RUN-9 with a target, on a crashed run: a stage the crashed orchestrator left `running` is not the
 * target, so it will not re-run; it is settled `failed` (interrupted) rather than left `running` in a
 * run that ends, and the run cannot read `succeeded` while one of its stages never finished.
 */
export const settleInterrupted = (m: CliManifest, target: string, now: string): CliManifest => {
  const interrupted = m.commands.filter((c) => c.status === "running" && c.id !== target)
  if (interrupted.length === 0) return m
  return {
    ...m,
    status_detail: `stage:${interrupted[0]?.id ?? target}:interrupted`,
    commands: m.commands.map((c) =>
      c.status === "running" && c.id !== target
        ? {
          ...c,
          status: "failed" as const,
          completed_at: now,
          summary: `Interrupted: the orchestrator stopped while this stage ran; not re-run, this resume targeted ${target}.`
        }
        : c
    )
  }
}

/**
 * A run whose own files could not be written (a full disk, a read-only folder; issue 16 item 21):
 * the stages it was running are `failed` with the reason, and so is the run, so that whatever can
 * still be written no longer says `in_progress`.
 */
export const failedOnFileError = (m: CliManifest, reason: string, now: string): CliManifest => {
  if (isTerminal(m.status)) return m
  const running = m.commands.find((c) => c.status === "running")
  return {
    ...m,
    status: "failed",
    status_detail: running === undefined ? m.status_detail ?? "pipeline-failed" : `stage:${running.id}:error`,
    completed_at: now,
    heartbeat_at: now,
    commands: m.commands.map((c) => c.status === "running" ? { ...c, status: "failed" as const, completed_at: now, summary: reason } : c),
    summary: appendSummary(m.summary, reason)
  }
}
