/**
 * The events a run publishes on the EventBus (SPEC EVT-1, EVT-2). In memory only: subscribers that
 * need a record (persistence, cloud sync) write their own. Every event names its task and run.
 */
import type { CommandEntry, RunStatus } from "./Manifest.js"
import type { PlanResult } from "./Plan.js"
import type { BuildResult, ReviewResult, RunSummary, TestResult } from "./RunSummary.js"

interface RunEventBase {
  readonly taskId: string
  readonly runId: string
  /** ISO-8601 UTC. */
  readonly timestamp: string
}

/** EVT-1: the planner's result (a planner failure publishes the synthesized empty plan, TM-1). */
export interface PlanCompleted extends RunEventBase {
  readonly type: "plan:completed"
  readonly plan: PlanResult
}

/** EVT-1: the builder's result for a subtask. */
export interface BuildCompleted extends RunEventBase {
  readonly type: "build:completed"
  readonly build: BuildResult
}

/** EVT-1: the tester's result, with the build it tested. */
export interface TestCompleted extends RunEventBase {
  readonly type: "test:completed"
  readonly build: BuildResult
  readonly test: TestResult
}

/** EVT-1: the reviewer's result. */
export interface ReviewCompleted extends RunEventBase {
  readonly type: "review:completed"
  readonly review: ReviewResult
}

/** EVT-2: the pipeline run behind a summary, as `run:completed` names it (paths repo-relative). */
export interface CompletedRunDetails {
  readonly pipelineId: string
  readonly status: RunStatus
  readonly manifestPath: string
  readonly runSummaryPath: string
  readonly metricsPath: string
}

/**
 * EVT-1: exactly one per TaskManager execute; the payload is the (enriched) run summary, plus the
 * pipeline run's details (EVT-2) when the builder ran one (always, with the CLI's agents).
 */
export interface RunCompleted extends RunEventBase, Partial<CompletedRunDetails> {
  readonly type: "run:completed"
  readonly summary: RunSummary
}

/** EVT-2: the pipeline started executing; published after the `in_progress` manifest is written. */
export interface RunStarted extends RunEventBase {
  readonly type: "run:started"
  readonly pipelineId: string
  readonly pipelineTitle: string
  /** Repo-relative, as in the manifest. */
  readonly manifestPath: string
  readonly logPath: string
  readonly status: RunStatus
  readonly stages: ReadonlyArray<StageView>
}

/** EVT-2: a stage as `run:started` lists it (camelCase of its manifest entry). */
export interface StageView {
  readonly index: number
  readonly id: string
  readonly title: string
  readonly kind: "command" | "subpipeline"
  readonly status: CommandEntry["status"]
  readonly summary: string | null
  readonly exitCode: number | null
  /** The stage's log (repo-relative), once it has one. */
  readonly logPath: string | null
  readonly subRunId: string | null
}

/** EVT-2: a stage's entry went `running`; published after that manifest write. */
export interface StageStarted extends RunEventBase {
  readonly type: "stage:started"
  readonly stageId: string
  readonly stageIndex: number
  readonly title: string
  readonly kind: "command" | "subpipeline"
  readonly status: CommandEntry["status"]
  /** The stage's log (repo-relative), as recorded in its entry. */
  readonly logPath: string | null
}

/** EVT-2: a stage's outcome was recorded; published after that manifest write. */
export interface StageCompleted extends RunEventBase {
  readonly type: "stage:completed"
  readonly stageId: string
  readonly stageIndex: number
  readonly title: string
  readonly kind: "command" | "subpipeline"
  readonly status: CommandEntry["status"]
  readonly exitCode: number | null
  readonly summary: string | null
  readonly logPath: string | null
  readonly subRunId: string | null
}

/** EVT-2: the run stopped at a failed stage; published after that stage's stage:completed. */
export interface RunError extends RunEventBase {
  readonly type: "run:error"
  readonly pipelineId: string
  readonly stageId: string
  /** The stage's recorded summary (privacy-guarded like the manifest). */
  readonly message: string
}

/**
 * EVT-2: one command stage's process attempts: `started` per attempt, `retry` when a failed attempt
 * will be tried again, then `succeeded` or `failed` once. Output itself is not an event: it streams to
 * the stage log (so a slow subscriber never holds a run's output in memory).
 */
export interface ToolCall extends RunEventBase {
  readonly type: "tool:call"
  readonly stageId: string
  readonly stageIndex: number
  readonly toolName: "exec"
  readonly status: "started" | "retry" | "succeeded" | "failed"
  readonly message: string
  readonly attempt: number
}

/**
 * EVT-2: a command stage's output as it arrives, after the privacy guard (what its log holds). Lossy
 * by design: it travels on the bus's bounded log channel (see EventBus), so a subscriber that falls
 * behind loses the oldest chunks, never the run's memory. The stage log is the complete record.
 */
export interface LogEvent extends RunEventBase {
  readonly type: "log"
  readonly stageId: string
  readonly stageIndex: number
  /** stderr → error, stdout → info. */
  readonly level: "info" | "error"
  /** The chunk's text (UTF-8; a character split across chunks is kept whole in the later one). */
  readonly message: string
  readonly source: "stdout" | "stderr"
}

/** Every event a run publishes on the EventBus (EVT-1, EVT-2), told apart by `type`. */
export type OrchestratorEvent =
  | PlanCompleted
  | BuildCompleted
  | TestCompleted
  | ReviewCompleted
  | RunCompleted
  | RunStarted
  | StageStarted
  | StageCompleted
  | RunError
  | ToolCall
  | LogEvent

/** The name of an event (`plan:completed`, `stage:started`, `log`, ...). */
export type OrchestratorEventType = OrchestratorEvent["type"]

/** The event with the given name: `EventOfType<"run:completed">` is RunCompleted. */
export type EventOfType<T extends OrchestratorEventType> = Extract<OrchestratorEvent, { readonly type: T }>

/** Every event name, once each, for code that subscribes to or checks all of them. */
export const orchestratorEventTypes: ReadonlyArray<OrchestratorEventType> = [
  "plan:completed",
  "build:completed",
  "test:completed",
  "review:completed",
  "run:completed",
  "run:started",
  "stage:started",
  "stage:completed",
  "run:error",
  "tool:call",
  "log"
]
