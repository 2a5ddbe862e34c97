/**
 * The part of the run manifest that `status` reads (SPEC CLI-7, D-9): the run's state, its stages,
 * its child runs and resume events, and who is writing it. Kept apart from the rest of the manifest
 * (src/domain/Manifest.ts builds on it) so that `status` decodes only what it shows: it starts
 * without the schemas of the control plane, scheduler, learning and TF-GRPO sections (issue 3's
 * start-up target), and a run whose other sections are damaged still reports its status.
 */
import { Schema } from "effect"
import { type IdLabel, idMessage, idProblem } from "./Ids.js"
import { CacheOutcome } from "./StageCache.js"

const Timestamp = Schema.String

/**
 * An id as the manifest records it: a string that passes ID-1 (and the storage checks), unbranded. A
 * hand-edited value is refused with the ID-1 message, so what status prints from the file stays on
 * one line and names no folder outside the runs root.
 */
const RecordedId = (label: IdLabel) =>
  Schema.String.pipe(Schema.filter((value) => {
    const reason = idProblem(value)
    return reason === undefined ? true : idMessage(label, value, reason)
  }))
const NullableString = Schema.NullOr(Schema.String)

/** A run's status in its manifest (RUN-10): `queued` → `in_progress` → `succeeded`, `failed` or `cancelled`. */
export const RunStatus = Schema.Literal("queued", "in_progress", "succeeded", "failed", "cancelled")
export type RunStatus = typeof RunStatus.Type

/** Whether a run status is final: `succeeded`, `failed` or `cancelled`. */
export const isTerminal = (status: RunStatus) => status === "succeeded" || status === "failed" || status === "cancelled"

/** A stage entry's status in `commands[]` (RUN-10): `pending` → `running` → `succeeded`, `failed`, `skipped` or `cancelled`. */
export const EntryStatus = Schema.Literal("pending", "running", "succeeded", "failed", "skipped", "cancelled")
export type EntryStatus = typeof EntryStatus.Type

/** Issue 18: where a remote executor ran the stage's latest attempt (absent for local stages). */
export const RemoteExecution = Schema.Struct({
  /** The executor's name (`cluster`). */
  executor: Schema.String,
  attempt: Schema.Int,
  idempotency_key: Schema.String,
  /** The runner whose result counts (the last one that started it until the result is in). */
  runner: NullableString,
  host: NullableString,
  /** Every runner that started this attempt, in order: more than one when a runner was lost and it was redelivered. */
  deliveries: Schema.Array(Schema.Struct({ runner: Schema.String, host: Schema.String })),
  /** The worktree the runner kept after this attempt failed (`runner --keep-failed`), a path on its host. */
  kept_worktree: Schema.optional(Schema.String)
})
export type RemoteExecution = typeof RemoteExecution.Type

/** MAN-2: one entry per stage, in stage order, with exactly these keys (`remote` only for stages run remotely). */
export const CommandEntry = Schema.Struct({
  index: Schema.Int,
  id: Schema.String,
  title: Schema.String,
  command: NullableString,
  kind: Schema.Literal("command", "subpipeline"),
  status: EntryStatus,
  started_at: Schema.NullOr(Timestamp),
  completed_at: Schema.NullOr(Timestamp),
  exit_code: Schema.NullOr(Schema.Int),
  summary: NullableString,
  log_path: NullableString,
  error_file: NullableString,
  sub_run_id: NullableString,
  /** DECISIONS B-1: attempts made so far; present only for stages with a retry policy. */
  attempts: Schema.optional(Schema.Int),
  /** DECISIONS B-2: the ids this stage waits for; present only when the pipeline is a graph. */
  needs: Schema.optional(Schema.Array(Schema.String)),
  /** Issue 18: present only for stages a remote executor ran. */
  remote: Schema.optional(RemoteExecution),
  /** DECISIONS B-5: present only for stages that declare `cache` and ran with the cache on. */
  cache: Schema.optional(CacheOutcome)
})
export type CommandEntry = typeof CommandEntry.Type

/** MAN-4 */
export const ChildRun = Schema.Struct({
  run_id: Schema.String,
  pipeline_id: Schema.String,
  status: RunStatus,
  manifest: Schema.String
})
export type ChildRun = typeof ChildRun.Type

/** One entry of the manifest's `resume_events[]` (RUN-9): when a resume happened, who asked, why, and its outcome. */
export const ResumeEvent = Schema.Struct({
  timestamp: Timestamp,
  actor: Schema.String,
  reason: Schema.String,
  outcome: Schema.Literal("accepted", "blocked"),
  detail: Schema.optional(Schema.String)
})


/**
 * The manifest as `status` reads it: the fields it prints (CLI-7) and needs for staleness (D-9).
 * Every CliManifest is one (the compiler checks it: `asStatusManifest` in Manifest.ts); other keys
 * are ignored.
 */
export const StatusManifest = Schema.Struct({
  // Printed by status and in its resume hint: refused unless the id rules (ID-1) accept them.
  task_id: RecordedId("task"),
  run_id: RecordedId("run"),
  status: RunStatus,
  status_detail: NullableString,
  started_at: Timestamp,
  completed_at: Schema.NullOr(Timestamp),
  heartbeat_at: Timestamp,
  heartbeat_stale_after_seconds: Schema.Number,
  artifact_root: Schema.String,
  log_path: Schema.String,
  resume_events: Schema.Array(ResumeEvent),
  commands: Schema.Array(CommandEntry),
  child_runs: Schema.Array(ChildRun),
  execution_mode: Schema.optional(Schema.Literal("mcp", "cloud")),
  cloud_fallback_reason: Schema.optional(NullableString),
  // A child run's (RUN-7): its stale hint names the parent to resume. `--parent-run` is recorded as
  // given (ID-3), so the parent's id is checked where it is printed, not here.
  parent_run_id: Schema.optional(NullableString),
  parent_stage_id: Schema.optional(Schema.String)
})
export type StatusManifest = typeof StatusManifest.Type

/**
 * DECISIONS D-9: a run that is not finished and whose heartbeat is older than
 * `heartbeat_stale_after_seconds` has probably lost its orchestrator.
 */
export const isStale = (manifest: StatusManifest, nowMs: number): boolean =>
  !isTerminal(manifest.status) && !hasFreshHeartbeat(manifest, nowMs)

/** The time since the run's last heartbeat. */
export const heartbeatAgeMs = (manifest: StatusManifest, nowMs: number): number => nowMs - Date.parse(manifest.heartbeat_at)

/** The last heartbeat is within `heartbeat_stale_after_seconds`, whether or not the run has finished. */
export const hasFreshHeartbeat = (manifest: StatusManifest, nowMs: number): boolean =>
  heartbeatAgeMs(manifest, nowMs) <= manifest.heartbeat_stale_after_seconds * 1000

/** Who is writing a run: `.owner.json` in the run folder, so a second orchestrator can tell (D-7). */
export const RunOwner = Schema.Struct({
  pid: Schema.Int,
  host: Schema.String,
  since: Schema.String,
  /**
   * When the process `pid` started (`Host.startTimeOf`), so a takeover can tell it from a later
   * process given the same pid; absent where the OS does not tell, and in records of earlier versions.
   */
  started: Schema.optional(Schema.String),
  /** The running stage's process (and process group), so a takeover can stop what a crash left running. */
  stage_pid: Schema.optional(Schema.Int),
  /**
   * The process groups of every stage running when it was written (a graph runs several at once;
   * `stage_pid` is the last one started). Records of earlier versions have `stage_pid` only.
   */
  stage_pids: Schema.optional(Schema.Array(Schema.Int))
})
export type RunOwner = typeof RunOwner.Type
