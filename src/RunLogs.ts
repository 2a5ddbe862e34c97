/**
 * A typed reader for a run's logs (DECISIONS D-11): `runner.ndjson` (every stage's lifecycle) and
 * `commands/NN-<stage>.ndjson` (one stage's lifecycle and output chunks), each a Stream of decoded
 * `RunLog.RunLogEvent` records, one per line, read through the Files service, so the same code reads
 * a run on disk (the production layers) and one in memory (the test kit). A file is streamed, never
 * held whole: a stage that printed gigabytes is read in constant memory.
 *
 * A line that is not a record (a torn write, another version's record) fails the stream with
 * `RunLogLineInvalid`, naming the file and the line, after every record before it was emitted;
 * `readEach` gives each line as an Either instead, for a reader that would rather go on past it.
 */
import { Path } from "@effect/platform"
import { Effect, Either, Option, Schema, Stream } from "effect"
import { type FileAccessError, formatIssues } from "./domain/FileErrors.js"
import type { RunLayout } from "./domain/RunLayout.js"
import { RunLogEvent } from "./domain/RunLog.js"
import { Files } from "./services/Files.js"

/**
 * The file service the reader runs on. App.AppLive and TestKit.AppMemory provide it; to read a run's
 * logs without the app (a tool of one's own), provide `FilesLive` on `NodeContext.layer`.
 */
export { Files }
/** Files on the platform FileSystem (needs `FileSystem` and `Path`, e.g. `NodeContext.layer`). */
export { FilesLive } from "./layers/Files.js"

/** A line of a run log that is not a record: `line` is 1-based, `issues` say what is wrong with it. */
export class RunLogLineInvalid extends Schema.TaggedError<RunLogLineInvalid>()("RunLogLineInvalid", {
  path: Schema.String,
  line: Schema.Int,
  issues: Schema.Array(Schema.String)
}) {
  override get message() {
    return `${this.path}:${this.line} is not a run log record: ${this.issues.join("; ")}`
  }
}

/** A run log that does not exist: the run never got that far, or the path (a stage's index or id) is wrong. */
export class RunLogNotFound extends Schema.TaggedError<RunLogNotFound>()("RunLogNotFound", {
  path: Schema.String
}) {
  override get message() {
    return `No run log at ${this.path}: the run has not written it (yet), or the run or stage is not the one meant.`
  }
}

/** What reading a run log can fail with. */
export type RunLogError = RunLogLineInvalid | RunLogNotFound | FileAccessError

const decodeRecord = Schema.decodeUnknownEither(Schema.parseJson(RunLogEvent), { errors: "all" })

/**
 * Every line of one run log file as a decoded record or the RunLogLineInvalid it is, so a reader may
 * go on past a damaged line (`read` stops there). Blank lines are skipped; line numbers are the file's.
 */
export const readEach = (
  path: string
): Stream.Stream<Either.Either<RunLogEvent, RunLogLineInvalid>, RunLogNotFound | FileAccessError, Files> =>
  Stream.unwrap(Effect.gen(function*() {
    const files = yield* Files
    if ((yield* files.info(path)) === undefined) return yield* new RunLogNotFound({ path })
    return files.readLines(path).pipe(
      Stream.zipWithIndex,
      Stream.filter(([text]) => text.trim().length > 0),
      Stream.map(([text, index]) =>
        Either.mapLeft(decodeRecord(text), (error) => new RunLogLineInvalid({ path, line: index + 1, issues: formatIssues(error) }))
      )
    )
  }))

/** The records of one run log file (the runner log or a stage log), in the order they were written; a damaged line fails the stream. */
export const read = (path: string): Stream.Stream<RunLogEvent, RunLogError, Files> =>
  readEach(path).pipe(Stream.mapEffect((record) => record))

/** `runner.ndjson`: the lifecycle records of every stage of the run, without output chunks (D-11). */
export const runner = (layout: RunLayout): Stream.Stream<RunLogEvent, RunLogError, Files> => read(layout.runnerLog)

/**
 * `commands/NN-<stage>.ndjson`: one stage's lifecycle records and its output as `exec:chunk` records.
 * `index` is the stage's 1-based position in the manifest's `commands` (an entry's `index`).
 */
export const stage = (layout: RunLayout, index: number, stageId: string): Stream.Stream<RunLogEvent, RunLogError, Files> =>
  read(layout.stageLog(index, stageId))

/** The run's per-stage log files (absolute paths), in stage order; none before the first stage started. */
export const stageLogFiles = (layout: RunLayout): Effect.Effect<ReadonlyArray<string>, FileAccessError, Files | Path.Path> =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const names = yield* (yield* Files).list(layout.commandsDir)
    return names.filter((name) => name.endsWith(".ndjson")).map((name) => path.join(layout.commandsDir, name))
  })

/**
 * The bytes a stage printed, from the text `output` gives (LOG-1): a byte that was not UTF-8 is kept
 * in the log as the lone surrogate U+DC00 + byte, and put back here.
 */
export { outputBytes } from "./domain/RunLog.js"

/** A stage's output as it was printed, one stream or both interleaved, from its log's `exec:chunk` records. */
export const output = <E, R>(
  records: Stream.Stream<RunLogEvent, E, R>,
  stream?: "stdout" | "stderr"
): Stream.Stream<string, E, R> =>
  records.pipe(
    Stream.filterMap((record) =>
      record.type === "exec:chunk" && (stream === undefined || record.stream === stream)
        ? Option.some(record.data)
        : Option.none()
    )
  )
