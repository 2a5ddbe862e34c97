/** Folding metrics.json lines (MET-3, MET-5, issue 19) to the exact value: blank and damaged lines (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import type { AggregatedLine } from "../../src/domain/Metrics.js"
import { aggregatesOf, emptyTotals, foldLine, type MetricsTotals } from "../../src/domain/MetricsTotals.js"

/** Lines folded in order: a text alone is blank or damaged, a line is its JSON. */
const fold = (lines: ReadonlyArray<string | AggregatedLine>): MetricsTotals =>
  lines.reduce<{ readonly totals: MetricsTotals; readonly offset: number }>(
    ({ offset, totals }, line) => {
      const text = typeof line === "string" ? line : JSON.stringify(line)
      const decoded = typeof line === "string" ? undefined : line
      return {
        totals: foldLine(totals, { text, start: offset, end: offset + text.length + 1, decoded }),
        offset: offset + text.length + 1
      }
    },
    { totals: emptyTotals, offset: 0 }
  ).totals

/** A run with every completeness field present. */
const run = (i: number, fields: Partial<AggregatedLine> = {}): AggregatedLine => ({
  run_id: `run-${i}`,
  status: "succeeded",
  recorded_at: "2026-12-07T00:00:00.000Z",
  instance_stats: [{ instance_id: "a" }],
  privacy_events: 0,
  control_plane_status: "passed",
  ...fields
})

const runs = (count: number, fields: (i: number) => Partial<AggregatedLine> = () => ({})) =>
  Array.from({ length: count }, (_, i) => run(i, fields(i)))

const aggregates = (lines: ReadonlyArray<AggregatedLine>) => {
  const result = aggregatesOf(fold(lines), "now")
  if (result === undefined) throw new Error("the lines have a run")
  return result
}

describe("foldLine, exactly", () => {
  it("the first five damaged lines are named by number; blank ones are only seen", () => {
    const totals = fold(["{x", " \t", "[]", "{", "", "1", "nope", "{]", "{}x"])
    assert.deepStrictEqual(
      [totals.lines_seen, totals.damaged, totals.damaged_lines, totals.runs],
      [9, 7, [1, 3, 4, 6, 7], 0]
    )
    assert.deepStrictEqual([totals.offset, totals.last_line_start, totals.last_line], [26, 22, "{}x"])
  })
})

describe("the running totals' thresholds, at their edges", () => {
  it("completion: 19 of 20 succeeded is 0.95 and meets it; 18 of 20 does not", () => {
    const rollout = (failed: number) => aggregates(runs(20, (i) => (i < failed ? { status: "failed" } : {}))).postRollout
    assert.deepStrictEqual([rollout(1).completion_rate, rollout(1).meets_threshold], [0.95, true])
    assert.deepStrictEqual([rollout(2).completion_rate, rollout(2).meets_threshold], [0.9, false])
  })

  it("completeness: nothing missing meets it; 3 of 60 fields missing is 0.05 and does not", () => {
    assert.deepStrictEqual(
      [aggregates(runs(20)).completeness.missing_field_ratio, aggregates(runs(20)).completeness.meets_threshold],
      [0, true]
    )
    const gaps = aggregates(runs(20, (i) => (i < 3 ? { control_plane_status: "unknown" } : {}))).completeness
    assert.deepStrictEqual([gaps.missing_field_ratio, gaps.meets_threshold], [0.05, false])
  })

  it("MTTR: met at 0.6 of the first duration or below, and always when the first was 0", () => {
    const mttr = (durations: ReadonlyArray<number>) =>
      aggregates(durations.map((duration, i) => run(i, { duration_seconds: duration }))).mttrDelta
    assert.deepStrictEqual(
      [mttr([10, 2]).current_mttr_seconds, mttr([10, 2]).reduction_percent, mttr([10, 2]).meets_threshold],
      [6, 40, true]
    )
    assert.deepStrictEqual([mttr([10, 1]).meets_threshold, mttr([10, 3]).meets_threshold], [true, false])
    assert.deepStrictEqual([mttr([0, 5]).reduction_percent, mttr([0, 5]).meets_threshold], [0, true])
  })

  it("a run without a latency or an epoch adds nothing to them", () => {
    const totals = fold([run(0), run(1, { learning_review_latency_ms: 120, tfgrpo_epoch: 2 }), run(2, { tfgrpo_epoch: null })])
    assert.deepStrictEqual([totals.learning.latency_sum, totals.learning.latency_count], [120, 1])
    assert.deepStrictEqual(totals.epoch_lines.map((line) => line.run_id), ["run-1"])
  })
})
