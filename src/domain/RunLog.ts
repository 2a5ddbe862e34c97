/**
 * Run-log events (SPEC LOG-1, DECISIONS D-11): JSON lines in `runner.ndjson` (lifecycle of all
 * stages) and `commands/<NN>-<slug>.ndjson` (lifecycle plus every output chunk of one stage).
 * Every line carries `timestamp` and the stage's 1-based `index`.
 */
import { Schema } from "effect"
import { concatBytes } from "./Bytes.js"

const base = { timestamp: Schema.String, index: Schema.Int }

/** LOG-1: a stage started; `command` is its shell command. */
export const CommandStart = Schema.Struct({ type: Schema.Literal("command:start"), command: Schema.String, ...base })

/** LOG-1: an attempt of a stage's command began, with its correlation id, working directory and session (EXE-3). */
export const ExecBegin = Schema.Struct({
  type: Schema.Literal("exec:begin"),
  correlation_id: Schema.String,
  attempt: Schema.Int,
  command: Schema.String,
  args: Schema.Array(Schema.String),
  cwd: Schema.String,
  session_id: Schema.String,
  sandbox_state: Schema.String,
  persisted: Schema.Boolean,
  ...base
})

/**
 * LOG-1: one output chunk of an attempt, `data` its text; `sequence` counts across both streams
 * (EXE-4). Stage logs only (D-11). A byte that is not part of valid UTF-8 is kept as the lone
 * surrogate U+DC00 + byte (`\udcff` in the file): `outputBytes` gives the bytes back.
 */
export const ExecChunk = Schema.Struct({
  type: Schema.Literal("exec:chunk"),
  correlation_id: Schema.String,
  attempt: Schema.Int,
  stream: Schema.Literal("stdout", "stderr"),
  sequence: Schema.Int,
  bytes: Schema.Int,
  data: Schema.String,
  ...base
})

/** LOG-1: an attempt ended, with its exit code or signal, duration and status. */
export const ExecEnd = Schema.Struct({
  type: Schema.Literal("exec:end"),
  correlation_id: Schema.String,
  attempt: Schema.Int,
  exit_code: Schema.NullOr(Schema.Int),
  signal: Schema.NullOr(Schema.String),
  duration_ms: Schema.Number,
  /** `skipped`: the stage's `skipExitCode` (the command had nothing to do), as the entry records it. */
  status: Schema.Literal("succeeded", "skipped", "failed"),
  ...base
})

/** LOG-1: a stage ended after its last attempt, with its exit code or signal and its whole duration. */
export const CommandEnd = Schema.Struct({
  type: Schema.Literal("command:end"),
  exit_code: Schema.NullOr(Schema.Int),
  signal: Schema.NullOr(Schema.String),
  duration_ms: Schema.Number,
  ...base
})

/** Another attempt follows after `delay_ms` (RET-1, B-1); `error` says why the last one failed. */
export const ExecRetry = Schema.Struct({
  type: Schema.Literal("exec:retry"),
  correlation_id: Schema.String,
  attempt: Schema.Int,
  delay_ms: Schema.Number,
  sandbox_state: Schema.String,
  error: Schema.String,
  ...base
})

/** A stage that could not be run at all (RUN-5: spawn error, missing cwd, timeout). */
export const CommandError = Schema.Struct({
  type: Schema.Literal("command:error"),
  message: Schema.String,
  ...base
})

/**
 * LOG-1: a chunk's text again, after its `exec:chunk`, when `CODEX_ORCHESTRATOR_EMIT_COMMAND_STREAMS`
 * is on (for readers that want the output without decoding chunks). Stage logs only (D-11).
 */
export const CommandStream = Schema.Struct({
  type: Schema.Literal("command:stdout", "command:stderr"),
  data: Schema.String,
  ...base
})

/** Any line of the runner log or a stage log, told apart by `type`. */
export const RunLogEvent = Schema.Union(
  CommandStart,
  ExecBegin,
  ExecChunk,
  CommandStream,
  ExecRetry,
  ExecEnd,
  CommandEnd,
  CommandError
)
export type RunLogEvent = typeof RunLogEvent.Type

/**
 * One JSON line. The events are plain data (no transformations in their schemas), so JSON.stringify
 * is their encoding; this keeps the per-chunk cost of the output hot path to one stringify.
 */
export const encodeLogLine = (event: RunLogEvent): string => `${JSON.stringify(event)}\n`

/** The fields of an `exec:chunk` line besides its data (written by the stage log's chunk encoder). */
export interface ChunkLine {
  readonly correlationId: string
  readonly attempt: number
  readonly stream: "stdout" | "stderr"
  readonly sequence: number
  readonly timestamp: string
  readonly index: number
}

const textEncoder = new TextEncoder()

/** Whether `code` is an escaped byte (U+DC80..U+DCFF): a low surrogate with no high one before it. */
const isEscapedByte = (data: string, at: number, code: number) =>
  code >= 0xdc80 && code <= 0xdcff && !(at > 0 && (data.charCodeAt(at - 1) & 0xfc00) === 0xd800)

/**
 * The bytes a stage printed, from `exec:chunk` data (LOG-1): the text as UTF-8, each escaped byte put
 * back as it was. No valid UTF-8 decodes to a lone surrogate, so the escape cannot be mistaken for text.
 */
export const outputBytes = (data: string): Uint8Array => {
  const parts: Array<Uint8Array> = []
  let from = 0
  for (let at = 0; at < data.length; at++) {
    const code = data.charCodeAt(at)
    if (!isEscapedByte(data, at, code)) continue
    if (at > from) parts.push(textEncoder.encode(data.slice(from, at)))
    parts.push(Uint8Array.of(code - 0xdc00))
    from = at + 1
  }
  if (from === 0) return textEncoder.encode(data)
  if (from < data.length) parts.push(textEncoder.encode(data.slice(from)))
  return concatBytes(parts)
}
