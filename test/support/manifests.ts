/** A `queued` manifest as the engine bootstraps it (MAN-1), for run-store tests. */
import type { CliManifest, CommandEntry } from "../../src/domain/Manifest.js"
import type { RunLayout } from "../../src/domain/RunLayout.js"

export const queuedManifest = (
  layout: RunLayout,
  taskId: string,
  runId: string,
  startedAt: string
): CliManifest => ({
  version: 1,
  task_id: taskId,
  task_slug: taskId,
  run_id: runId,
  parent_run_id: null,
  pipeline_id: "trivial",
  pipeline_title: "Trivial Pipeline",
  runner: "codex-cli",
  approval_policy: null,
  status: "queued",
  status_detail: null,
  started_at: startedAt,
  completed_at: null,
  updated_at: startedAt,
  heartbeat_at: startedAt,
  heartbeat_interval_seconds: 5,
  heartbeat_stale_after_seconds: 30,
  artifact_root: layout.relative(layout.runDir),
  compat_path: layout.relative(layout.compatDir),
  log_path: layout.relative(layout.runnerLog),
  summary: null,
  metrics_recorded: false,
  resume_token: "ab".repeat(32),
  resume_events: [],
  approvals: [],
  commands: [{ ...commandEntry(1, "hello", "echo hello", "pending"), title: "Say hello" }],
  child_runs: [],
  run_summary_path: null,
  plan_target_id: "trivial:hello",
  instructions_hash: null,
  instructions_sources: [],
  guardrails_required: true
})

const exactStart = "2026-12-07T00:00:00.000Z"

/** A command stage's manifest entry in `status`; it started at `started` unless it is pending. */
export const commandEntry = (
  index: number,
  id: string,
  command: string,
  status: CommandEntry["status"],
  started: string = exactStart
): CommandEntry => ({
  index,
  id,
  title: id,
  command,
  kind: "command",
  status,
  started_at: status === "pending" ? null : started,
  completed_at: null,
  exit_code: null,
  summary: null,
  log_path: null,
  error_file: null,
  sub_run_id: null
})

/** Run `run-1` of task `demo`, in progress since `started`, with these stages (the domain's exact tests). */
export const runManifest = (
  commands: ReadonlyArray<CommandEntry>,
  overrides: Partial<CliManifest> = {},
  started: string = exactStart
): CliManifest => ({
  version: 1,
  task_id: "demo",
  task_slug: "demo",
  run_id: "run-1",
  parent_run_id: null,
  pipeline_id: "p",
  pipeline_title: "P",
  runner: "codex-cli",
  approval_policy: null,
  status: "in_progress",
  status_detail: null,
  started_at: started,
  completed_at: null,
  updated_at: started,
  heartbeat_at: started,
  heartbeat_interval_seconds: 5,
  heartbeat_stale_after_seconds: 30,
  artifact_root: ".runs/demo/cli/run-1",
  compat_path: ".runs/demo/mcp/run-1",
  log_path: ".runs/demo/cli/run-1/runner.ndjson",
  summary: null,
  metrics_recorded: false,
  resume_token: "ab".repeat(32),
  resume_events: [],
  approvals: [],
  commands,
  child_runs: [],
  run_summary_path: null,
  plan_target_id: null,
  instructions_hash: null,
  instructions_sources: [],
  guardrails_required: true,
  ...overrides
})
