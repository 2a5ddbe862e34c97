/**
 * Reads metrics.json on from where the running totals stop and folds in the lines added since
 * (MET-3 without re-reading history). The lines are split on bytes, so each one's offsets are exact;
 * a last line without its newline (an append cut short) counts for this aggregation, as the
 * whole-file read counted it, but is not folded into the totals kept: the next run reads it again,
 * with whatever was appended to it.
 */
import { Effect, Either, Option, Schema, Stream } from "effect"
import type { FileAccessError } from "../../domain/FileErrors.js"
import { AggregatedLine } from "../../domain/Metrics.js"
import { emptyTotals, foldLine, MetricsTotals, type ReadLine } from "../../domain/MetricsTotals.js"
import type { FileBackend } from "./runReading.js"
import { concatBytes } from "../../domain/Bytes.js"

const decodeLine = Schema.decodeUnknownEither(Schema.parseJson(AggregatedLine))
const decodeTotals = Schema.decodeUnknownOption(Schema.parseJson(MetricsTotals))
const encodeTotals = Schema.encodeSync(Schema.parseJson(MetricsTotals))

const newline = 0x0a

const decoder = new TextDecoder()

const lineOf = (bytes: Uint8Array, start: number, end: number): ReadLine => {
  const raw = decoder.decode(bytes)
  const text = raw.endsWith("\r") ? raw.slice(0, -1) : raw
  const decoded = text.trim().length === 0 ? undefined : Either.getOrUndefined(decodeLine(text))
  return { text, start, end, decoded }
}


export interface FoldedTotals {
  /** Whole lines only: what is kept for the next run. */
  readonly kept: MetricsTotals
  /** With an unfinished last line, if any: what this aggregation reports. */
  readonly reported: MetricsTotals
}

/**
 * Folds the lines of `file` into `start`. With `verify`, reading begins at the last line `start`
 * folded, which must still be there unchanged (metrics.json is append-only); otherwise (a rewritten
 * or truncated file) the result is none, and the caller folds the whole file from the empty totals.
 */
const foldFile = (files: FileBackend, file: string, start: MetricsTotals, verify: boolean) =>
  Effect.gen(function*() {
    let totals = start
    let position = verify ? start.last_line_start : 0
    let pending: Array<Uint8Array> = []
    let verified = !verify
    let valid = true
    const take = (line: ReadLine) => {
      if (verified) {
        totals = foldLine(totals, line)
        return
      }
      verified = true
      valid = line.text === start.last_line && line.start === start.last_line_start && line.end === start.offset
    }
    yield* Stream.runForEachWhile(files.readBytes(file, position), (chunk) =>
      Effect.sync(() => {
        let from = 0
        let at = chunk.indexOf(newline, from)
        while (at !== -1 && valid) {
          const bytes = concatBytes([...pending, chunk.subarray(from, at)])
          pending = []
          const lineStart = position
          position += bytes.length + 1
          take(lineOf(bytes, lineStart, position))
          from = at + 1
          at = chunk.indexOf(newline, from)
        }
        if (from < chunk.length) pending.push(chunk.slice(from))
        return valid
      }))
    const rest = concatBytes(pending)
    if (!valid || !verified) return Option.none<FoldedTotals>()
    const reported = rest.length === 0 ? totals : foldLine(totals, lineOf(rest, position, position + rest.length))
    return Option.some<FoldedTotals>({ kept: totals, reported })
  })

/**
 * The totals of `file` (metrics.json): from `stored` on when it is still valid for the file, else
 * from its first line.
 */
export const foldMetricsFile = (
  files: FileBackend,
  file: string,
  stored: MetricsTotals | undefined
): Effect.Effect<FoldedTotals, FileAccessError> =>
  Effect.gen(function*() {
    if (stored !== undefined && stored.offset > 0) {
      const resumed = yield* foldFile(files, file, stored, true)
      if (Option.isSome(resumed)) return resumed.value
    }
    const whole = yield* foldFile(files, file, emptyTotals, false)
    return Option.getOrElse(whole, () => ({ kept: emptyTotals, reported: emptyTotals }))
  })

/** The stored totals; undefined when missing, damaged or of another version (then recomputed). */
export const readTotals = (files: FileBackend, file: string) =>
  Effect.map(files.readText(file), (text) => (text === undefined ? undefined : Option.getOrUndefined(decodeTotals(text))))

export const totalsText = (totals: MetricsTotals) => `${encodeTotals(totals)}\n`
