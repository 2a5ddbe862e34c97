/**
 * Run metrics (SPEC MET-1, MET-3, MET-5): one JSON line per finished run in
 * `.runs/<task>/metrics.json`, and the aggregates recomputed from all lines.
 */
import { Schema } from "effect"
import type { LearningSection } from "./LearningRecords.js"
import type { CliManifest } from "./Manifest.js"
import { epochToolTotalsOf } from "./TfgrpoEpochs.js"

const NullableNumber = Schema.NullOr(Schema.Number)
const NullableString = Schema.NullOr(Schema.String)

/** MET-1: one scheduler instance in a metrics line's `instance_stats`: its capability, final status, attempts and recovery events. */
export const MetricsInstanceStat = Schema.Struct({
  instance_id: Schema.String,
  capability: Schema.String,
  status: Schema.String,
  attempts: Schema.Int,
  recovery_events: Schema.Int
})

/** MET-1: one line of metrics.json. */
export const MetricsEntry = Schema.Struct({
  run_id: Schema.String,
  task_id: Schema.String,
  pipeline_id: Schema.String,
  status: Schema.String,
  started_at: Schema.String,
  completed_at: NullableString,
  duration_seconds: NullableNumber,
  commands_passed: Schema.Int,
  commands_failed: Schema.Int,
  guardrails_present: Schema.Boolean,
  recorded_at: Schema.String,
  artifact_path: Schema.String,
  child_runs: Schema.Int,
  control_plane_status: Schema.String,
  scheduler_mode: NullableString,
  instance_stats: Schema.Array(MetricsInstanceStat),
  privacy_mode: NullableString,
  /** Every privacy decision of the run (PRIV-4). */
  privacy_events: Schema.Int,
  handle_count: Schema.Int,
  tfgrpo_epoch: NullableNumber,
  tfgrpo_group_id: NullableString,
  tfgrpo_group_size: NullableNumber,
  tool_calls: Schema.Int,
  token_total: NullableNumber,
  cost_usd: NullableNumber,
  latency_ms: NullableNumber,
  tool_stats: Schema.NullOr(Schema.Array(Schema.Unknown)),
  execution_mode: Schema.optional(NullableString),
  learning_validation_status: NullableString,
  learning_snapshot_status: NullableString,
  learning_scenario_status: NullableString,
  learning_crystalizer_status: NullableString,
  learning_alerts: Schema.Int,
  learning_group_id: NullableString,
  learning_review_rejections: NullableNumber,
  learning_review_latency_ms: NullableNumber,
  learning_regressions_detected: NullableNumber,
  learning_pattern_promoted: NullableNumber,
  learning_pattern_deprecated: NullableNumber,
  learning_throughput_candidates: NullableNumber
})
export type MetricsEntry = typeof MetricsEntry.Type

/**
 * What a metrics line says about the parts of a run that other modules own (the control plane, the
 * scheduler, the learning pipeline). Absent parts are recorded as unknown / null.
 */
export interface MetricsExtras {
  readonly controlPlaneStatus?: string | undefined
  readonly schedulerMode?: string | undefined
  readonly instanceStats?: MetricsEntry["instance_stats"] | undefined
  readonly executionMode?: string | undefined
  readonly learning?: {
    readonly validationStatus: string | null
    readonly snapshotStatus: string | null
    readonly scenarioStatus: string | null
    readonly alerts: number
  } | undefined
}

/** MET-1's learning columns from the manifest's learning section (LRN-7). */
export const learningMetricsOf = (section: LearningSection): NonNullable<MetricsExtras["learning"]> => ({
  validationStatus: section.validation.status,
  snapshotStatus: section.snapshot?.status ?? null,
  scenarioStatus: section.scenario?.status ?? null,
  alerts: section.alerts.length
})

/** MET-1 from a finished manifest. */
export const metricsEntryOf = (manifest: CliManifest, recordedAt: string, extras: MetricsExtras = {}): MetricsEntry => {
  const started = Date.parse(manifest.started_at)
  const completed = manifest.completed_at === null ? Number.NaN : Date.parse(manifest.completed_at)
  const toolRuns = manifest.toolRuns ?? []
  // MET-1 / TFG-2: a TF-GRPO run's context and token counts come from its manifest's tfgrpo section.
  const tfgrpo = manifest.tfgrpo ?? undefined
  return {
    run_id: manifest.run_id,
    task_id: manifest.task_id,
    pipeline_id: manifest.pipeline_id,
    status: manifest.status,
    started_at: manifest.started_at,
    completed_at: manifest.completed_at,
    duration_seconds: Number.isFinite(completed) && Number.isFinite(started) ? (completed - started) / 1000 : null,
    commands_passed: manifest.commands.filter((c) => c.status === "succeeded").length,
    commands_failed: manifest.commands.filter((c) => c.status === "failed").length,
    guardrails_present: manifest.guardrail_status?.present ?? false,
    recorded_at: recordedAt,
    artifact_path: manifest.artifact_root,
    child_runs: manifest.child_runs.length,
    control_plane_status: extras.controlPlaneStatus ?? "unknown",
    scheduler_mode: extras.schedulerMode ?? null,
    instance_stats: extras.instanceStats ?? [],
    privacy_mode: manifest.privacy?.mode ?? null,
    privacy_events: manifest.privacy?.totals.total_frames ?? 0,
    handle_count: (manifest.handles ?? []).length,
    tfgrpo_epoch: tfgrpo?.epoch ?? null,
    tfgrpo_group_id: tfgrpo?.group_id ?? null,
    tfgrpo_group_size: tfgrpo?.group_size ?? null,
    tool_calls: toolRuns.length,
    token_total: tfgrpo?.tool_metrics.token_total ?? null,
    cost_usd: tfgrpo?.tool_metrics.cost_usd ?? null,
    latency_ms: toolRuns.length === 0 ? null : toolRuns.reduce(
      (total, run) => total + Math.max(0, Date.parse(run.completedAt) - Date.parse(run.startedAt)),
      0
    ),
    tool_stats: tfgrpo === undefined ? null : tfgrpo.tool_metrics.per_tool,
    execution_mode: extras.executionMode ?? null,
    learning_validation_status: extras.learning?.validationStatus ?? null,
    learning_snapshot_status: extras.learning?.snapshotStatus ?? null,
    learning_scenario_status: extras.learning?.scenarioStatus ?? null,
    learning_crystalizer_status: null,
    learning_alerts: extras.learning?.alerts ?? 0,
    learning_group_id: null,
    learning_review_rejections: null,
    learning_review_latency_ms: null,
    learning_regressions_detected: null,
    learning_pattern_promoted: null,
    learning_pattern_deprecated: null,
    learning_throughput_candidates: null
  }
}

/**
 * The fields the aggregates read. Lines are decoded with this rather than the full entry so that
 * lines written by other versions (fewer or more fields) still count.
 */
export const AggregatedLine = Schema.Struct({
  run_id: Schema.String,
  status: Schema.String,
  recorded_at: Schema.String,
  duration_seconds: Schema.optional(NullableNumber),
  instance_stats: Schema.optional(Schema.NullOr(Schema.Array(Schema.Unknown))),
  privacy_events: Schema.optional(Schema.Unknown),
  control_plane_status: Schema.optional(NullableString),
  tfgrpo_epoch: Schema.optional(NullableNumber),
  tfgrpo_group_size: Schema.optional(NullableNumber),
  tool_calls: Schema.optional(NullableNumber),
  token_total: Schema.optional(NullableNumber),
  cost_usd: Schema.optional(NullableNumber),
  latency_ms: Schema.optional(NullableNumber),
  tool_stats: Schema.optional(Schema.NullOr(Schema.Array(Schema.Unknown))),
  learning_validation_status: Schema.optional(NullableString),
  learning_review_rejections: Schema.optional(NullableNumber),
  learning_review_latency_ms: Schema.optional(NullableNumber),
  learning_regressions_detected: Schema.optional(NullableNumber),
  learning_pattern_promoted: Schema.optional(NullableNumber),
  learning_pattern_deprecated: Schema.optional(NullableNumber),
  learning_throughput_candidates: Schema.optional(NullableNumber)
})
export type AggregatedLine = typeof AggregatedLine.Type

const ratio = (part: number, whole: number) => whole === 0 ? 0 : part / whole
const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits
const sum = (values: ReadonlyArray<number | null | undefined>) => values.reduce<number>((total, v) => total + (v ?? 0), 0)

/** MET-3 `metrics/baseline.json`: the first run ever recorded; written once. */
export const baselineOf = (first: AggregatedLine) => ({
  run_id: first.run_id,
  recorded_at: first.recorded_at,
  status: first.status,
  duration_seconds: first.duration_seconds ?? null,
  completion_rate: first.status === "succeeded" ? 1 : 0
})

/** MET-3 `metrics/post-rollout.json`. */
export const postRolloutOf = (lines: ReadonlyArray<AggregatedLine>, updatedAt: string) => {
  const succeeded = lines.filter((line) => line.status === "succeeded").length
  const completionRate = round(ratio(succeeded, lines.length), 4)
  return {
    total_runs: lines.length,
    succeeded_runs: succeeded,
    completion_rate: completionRate,
    meets_threshold: completionRate >= 0.95,
    updated_at: updatedAt
  }
}

const checkedFields = ["instance_stats", "privacy_events", "control_plane_status"] as const

/** A field counts as missing when absent, null, an empty list or `unknown`. */
const isMissing = (value: unknown) =>
  value === undefined || value === null || value === "unknown" || (Array.isArray(value) && value.length === 0)

/** MET-3 `metrics/completeness.json`: how often the fields other modules fill are missing. */
export const completenessOf = (lines: ReadonlyArray<AggregatedLine>, updatedAt: string) => {
  const missingCounts = Object.fromEntries(
    checkedFields.map((field) => [field, lines.filter((line) => isMissing(line[field])).length])
  )
  const missingRatio = round(ratio(sum(Object.values(missingCounts)), lines.length * checkedFields.length), 4)
  return {
    checked_fields: [...checkedFields],
    missing_counts: missingCounts,
    missing_field_ratio: missingRatio,
    meets_threshold: missingRatio < 0.05,
    updated_at: updatedAt
  }
}

/** MET-3 `metrics/per-epoch.json`, only when some line has a numeric TF-GRPO epoch. */
export const perEpochOf = (lines: ReadonlyArray<AggregatedLine>, updatedAt: string) => {
  const epochs = new Map<number, Array<AggregatedLine>>()
  for (const line of lines) {
    if (typeof line.tfgrpo_epoch === "number") epochs.set(line.tfgrpo_epoch, [...(epochs.get(line.tfgrpo_epoch) ?? []), line])
  }
  if (epochs.size === 0) return undefined
  return {
    epochs: [...epochs.entries()].sort(([a], [b]) => a - b).map(([epoch, runs]) => {
      const succeeded = runs.filter((line) => line.status === "succeeded").length
      return {
        epoch,
        runs: runs.length,
        succeeded_runs: succeeded,
        completion_rate: round(ratio(succeeded, runs.length), 4),
        ...epochToolTotalsOf(runs)
      }
    }),
    updated_at: updatedAt
  }
}

/** MET-3 `out/<task>/metrics/mttr-delta.json`: the mean run duration against the first run's. */
export const mttrDeltaOf = (lines: ReadonlyArray<AggregatedLine>, updatedAt: string) => {
  const durations = lines.map((line) => line.duration_seconds).filter((d): d is number => typeof d === "number")
  const baseline = durations[0] ?? 0
  const current = durations.length === 0 ? 0 : sum(durations) / durations.length
  return {
    baseline_mttr_seconds: round(baseline, 3),
    current_mttr_seconds: round(current, 3),
    reduction_percent: baseline <= 0 ? 0 : round(((baseline - current) / baseline) * 100, 2),
    meets_threshold: baseline <= 0 || current <= 0.6 * baseline,
    updated_at: updatedAt
  }
}

/** MET-5 `out/<task>/state.json`: the learning pipeline's outcomes, counted over every run. */
export const taskStateOf = (lines: ReadonlyArray<AggregatedLine>, updatedAt: string) => {
  const count = (status: string) => lines.filter((line) => line.learning_validation_status === status).length
  const latencies = lines.map((line) => line.learning_review_latency_ms).filter((v): v is number => typeof v === "number")
  const alerts = {
    snapshot_failed: count("snapshot_failed"),
    stalled_snapshot: count("stalled_snapshot"),
    needs_manual_scenario: count("needs_manual_scenario")
  }
  return {
    updated_at: updatedAt,
    safety: {
      validation: {
        passed: count("validated"),
        failed: alerts.snapshot_failed,
        stalled: alerts.stalled_snapshot,
        manual: alerts.needs_manual_scenario
      },
      reviewer: {
        rejections: sum(lines.map((line) => line.learning_review_rejections)),
        average_latency_ms: latencies.length === 0 ? 0 : round(sum(latencies) / latencies.length, 2)
      },
      regression_detection: { detected: sum(lines.map((line) => line.learning_regressions_detected)) },
      pattern_hygiene: {
        promoted: sum(lines.map((line) => line.learning_pattern_promoted)),
        deprecated: sum(lines.map((line) => line.learning_pattern_deprecated))
      }
    },
    throughput: { candidates: sum(lines.map((line) => line.learning_throughput_candidates)) },
    alerts: { total: alerts.snapshot_failed + alerts.stalled_snapshot + alerts.needs_manual_scenario, ...alerts }
  }
}

/** MET-2: a pending file's name keeps only `[a-zA-Z0-9._-]` of the run id. */
export const pendingFileName = (runId: string, epochMs: number, unique: string) =>
  `${runId.replace(/[^a-zA-Z0-9._-]/g, "_")}-${epochMs}-${unique}.jsonl`
