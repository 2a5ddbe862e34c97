/**
 * Task and run identifiers (SPEC ID-1, ID-2, ID-5; DECISIONS D-3).
 *
 * Ids become path segments under `.runs/`, so the sanitiser rejects anything that could escape the
 * runs folder or that Windows cannot store. Valid ids are kept exactly as given (no trim, no lower-case).
 */
import { DateTime, Either, Option, Schema } from "effect"
import { utf8Length } from "./Bytes.js"

/** Which kind of id a check is about; error messages name it (`Invalid task ID ...`). */
export type IdLabel = "task" | "run"

const reservedCharacters = new Set(["<", ">", ":", "\"", "|", "?", "*"])

/** How to fix an id, appended to every id error so the user knows what is accepted. */
export const idFixHint = "Use letters, digits, '-', '_' or '.', not starting with '.' or '-'."

/**
 * The ID-1 checks, in order; returns the reason of the first failure, or undefined for a valid id.
 * The reason is the text after `Invalid <label> ID "<v>": `.
 */
export const idProblem = (value: string): string | undefined => {
  if (value.length === 0) return "value must be a non-empty string."
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0
    if (code <= 31 || code === 127) return "control characters are not allowed."
    if (reservedCharacters.has(char)) return `character "${char}" is not allowed.`
  }
  // Rule 4 of the original (`..` is a traversal) cannot fire after this one, so it is not repeated.
  if (value.startsWith(".")) return "leading dots are not allowed."
  // `.runs/-x` would be read as an option by every tool given it (`rm -x`, `ls .runs/-x`).
  if (value.startsWith("-")) return "a leading '-' is not allowed (tools would read it as an option)."
  if (value.includes("/") || value.includes("\\")) return "slashes are not allowed."
  return storageProblem(value)
}

/** Ids are folder names: file systems limit a name to 255 bytes, and a run folder holds longer names. */
export const idMaxBytes = 128

/** Device names Windows reserves whatever the extension (`CON`, `nul.txt`, `COM1`, `LPT¹` ...). */
const windowsReservedName = /^(CON|PRN|AUX|NUL|COM[1-9¹²³]|LPT[1-9¹²³])$/i

/** Checks past ID-1 (DECISIONS, issue 16): names no file system here or on Windows can store. */
const storageProblem = (value: string): string | undefined => {
  const bytes = utf8Length(value)
  if (bytes > idMaxBytes) return `ids are limited to ${idMaxBytes} bytes (UTF-8); this one has ${bytes}.`
  if (value.endsWith(".") || value.endsWith(" ")) return "a trailing dot or space is not allowed (Windows cannot store it)."
  const stem = value.split(".")[0] ?? value
  if (windowsReservedName.test(stem)) return `"${stem}" is a device name Windows reserves.`
  return undefined
}

/** What the runs root keeps beside the task folders (learning snapshots, local-mcp manifests). */
const runsRootFolders = new Set(["learning-snapshots", "local-mcp"])

/**
 * Past ID-1, for task ids only: a task folder sits in the runs root beside what the root keeps for
 * itself, which a task of that name would be mixed with (task `a.lock` was task `a`'s lock file, and
 * every run of `a` found its lock "busy").
 */
const taskIdProblem = (value: string): string | undefined => {
  const common = idProblem(value)
  if (common !== undefined) return common
  if (value.toLowerCase().endsWith(".lock")) {
    const owner = value.slice(0, -".lock".length).replace(/\.experiences$/i, "")
    return `a task id may not end in ".lock": .runs/${value} is task "${owner}"'s lock file.`
  }
  if (runsRootFolders.has(value.toLowerCase())) {
    return `"${value}" is a folder the runs root keeps for itself (.runs/${value.toLowerCase()}).`
  }
  return undefined
}

/** Printable form of an id inside an error message: control characters are shown escaped. */
const printable = (value: string) =>
  JSON.stringify(value).slice(1, -1).replace(/\x7f/g, "\\u007f")

/** The exact ID-1 message for an invalid id. */
export const idMessage = (label: IdLabel, value: string, reason: string) =>
  value.length === 0 ? `Invalid ${label} ID: ${reason}` : `Invalid ${label} ID "${printable(value)}": ${reason}`

/** An id that fails ID-1. `source` names where it came from (an environment variable or a flag). */
export class InvalidId extends Schema.TaggedError<InvalidId>()("InvalidId", {
  label: Schema.Literal("task", "run"),
  value: Schema.String,
  reason: Schema.String,
  source: Schema.optional(Schema.String)
}) {
  override get message() {
    const base = idMessage(this.label, this.value, this.reason)
    const prefixed = this.source === undefined
      ? base
      : `Invalid ${this.source} "${printable(this.value)}": ${base}`
    return `${prefixed} ${idFixHint}`
  }
}

const problemOf = (label: IdLabel) => (label === "task" ? taskIdProblem : idProblem)

const idSchema = (label: IdLabel) =>
  Schema.String.pipe(
    Schema.filter((value) => {
      const reason = problemOf(label)(value)
      return reason === undefined ? true : idMessage(label, value, reason)
    })
  )

/** A task id that passed the ID-1 checks (branded); it names the task's folder under the runs root. */
export const TaskId = idSchema("task").pipe(Schema.brand("TaskId"))
export type TaskId = typeof TaskId.Type
/** A run id that passed the ID-1 checks (branded); it names the run's folder (ID-2 says how a new one is made). */
export const RunId = idSchema("run").pipe(Schema.brand("RunId"))
export type RunId = typeof RunId.Type

/** The most of a value that is no string an id message shows. */
const shownValueLength = 40

/** A value that is no string, as a message shows it: an array or object as JSON (cut), else as JavaScript prints it. */
const shownValue = (value: unknown): string => {
  let shown: string
  try {
    shown = typeof value === "object" ? JSON.stringify(value) ?? String(value) : typeof value === "function" ? "a function" : String(value)
  } catch {
    shown = String(value)
  }
  return shown.length > shownValueLength ? `${shown.slice(0, shownValueLength)}…` : shown
}

/** What a caller without types (the Promise facade from JavaScript) gave instead of a string id. */
const notAString = (value: unknown) => {
  if (value === undefined || value === null) return { value: "", reason: "is missing (a string is required)." }
  const kind = Array.isArray(value) ? "an array" : typeof value === "object" ? "an object" : `a ${typeof value}`
  return { value: shownValue(value), reason: `must be a string, not ${kind}.` }
}

const check = (label: IdLabel, value: string, source: string | undefined): InvalidId | undefined => {
  const { value: shown, reason } = typeof value === "string" ? { value, reason: problemOf(label)(value) } : notAString(value)
  return reason === undefined
    ? undefined
    : new InvalidId({ label, value: shown, reason, ...(source === undefined ? {} : { source }) })
}

/** Validates a task id with ID-1; `source` names the variable or flag it came from. */
export const parseTaskId = (value: string, source?: string): Either.Either<TaskId, InvalidId> => {
  const error = check("task", value, source)
  return error === undefined ? Either.right(TaskId.make(value)) : Either.left(error)
}

/** Validates a run id with ID-1 (ID-3: every run-id-derived path is sanitised first). */
export const parseRunId = (value: string, source?: string): Either.Either<RunId, InvalidId> => {
  const error = check("run", value, source)
  return error === undefined ? Either.right(RunId.make(value)) : Either.left(error)
}

/** The default task when neither `--task` nor `MCP_RUNNER_TASK_ID` is given (ENV-3). */
export const defaultTaskId: TaskId = TaskId.make("0101")

/** ENV-3/ENV-4: `--task` wins, else MCP_RUNNER_TASK_ID, else 0101; a set variable must be valid even when overridden. */
export const resolveTaskId = (envTaskId: string | undefined, flag: string | undefined): Either.Either<TaskId, InvalidId> =>
  Either.flatMap(
    envTaskId === undefined ? Either.right(undefined) : parseTaskId(envTaskId, "MCP_RUNNER_TASK_ID"),
    (fromEnv) => flag === undefined ? Either.right(fromEnv ?? defaultTaskId) : parseTaskId(flag)
  )

/**
 * ID-2: the ISO timestamp with `:` and `.` replaced by `-`, then `-` and 8 lowercase hex digits.
 * `randomHex8` comes from the caller so that this stays pure.
 */
export const makeRunId = (epochMs: number, randomHex8: string): RunId =>
  RunId.make(`${new Date(epochMs).toISOString().replace(/[:.]/g, "-")}-${randomHex8}`)

const runIdShape = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z-[0-9a-f]{8}$/

/** When a run started, read from its id (ID-2, makeRunId's inverse); undefined for an id of another shape. */
export const runStartedMs = (runId: string): number | undefined => {
  const match = runIdShape.exec(runId)
  if (match === null) return undefined
  const [, day, hours, minutes, seconds, millis] = match
  return Option.getOrUndefined(
    Option.map(DateTime.make(`${day}T${hours}:${minutes}:${seconds}.${millis}Z`), DateTime.toEpochMillis)
  )
}

/** ID-5: a file-name-safe slug of a stage id, at most 80 characters, `command` when nothing is left. */
export const slugify = (value: string): string => {
  const slug = value
    .trim()
    .replace(/[^A-Za-z0-9]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 80)
    .replace(/-$/, "")
  return slug.length === 0 ? "command" : slug
}
