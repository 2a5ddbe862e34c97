/** Scripted run events for the HUD's tests: a run of named stages, as the engine publishes them. */
import type { OrchestratorEvent, StageView } from "../../src/domain/Events.js"

const base = { taskId: "demo", runId: "run-1" }
const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString()
/** The epoch ms of `at(second)`. */
export const atMs = (second: number) => Date.UTC(2026, 0, 1, 0, 0, second)

const view = (id: string, index: number): StageView => ({
  index,
  id,
  title: id[0]?.toUpperCase() + id.slice(1),
  kind: "command",
  status: "pending",
  summary: null,
  exitCode: null,
  logPath: null,
  subRunId: null
})

export const runStarted = (stages: ReadonlyArray<string>, second = 0, runId = base.runId): OrchestratorEvent => ({
  type: "run:started",
  ...base,
  runId,
  timestamp: at(second),
  pipelineId: "demo",
  pipelineTitle: "Demo",
  manifestPath: ".runs/demo/cli/run-1/manifest.json",
  logPath: ".runs/demo/cli/run-1/runner.ndjson",
  status: "in_progress",
  stages: stages.map((id, i) => view(id, i + 1))
})

export const stageStarted = (id: string, index: number, second: number): OrchestratorEvent => ({
  type: "stage:started",
  ...base,
  timestamp: at(second),
  stageId: id,
  stageIndex: index,
  title: id[0]?.toUpperCase() + id.slice(1),
  kind: "command",
  status: "running",
  logPath: `.runs/demo/cli/run-1/commands/0${index}-${id}.ndjson`
})

export const stageCompleted = (
  id: string,
  index: number,
  second: number,
  status: "succeeded" | "failed" = "succeeded",
  summary: string | null = null
): OrchestratorEvent => ({
  type: "stage:completed",
  ...base,
  timestamp: at(second),
  stageId: id,
  stageIndex: index,
  title: id[0]?.toUpperCase() + id.slice(1),
  kind: "command",
  status,
  exitCode: status === "succeeded" ? 0 : 1,
  summary,
  logPath: `.runs/demo/cli/run-1/commands/0${index}-${id}.ndjson`,
  subRunId: null
})

export const output = (id: string, index: number, message: string, source: "stdout" | "stderr" = "stdout"): OrchestratorEvent => ({
  type: "log",
  ...base,
  timestamp: at(0),
  stageId: id,
  stageIndex: index,
  level: source === "stderr" ? "error" : "info",
  message,
  source
})

export const toolCall = (
  id: string,
  index: number,
  status: "started" | "retry" | "succeeded" | "failed",
  attempt: number,
  second: number,
  message = "",
  delayMs?: number
): OrchestratorEvent => ({
  type: "tool:call",
  ...base,
  timestamp: at(second),
  stageId: id,
  stageIndex: index,
  toolName: "exec",
  status,
  message,
  attempt,
  ...(delayMs === undefined ? {} : { delayMs })
})

export const runError = (id: string, message: string, second: number): OrchestratorEvent => ({
  type: "run:error",
  ...base,
  timestamp: at(second),
  pipelineId: "demo",
  stageId: id,
  message
})

export const runCompleted = (
  status: "succeeded" | "failed",
  second: number,
  privacy?: { readonly redactedFrames: number; readonly blockedFrames: number }
): OrchestratorEvent => ({
  type: "run:completed",
  ...base,
  timestamp: at(second),
  pipelineId: "demo",
  status,
  manifestPath: ".runs/demo/cli/run-1/manifest.json",
  runSummaryPath: ".runs/demo/cli/run-1/run-summary.json",
  metricsPath: ".runs/demo/metrics.json",
  summary: {
    taskId: base.taskId,
    runId: base.runId,
    mode: "mcp",
    plan: { items: [], targetId: null },
    build: { subtaskId: "demo", artifacts: [], mode: "mcp", runId: base.runId, success: status === "succeeded" },
    test: { subtaskId: "demo", success: status === "succeeded", reports: [], runId: base.runId },
    review: { summary: "done", decision: { approved: status === "succeeded" } },
    timestamp: at(second),
    ...(privacy === undefined ? {} : {
      privacy: { mode: "enforce", totalFrames: 10, allowedFrames: 10 - privacy.redactedFrames - privacy.blockedFrames, ...privacy }
    })
  }
})

/** `privacy:redacted`: the stage's counts so far. */
export const redacted = (
  id: string,
  index: number,
  second: number,
  redactedFrames: number,
  blockedFrames = 0,
  runId = base.runId
): OrchestratorEvent => ({
  type: "privacy:redacted",
  ...base,
  runId,
  timestamp: at(second),
  stageId: id,
  stageIndex: index,
  redactedFrames,
  blockedFrames
})
