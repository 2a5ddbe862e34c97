/**
 * MET-3/MET-5 from running totals (issue 19: history does not slow a run): over a large synthetic
 * history the totals give exactly the aggregates of a recompute from every line, folded at once or
 * run by run through metrics.json, and they fall back to a recompute when the file was not only
 * appended to.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import {
  type AggregatedLine,
  baselineOf,
  completenessOf,
  mttrDeltaOf,
  perEpochOf,
  postRolloutOf,
  taskStateOf
} from "../src/domain/Metrics.js"
import { aggregatesOf, emptyTotals, foldLine } from "../src/domain/MetricsTotals.js"
import { FilesMemory, InMemoryFiles } from "../src/layers/Files.js"
import { foldMetricsFile, readTotals, totalsText } from "../src/layers/internal/metricsTotals.js"
import { Files } from "../src/services/Files.js"

const updatedAt = "2026-12-06T00:00:00.000Z"
const statuses = ["succeeded", "succeeded", "failed", "cancelled", "succeeded"] as const
const validations = ["validated", "snapshot_failed", "stalled_snapshot", "needs_manual_scenario", null, "other"] as const

/** A deterministic, varied history: fractional durations and latencies, gaps, epochs on some runs. */
const historyLine = (i: number): AggregatedLine => ({
  run_id: `run-${i}`,
  status: statuses[i % statuses.length] ?? "succeeded",
  recorded_at: `2026-01-01T00:00:${String(i % 60).padStart(2, "0")}.000Z`,
  ...(i % 7 === 3 ? {} : { duration_seconds: i % 11 === 0 ? null : ((i * 7919) % 1000) / 7.3 }),
  instance_stats: i % 5 === 0 ? [] : i % 13 === 0 ? null : [{ instance_id: `i${i}` }],
  ...(i % 9 === 0 ? {} : { privacy_events: i % 4 }),
  control_plane_status: i % 6 === 0 ? "unknown" : i % 17 === 0 ? null : "passed",
  tfgrpo_epoch: i % 10 === 0 ? (i / 10) % 4 : null,
  learning_validation_status: validations[i % validations.length] ?? null,
  learning_review_rejections: i % 3 === 0 ? null : i % 5,
  learning_review_latency_ms: i % 4 === 0 ? null : ((i * 104729) % 10000) / 3.1,
  learning_regressions_detected: i % 8,
  learning_pattern_promoted: i % 2 === 0 ? 1.5 : null,
  learning_pattern_deprecated: i % 3,
  learning_throughput_candidates: ((i * 31) % 97) / 9
})

const history = (n: number) => Array.from({ length: n }, (_, i) => historyLine(i))

/** What every aggregate is when recomputed from all lines, the whole-history way. */
const recomputed = (lines: ReadonlyArray<AggregatedLine>) => {
  const first = lines[0]
  if (first === undefined) return undefined
  return {
    baseline: baselineOf(first),
    postRollout: postRolloutOf(lines, updatedAt),
    completeness: completenessOf(lines, updatedAt),
    perEpoch: perEpochOf(lines, updatedAt),
    mttrDelta: mttrDeltaOf(lines, updatedAt),
    taskState: taskStateOf(lines, updatedAt)
  }
}

const asLine = (line: AggregatedLine, start: number) => {
  const text = JSON.stringify(line)
  return { text, start, end: start + text.length + 1, decoded: line }
}

/** JSON as the files hold it: the comparison is of what is written, not of object identity. */
const written = (value: unknown): unknown => JSON.parse(JSON.stringify(value))

describe("running totals (MET-3, MET-5)", () => {
  it("20,000 lines folded one by one give exactly the aggregates of a recompute from all lines", () => {
    const lines = history(20_000)
    let offset = 0
    let totals = emptyTotals
    for (const line of lines) {
      const read = asLine(line, offset)
      totals = foldLine(totals, read)
      offset = read.end
    }
    assert.deepStrictEqual(written(aggregatesOf(totals, updatedAt)), written(recomputed(lines)))
    // Spot checks that the history exercises what it should.
    assert.isAbove(recomputed(lines)?.perEpoch?.epochs.length ?? 0, 1)
    assert.notStrictEqual(recomputed(lines)?.mttrDelta.current_mttr_seconds, 0)
    assert.strictEqual(aggregatesOf(emptyTotals, updatedAt), undefined)
  })

  it.effect("run by run through metrics.json, kept between runs, equal a recompute; blank and damaged lines count as before", () =>
    Effect.gen(function*() {
      const files = yield* Files
      const memory = yield* InMemoryFiles
      const file = "/runs/t/metrics.json"
      const totalsFile = "/runs/t/metrics/running-totals.json"
      const lines = history(3_000)
      const valid: Array<AggregatedLine> = []
      let text = ""
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]
        if (line === undefined) continue
        valid.push(line)
        text += `${JSON.stringify(line)}${i % 250 === 7 ? "\r\n" : "\n"}`
        if (i === 40) text += "\n{not json\n"
        if (i === 900) text += "   \n[]\n"
        // A run every 37 lines: the totals are read, folded on and written as MetricsRecorder does.
        if (i % 37 === 0 || i === lines.length - 1) {
          yield* memory.write(file, text)
          const folded = yield* foldMetricsFile(files, file, yield* readTotals(files, totalsFile))
          yield* files.writeAtomic(totalsFile, totalsText(folded.kept))
          assert.deepStrictEqual(written(aggregatesOf(folded.reported, updatedAt)), written(recomputed(valid)), `after line ${i}`)
        }
      }
      const final = yield* readTotals(files, totalsFile)
      assert.strictEqual(final?.damaged, 2)
      assert.deepStrictEqual(final?.damaged_lines, [43, 905])
      assert.strictEqual(final?.offset, new TextEncoder().encode(text).length)
    }).pipe(Effect.provide(FilesMemory)))

  it.effect("an unfinished last line counts now but is read again, whole, by the next run", () =>
    Effect.gen(function*() {
      const files = yield* Files
      const memory = yield* InMemoryFiles
      const file = "/m.json"
      const [a, b, c] = history(3)
      const whole = `${JSON.stringify(a)}\n${JSON.stringify(b)}`
      yield* memory.write(file, whole)
      const first = yield* foldMetricsFile(files, file, undefined)
      assert.strictEqual(first.reported.runs, 2)
      assert.strictEqual(first.kept.runs, 1)
      yield* memory.write(file, `${whole}\n${JSON.stringify(c)}\n`)
      const second = yield* foldMetricsFile(files, file, first.kept)
      assert.strictEqual(second.kept.runs, 3)
      assert.deepStrictEqual(
        written(aggregatesOf(second.kept, updatedAt)),
        written(recomputed([a, b, c].filter((line): line is AggregatedLine => line !== undefined)))
      )
    }).pipe(Effect.provide(FilesMemory)))

  it.effect("totals that do not match metrics.json (rewritten, truncated) are recomputed from its first line", () =>
    Effect.gen(function*() {
      const files = yield* Files
      const memory = yield* InMemoryFiles
      const file = "/m.json"
      const lines = history(50)
      const textOf = (some: ReadonlyArray<AggregatedLine>) => some.map((line) => `${JSON.stringify(line)}\n`).join("")
      yield* memory.write(file, textOf(lines.slice(0, 30)))
      const stored = (yield* foldMetricsFile(files, file, undefined)).kept
      // Rewritten with other lines of the same length: the last folded line is not where it was.
      const others = lines.slice(20, 50)
      yield* memory.write(file, textOf(others))
      const rewritten = yield* foldMetricsFile(files, file, stored)
      assert.deepStrictEqual(written(aggregatesOf(rewritten.reported, updatedAt)), written(recomputed(others)))
      // Truncated below what the totals had read.
      yield* memory.write(file, textOf(lines.slice(0, 10)))
      const truncated = yield* foldMetricsFile(files, file, stored)
      assert.deepStrictEqual(written(aggregatesOf(truncated.reported, updatedAt)), written(recomputed(lines.slice(0, 10))))
      // Damaged totals read as none.
      yield* memory.write("/totals.json", "{\"version\": 1")
      assert.isTrue(Option.isNone(Option.fromNullable(yield* readTotals(files, "/totals.json"))))
    }).pipe(Effect.provide(FilesMemory)))
})
