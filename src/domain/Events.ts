/**
 * The events a run publishes on the EventBus (SPEC EVT-1, EVT-2), as Schemas: the same definitions
 * type the bus, encode `--jsonl` lines and decode them on the other side (a supervising agent, the
 * HUD, a test), so what goes over the wire cannot drift from what the engine publishes. In memory
 * only: subscribers that need a record (persistence, cloud sync) write their own. Every event names
 * its task and run, and is told apart by `type` (the original's names, kept on the wire).
 */
import { Effect, ParseResult, Schema } from "effect"
import { EntryStatus, RunStatus } from "./ManifestStatus.js"
import { PlanResult } from "./Plan.js"
import { BuildResult, ReviewResult, RunSummary, TestResult } from "./RunSummary.js"

/** The fields every event carries. */
const base = {
  taskId: Schema.String,
  runId: Schema.String,
  /** ISO-8601 UTC. */
  timestamp: Schema.String
}

const StageKind = Schema.Literal("command", "subpipeline")

/** EVT-1: the planner's result (a planner failure publishes the synthesized empty plan, TM-1). */
export const PlanCompleted = Schema.Struct({ type: Schema.Literal("plan:completed"), ...base, plan: PlanResult })
export type PlanCompleted = typeof PlanCompleted.Type

/** EVT-1: the builder's result for a subtask. */
export const BuildCompleted = Schema.Struct({ type: Schema.Literal("build:completed"), ...base, build: BuildResult })
export type BuildCompleted = typeof BuildCompleted.Type

/** EVT-1: the tester's result, with the build it tested. */
export const TestCompleted = Schema.Struct({
  type: Schema.Literal("test:completed"),
  ...base,
  build: BuildResult,
  test: TestResult
})
export type TestCompleted = typeof TestCompleted.Type

/** EVT-1: the reviewer's result. */
export const ReviewCompleted = Schema.Struct({ type: Schema.Literal("review:completed"), ...base, review: ReviewResult })
export type ReviewCompleted = typeof ReviewCompleted.Type

/** EVT-2: the pipeline run behind a summary, as `run:completed` names it (paths repo-relative). */
export const CompletedRunDetails = Schema.Struct({
  pipelineId: Schema.String,
  status: RunStatus,
  manifestPath: Schema.String,
  runSummaryPath: Schema.String,
  metricsPath: Schema.String
})
export type CompletedRunDetails = typeof CompletedRunDetails.Type

/**
 * EVT-1: exactly one per TaskManager execute; the payload is the (enriched) run summary, plus the
 * pipeline run's details (EVT-2) when the builder ran one (always, with the CLI's agents).
 */
export const RunCompleted = Schema.Struct({
  type: Schema.Literal("run:completed"),
  ...base,
  summary: RunSummary,
  pipelineId: Schema.optional(Schema.String),
  status: Schema.optional(RunStatus),
  manifestPath: Schema.optional(Schema.String),
  runSummaryPath: Schema.optional(Schema.String),
  metricsPath: Schema.optional(Schema.String)
})
export type RunCompleted = typeof RunCompleted.Type

/** EVT-2: a stage as `run:started` lists it (camelCase of its manifest entry). */
export const StageView = Schema.Struct({
  index: Schema.Int,
  id: Schema.String,
  title: Schema.String,
  kind: StageKind,
  status: EntryStatus,
  summary: Schema.NullOr(Schema.String),
  exitCode: Schema.NullOr(Schema.Int),
  /** The stage's log (repo-relative), once it has one. */
  logPath: Schema.NullOr(Schema.String),
  subRunId: Schema.NullOr(Schema.String)
})
export type StageView = typeof StageView.Type

/**
 * The run's folder and `queued` manifest exist (an addition to EVT-2): from here on the run has a
 * document to show, even if it is cancelled before its stages start (D-2, D-8). Not published on resume.
 */
export const RunCreated = Schema.Struct({
  type: Schema.Literal("run:created"),
  ...base,
  pipelineId: Schema.String,
  /** Repo-relative, as in the manifest. */
  manifestPath: Schema.String
})
export type RunCreated = typeof RunCreated.Type

/** EVT-2: the pipeline started executing; published after the `in_progress` manifest is written. */
export const RunStarted = Schema.Struct({
  type: Schema.Literal("run:started"),
  ...base,
  pipelineId: Schema.String,
  pipelineTitle: Schema.String,
  /** Repo-relative, as in the manifest. */
  manifestPath: Schema.String,
  logPath: Schema.String,
  status: RunStatus,
  stages: Schema.Array(StageView)
})
export type RunStarted = typeof RunStarted.Type

/** The fields both stage events carry. */
const stageFields = {
  stageId: Schema.String,
  stageIndex: Schema.Int,
  title: Schema.String,
  kind: StageKind,
  status: EntryStatus,
  /** The stage's log (repo-relative), as recorded in its entry. */
  logPath: Schema.NullOr(Schema.String)
}

/** EVT-2: a stage's entry went `running`; published after that manifest write. */
export const StageStarted = Schema.Struct({ type: Schema.Literal("stage:started"), ...base, ...stageFields })
export type StageStarted = typeof StageStarted.Type

/** EVT-2: a stage's outcome was recorded; published after that manifest write. */
export const StageCompleted = Schema.Struct({
  type: Schema.Literal("stage:completed"),
  ...base,
  ...stageFields,
  exitCode: Schema.NullOr(Schema.Int),
  summary: Schema.NullOr(Schema.String),
  subRunId: Schema.NullOr(Schema.String)
})
export type StageCompleted = typeof StageCompleted.Type

/** EVT-2: the run stopped at a failed stage; published after that stage's stage:completed. */
export const RunError = Schema.Struct({
  type: Schema.Literal("run:error"),
  ...base,
  pipelineId: Schema.String,
  stageId: Schema.String,
  /** The stage's recorded summary (privacy-guarded like the manifest). */
  message: Schema.String
})
export type RunError = typeof RunError.Type

/**
 * What a `tool:call` reports: an attempt started, will be retried, or the stage's process work ended
 * as its entry records it (`skipped`: its skip exit code, or a failure the stage allows).
 */
export const ToolCallStatus = Schema.Literal("started", "retry", "succeeded", "skipped", "failed")
export type ToolCallStatus = typeof ToolCallStatus.Type

/**
 * EVT-2: one command stage's process attempts: `started` per attempt, `retry` when a failed attempt
 * will be tried again, then `succeeded` or `failed` once. Output itself is not an event: it streams to
 * the stage log (so a slow subscriber never holds a run's output in memory).
 */
export const ToolCall = Schema.Struct({
  type: Schema.Literal("tool:call"),
  ...base,
  stageId: Schema.String,
  stageIndex: Schema.Int,
  toolName: Schema.Literal("exec"),
  status: ToolCallStatus,
  message: Schema.String,
  attempt: Schema.Int,
  /**
   * `retry` only: how long the stage waits before its next attempt (B-1, the `exec:retry` log
   * line's `delay_ms`), so a watcher can count the backoff down without knowing the policy.
   */
  delayMs: Schema.optional(Schema.NonNegativeInt)
})
export type ToolCall = typeof ToolCall.Type

/**
 * EVT-2: a command stage's output as it arrives, after the privacy guard (what its log holds). Lossy
 * by design: it travels on the bus's bounded log channel (see EventBus), so a subscriber that falls
 * behind loses the oldest chunks, never the run's memory. The stage log is the complete record.
 */
export const LogEvent = Schema.Struct({
  type: Schema.Literal("log"),
  ...base,
  stageId: Schema.String,
  stageIndex: Schema.Int,
  /** stderr → error, stdout → info. */
  level: Schema.Literal("info", "error"),
  /** The chunk's text (UTF-8; a character split across chunks is kept whole in the later one). */
  message: Schema.String,
  source: Schema.Literal("stdout", "stderr")
})
export type LogEvent = typeof LogEvent.Type

/**
 * The privacy guard redacted or blocked a command stage's output (enforce mode; shadow mode changes
 * nothing and publishes none): the stage's counts so far, so a watcher sees them while the stage
 * runs rather than in the run's summary. Coalesced: the first redaction is published at once, later
 * ones at most every `privacyEventIntervalMs` while output flows, and the final counts when the
 * stage's process work ends, so a stage printing 100k secrets publishes a handful, not 100k.
 */
export const PrivacyRedacted = Schema.Struct({
  type: Schema.Literal("privacy:redacted"),
  ...base,
  stageId: Schema.String,
  stageIndex: Schema.Int,
  /** Output chunks of this stage (all its attempts) with a secret replaced by [REDACTED]. */
  redactedFrames: Schema.NonNegativeInt,
  /** Output chunks of this stage with private key material blocked. */
  blockedFrames: Schema.NonNegativeInt
})
export type PrivacyRedacted = typeof PrivacyRedacted.Type

/**
 * Issue 18: where a remote stage's attempt runs, published when its runner has started it (again
 * when a lost runner's attempt is delivered to another), after the manifest entry records it.
 */
export const StageRunner = Schema.Struct({
  type: Schema.Literal("stage:runner"),
  ...base,
  stageId: Schema.String,
  stageIndex: Schema.Int,
  attempt: Schema.Int,
  /** The executor's name (`cluster`). */
  executor: Schema.String,
  /** The runner's address (`host:port`) and its machine. */
  runner: Schema.String,
  host: Schema.String
})
export type StageRunner = typeof StageRunner.Type

/** At most one `privacy:redacted` per stage this often while its output flows (the HUD draws ~8 a second). */
export const privacyEventIntervalMs = 250

/** Every event a run publishes on the EventBus (EVT-1, EVT-2), told apart by `type`. */
export const OrchestratorEvent = Schema.Union(
  PlanCompleted,
  BuildCompleted,
  TestCompleted,
  ReviewCompleted,
  RunCompleted,
  RunCreated,
  RunStarted,
  StageStarted,
  StageCompleted,
  RunError,
  ToolCall,
  LogEvent,
  PrivacyRedacted,
  StageRunner
)
export type OrchestratorEvent = typeof OrchestratorEvent.Type

/** The name of an event (`plan:completed`, `stage:started`, `log`, ...). */
export type OrchestratorEventType = OrchestratorEvent["type"]

/** The event with the given name: `EventOfType<"run:completed">` is RunCompleted. */
export type EventOfType<T extends OrchestratorEventType> = Extract<OrchestratorEvent, { readonly type: T }>

/** Every event name, once each, for code that subscribes to or checks all of them. */
export const orchestratorEventTypes: ReadonlyArray<OrchestratorEventType> = OrchestratorEvent.members.map(
  (member) => member.fields.type.literals[0]
)

/** An event as one line of JSON (no newline): what `--jsonl` prints. */
export const OrchestratorEventJson = Schema.parseJson(OrchestratorEvent)

/** Decodes a value into an event (every issue reported); a ParseError names the field that is wrong. */
export const decodeEvent: (input: unknown) => Effect.Effect<OrchestratorEvent, ParseResult.ParseError> = Schema
  .decodeUnknown(OrchestratorEvent, { errors: "all" })

/** Decodes one line of JSON (a `--jsonl` line) into an event. */
export const decodeEventLine: (line: string) => Effect.Effect<OrchestratorEvent, ParseResult.ParseError> = Schema
  .decodeUnknown(OrchestratorEventJson, { errors: "all" })

/** Encodes an event as one line of JSON. Never fails for an event the engine published. */
export const encodeEventLine = (event: OrchestratorEvent): Effect.Effect<string> =>
  Effect.orDie(Schema.encode(OrchestratorEventJson)(event))
