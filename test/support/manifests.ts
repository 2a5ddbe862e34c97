/** A `queued` manifest as the engine bootstraps it (MAN-1), for run-store tests. */
import type { CliManifest } from "../../src/domain/Manifest.js"
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
  commands: [{
    index: 1,
    id: "hello",
    title: "Say hello",
    command: "echo hello",
    kind: "command",
    status: "pending",
    started_at: null,
    completed_at: null,
    exit_code: null,
    summary: null,
    log_path: null,
    error_file: null,
    sub_run_id: null
  }],
  child_runs: [],
  run_summary_path: null,
  plan_target_id: "trivial:hello",
  instructions_hash: null,
  instructions_sources: [],
  guardrails_required: true
})
