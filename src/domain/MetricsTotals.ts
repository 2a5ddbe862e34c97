/**
 * MET-3/MET-5 without re-reading history (issue 19: a run's cost must not grow with the task's
 * runs). The running totals every aggregate is computed from, folded one metrics line at a time and
 * kept beside the aggregates (`metrics/running-totals.json`), with where in metrics.json they stop.
 * Folding a line adds it exactly as the whole-history functions of Metrics.ts count it (sums in the
 * same order from 0, so even the floating-point means are identical); per-epoch.json keeps the few
 * lines that carry a TF-GRPO epoch and is computed by perEpochOf itself. Pure.
 */
import { Schema } from "effect"
import {
  AggregatedLine,
  baselineOf,
  completenessOf,
  mttrDeltaOf,
  perEpochOf,
  postRolloutOf,
  taskStateOf
} from "./Metrics.js"

const Count = Schema.Int
const Sum = Schema.Number

/** Bumped whenever what is folded changes: totals of another version are recomputed from scratch. */
const totalsVersion = 1

export const MetricsTotals = Schema.Struct({
  version: Schema.Literal(totalsVersion),
  /** Bytes of metrics.json folded in: whole lines only. */
  offset: Schema.Int,
  /** Where the last folded line starts, and its text: metrics.json must still hold it there. */
  last_line_start: Schema.Int,
  last_line: Schema.String,
  /** Lines seen (blank ones included), for the line numbers of damaged ones. */
  lines_seen: Count,
  damaged: Count,
  /** The first five damaged lines' numbers, as the warning names them. */
  damaged_lines: Schema.Array(Count),
  baseline: Schema.NullOr(Schema.Struct({
    run_id: Schema.String,
    recorded_at: Schema.String,
    status: Schema.String,
    duration_seconds: Schema.NullOr(Schema.Number),
    completion_rate: Schema.Number
  })),
  runs: Count,
  succeeded: Count,
  missing: Schema.Struct({ instance_stats: Count, privacy_events: Count, control_plane_status: Count }),
  /** The decoded lines with a numeric TF-GRPO epoch, in order. */
  epoch_lines: Schema.Array(AggregatedLine),
  durations: Schema.Struct({ first: Schema.NullOr(Schema.Number), sum: Sum, count: Count }),
  learning: Schema.Struct({
    validated: Count,
    snapshot_failed: Count,
    stalled_snapshot: Count,
    needs_manual_scenario: Count,
    rejections: Sum,
    latency_sum: Sum,
    latency_count: Count,
    regressions: Sum,
    promoted: Sum,
    deprecated: Sum,
    candidates: Sum
  })
})
export type MetricsTotals = typeof MetricsTotals.Type

export const emptyTotals: MetricsTotals = {
  version: totalsVersion,
  offset: 0,
  last_line_start: 0,
  last_line: "",
  lines_seen: 0,
  damaged: 0,
  damaged_lines: [],
  baseline: null,
  runs: 0,
  succeeded: 0,
  missing: { instance_stats: 0, privacy_events: 0, control_plane_status: 0 },
  epoch_lines: [],
  durations: { first: null, sum: 0, count: 0 },
  learning: {
    validated: 0,
    snapshot_failed: 0,
    stalled_snapshot: 0,
    needs_manual_scenario: 0,
    rejections: 0,
    latency_sum: 0,
    latency_count: 0,
    regressions: 0,
    promoted: 0,
    deprecated: 0,
    candidates: 0
  }
}

/** Same test as completenessOf's. */
const isMissing = (value: unknown) =>
  value === undefined || value === null || value === "unknown" || (Array.isArray(value) && value.length === 0)

const add = (total: number, value: number | null | undefined) => total + (value ?? 0)
const one = (condition: boolean) => (condition ? 1 : 0)

/** One line of metrics.json as it was read: its text, its bytes' span, and what it decoded to. */
export interface ReadLine {
  readonly text: string
  readonly start: number
  readonly end: number
  /** The decoded line; undefined when blank or damaged. */
  readonly decoded: AggregatedLine | undefined
}

/** `totals` with one more line of metrics.json folded in (`end` is the offset after its newline). */
export const foldLine = (totals: MetricsTotals, line: ReadLine): MetricsTotals => {
  const seen = totals.lines_seen + 1
  const positioned = { ...totals, offset: line.end, last_line_start: line.start, last_line: line.text, lines_seen: seen }
  if (line.text.trim().length === 0) return positioned
  const decoded = line.decoded
  if (decoded === undefined) {
    return {
      ...positioned,
      damaged: totals.damaged + 1,
      damaged_lines: totals.damaged_lines.length < 5 ? [...totals.damaged_lines, seen] : totals.damaged_lines
    }
  }
  const { learning, missing } = totals
  const duration = decoded.duration_seconds
  const latency = decoded.learning_review_latency_ms
  const validation = decoded.learning_validation_status
  return {
    ...positioned,
    baseline: totals.baseline ?? baselineOf(decoded),
    runs: totals.runs + 1,
    succeeded: totals.succeeded + one(decoded.status === "succeeded"),
    missing: {
      instance_stats: missing.instance_stats + one(isMissing(decoded.instance_stats)),
      privacy_events: missing.privacy_events + one(isMissing(decoded.privacy_events)),
      control_plane_status: missing.control_plane_status + one(isMissing(decoded.control_plane_status))
    },
    epoch_lines: typeof decoded.tfgrpo_epoch === "number" ? [...totals.epoch_lines, decoded] : totals.epoch_lines,
    durations: typeof duration === "number"
      ? { first: totals.durations.first ?? duration, sum: totals.durations.sum + duration, count: totals.durations.count + 1 }
      : totals.durations,
    learning: {
      validated: learning.validated + one(validation === "validated"),
      snapshot_failed: learning.snapshot_failed + one(validation === "snapshot_failed"),
      stalled_snapshot: learning.stalled_snapshot + one(validation === "stalled_snapshot"),
      needs_manual_scenario: learning.needs_manual_scenario + one(validation === "needs_manual_scenario"),
      rejections: add(learning.rejections, decoded.learning_review_rejections),
      latency_sum: typeof latency === "number" ? learning.latency_sum + latency : learning.latency_sum,
      latency_count: learning.latency_count + one(typeof latency === "number"),
      regressions: add(learning.regressions, decoded.learning_regressions_detected),
      promoted: add(learning.promoted, decoded.learning_pattern_promoted),
      deprecated: add(learning.deprecated, decoded.learning_pattern_deprecated),
      candidates: add(learning.candidates, decoded.learning_throughput_candidates)
    }
  }
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits

/**
 * Every aggregate file's content from the totals, equal to what the whole-history functions give
 * for the same lines (test/MetricsTotals.test.ts); undefined before the first valid line.
 */
export const aggregatesOf = (totals: MetricsTotals, updatedAt: string) => {
  const baseline = totals.baseline
  if (baseline === null) return undefined
  const completionRate = totals.runs === 0 ? 0 : round(totals.succeeded / totals.runs, 4)
  const missingCounts = { ...totals.missing }
  const missingTotal = missingCounts.instance_stats + missingCounts.privacy_events + missingCounts.control_plane_status
  const missingRatio = round(totals.runs === 0 ? 0 : missingTotal / (totals.runs * 3), 4)
  const mttrBaseline = totals.durations.first ?? 0
  const current = totals.durations.count === 0 ? 0 : totals.durations.sum / totals.durations.count
  const { learning } = totals
  const alerts = {
    snapshot_failed: learning.snapshot_failed,
    stalled_snapshot: learning.stalled_snapshot,
    needs_manual_scenario: learning.needs_manual_scenario
  }
  return {
    baseline,
    postRollout: {
      total_runs: totals.runs,
      succeeded_runs: totals.succeeded,
      completion_rate: completionRate,
      meets_threshold: completionRate >= 0.95,
      updated_at: updatedAt
    } satisfies ReturnType<typeof postRolloutOf>,
    completeness: {
      checked_fields: ["instance_stats", "privacy_events", "control_plane_status"],
      missing_counts: missingCounts,
      missing_field_ratio: missingRatio,
      meets_threshold: missingRatio < 0.05,
      updated_at: updatedAt
    } satisfies ReturnType<typeof completenessOf>,
    perEpoch: perEpochOf(totals.epoch_lines, updatedAt),
    mttrDelta: {
      baseline_mttr_seconds: round(mttrBaseline, 3),
      current_mttr_seconds: round(current, 3),
      reduction_percent: mttrBaseline <= 0 ? 0 : round(((mttrBaseline - current) / mttrBaseline) * 100, 2),
      meets_threshold: mttrBaseline <= 0 || current <= 0.6 * mttrBaseline,
      updated_at: updatedAt
    } satisfies ReturnType<typeof mttrDeltaOf>,
    taskState: {
      updated_at: updatedAt,
      safety: {
        validation: {
          passed: learning.validated,
          failed: alerts.snapshot_failed,
          stalled: alerts.stalled_snapshot,
          manual: alerts.needs_manual_scenario
        },
        reviewer: {
          rejections: learning.rejections,
          average_latency_ms: learning.latency_count === 0 ? 0 : round(learning.latency_sum / learning.latency_count, 2)
        },
        regression_detection: { detected: learning.regressions },
        pattern_hygiene: { promoted: learning.promoted, deprecated: learning.deprecated }
      },
      throughput: { candidates: learning.candidates },
      alerts: { total: alerts.snapshot_failed + alerts.stalled_snapshot + alerts.needs_manual_scenario, ...alerts }
    } satisfies ReturnType<typeof taskStateOf>
  }
}
