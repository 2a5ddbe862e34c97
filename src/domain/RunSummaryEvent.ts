/**
 * The last line of a `--jsonl` stream and the whole of `--json` (SPEC EXEC-3): a `run:summary` event
 * that says how the run ended, where its files are, and (for `exec`) how the command ended, what it
 * printed last, and where the run summary was delivered (EXEC-4). A Schema, so a consumer decodes it
 * with the same definition, and one `JsonlLine` union decodes every line a stream has.
 */
import { Effect, type ParseResult, Schema } from "effect"
import { OrchestratorEvent } from "./Events.js"
import { type CliManifest, ToolRun } from "./Manifest.js"
import { EntryStatus, RunStatus } from "./ManifestStatus.js"

/** A delivery that failed for good, after its retries (EXEC-4). */
export const NotificationFailure = Schema.Struct({
  target: Schema.String,
  error: Schema.String,
  attempts: Schema.Int
})
export type NotificationFailure = typeof NotificationFailure.Type

/** Where the summary was to be sent, where it arrived, and what failed (never a reason to fail the run). */
export const NotificationsReport = Schema.Struct({
  targets: Schema.Array(Schema.String),
  delivered: Schema.Array(Schema.String),
  failures: Schema.Array(NotificationFailure)
})
export type NotificationsReport = typeof NotificationsReport.Type

/** No targets: nothing sent, nothing failed. */
export const noNotifications: NotificationsReport = { targets: [], delivered: [], failures: [] }

/** How `exec`'s command ended. */
export const ExecResult = Schema.Struct({
  exitCode: Schema.NullOr(Schema.Int),
  signal: Schema.NullOr(Schema.String),
  durationMs: Schema.NullOr(Schema.Number),
  status: EntryStatus,
  sandboxState: Schema.NullOr(Schema.String),
  correlationId: Schema.NullOr(Schema.String),
  attempts: Schema.Int
})

/** What `exec` ran: the words it was given, the shell line built from them, where, in which session. */
export const ExecCommand = Schema.Struct({
  argv: Schema.Array(Schema.String),
  shell: Schema.String,
  cwd: Schema.NullOr(Schema.String),
  sessionId: Schema.NullOr(Schema.String),
  persisted: Schema.Boolean
})

/** A stage as the summary lists it. */
export const SummaryStage = Schema.Struct({
  id: Schema.String,
  status: EntryStatus,
  exitCode: Schema.NullOr(Schema.Int),
  summary: Schema.NullOr(Schema.String)
})

/** What a finished run reports: status, paths, stages, `exec`'s command and result, deliveries. */
export const RunSummaryPayload = Schema.Struct({
  status: RunStatus,
  run: Schema.Struct({
    id: Schema.String,
    taskId: Schema.String,
    pipelineId: Schema.String,
    /** Repo-relative, as the manifest records paths. */
    manifest: Schema.String,
    artifactRoot: Schema.String,
    summary: Schema.NullOr(Schema.String)
  }),
  stages: Schema.Array(SummaryStage),
  /** `exec` only. */
  result: Schema.optional(ExecResult),
  command: Schema.optional(ExecCommand),
  /** `exec` only: the last bytes of the command's output, after the privacy guard. */
  outputs: Schema.optional(Schema.Struct({ stdout: Schema.String, stderr: Schema.String })),
  logs: Schema.Struct({ runner: Schema.String, command: Schema.optional(Schema.NullOr(Schema.String)) }),
  toolRun: Schema.optional(Schema.NullOr(ToolRun)),
  notifications: NotificationsReport
})
export type RunSummaryPayload = typeof RunSummaryPayload.Type

/** EXEC-3's `run:summary` event: `{type, timestamp, payload}`. */
export const RunSummaryEvent = Schema.Struct({
  type: Schema.Literal("run:summary"),
  /** ISO-8601 UTC. */
  timestamp: Schema.String,
  payload: RunSummaryPayload
})
export type RunSummaryEvent = typeof RunSummaryEvent.Type

/** What `exec` adds to a summary: the command's words and its output tails. */
export interface ExecDetails {
  readonly argv: ReadonlyArray<string>
  readonly shell: string
  readonly outputs: { readonly stdout: string; readonly stderr: string }
}

const durationOf = (startedAt: string | null, completedAt: string | null): number | null =>
  startedAt === null || completedAt === null ? null : Math.max(0, Date.parse(completedAt) - Date.parse(startedAt))

/** `exec`'s part of the summary, from its one stage's entry and tool run. */
const execPart = (manifest: CliManifest, exec: ExecDetails) => {
  const entry = manifest.commands[0]
  const toolRun = manifest.toolRuns?.find((run) => run.metadata.stageId === entry?.id) ?? null
  return {
    result: {
      exitCode: entry?.exit_code ?? null,
      signal: toolRun?.metadata.exec.signal ?? null,
      durationMs: entry === undefined ? null : durationOf(entry.started_at, entry.completed_at),
      status: entry?.status ?? "pending",
      sandboxState: toolRun?.sandboxState ?? null,
      correlationId: toolRun?.metadata.exec.correlationId ?? null,
      attempts: toolRun?.attemptCount ?? entry?.attempts ?? (entry?.started_at === null ? 0 : 1)
    },
    command: {
      argv: exec.argv,
      shell: exec.shell,
      cwd: toolRun?.metadata.exec.cwd ?? null,
      sessionId: toolRun?.metadata.exec.sessionId ?? null,
      persisted: toolRun?.metadata.exec.persisted ?? false
    },
    outputs: exec.outputs,
    toolRun
  }
}

/** The `run:summary` event of a finished run (with `exec`'s details when it was one). */
export const runSummaryEventOf = (
  manifest: CliManifest,
  timestamp: string,
  notifications: NotificationsReport,
  exec?: ExecDetails
): RunSummaryEvent => {
  const part = exec === undefined ? undefined : execPart(manifest, exec)
  return {
    type: "run:summary",
    timestamp,
    payload: {
      status: manifest.status,
      run: {
        id: manifest.run_id,
        taskId: manifest.task_id,
        pipelineId: manifest.pipeline_id,
        manifest: `${manifest.artifact_root}/manifest.json`,
        artifactRoot: manifest.artifact_root,
        summary: manifest.summary
      },
      stages: manifest.commands.map((c) => ({ id: c.id, status: c.status, exitCode: c.exit_code, summary: c.summary })),
      ...(part === undefined ? {} : { result: part.result, command: part.command, outputs: part.outputs, toolRun: part.toolRun }),
      logs: { runner: manifest.log_path, ...(exec === undefined ? {} : { command: manifest.commands[0]?.log_path ?? null }) },
      notifications
    }
  }
}

/** Any line of a `--jsonl` stream: a run event, or the closing `run:summary`. */
export const JsonlLine = Schema.Union(OrchestratorEvent, RunSummaryEvent)
export type JsonlLine = typeof JsonlLine.Type

/** Decodes one `--jsonl` line (every issue reported). */
export const decodeJsonlLine: (line: string) => Effect.Effect<JsonlLine, ParseResult.ParseError> = Schema.decodeUnknown(
  Schema.parseJson(JsonlLine),
  { errors: "all" }
)

/** The summary as JSON: one line, or indented by two spaces (`--json pretty`). */
export const encodeRunSummary = (event: RunSummaryEvent, style: "compact" | "pretty"): Effect.Effect<string> =>
  Effect.orDie(Schema.encode(Schema.parseJson(RunSummaryEvent, style === "pretty" ? { space: 2 } : {}))(event))
