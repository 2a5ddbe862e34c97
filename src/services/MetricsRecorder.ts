import { Context, type Effect } from "effect"
import type { FileAccessError } from "../domain/FileErrors.js"
import type { MetricsEntry, MetricsExtras } from "../domain/Metrics.js"
import type { RunFiles } from "./RunStore.js"

/** Where a run's metrics line went. */
export type MetricsOutcome =
  | { readonly _tag: "Recorded"; readonly entry: MetricsEntry; readonly metricsPath: string }
  /** The metrics lock stayed busy: the line waits in `metrics.pending/` for the next run to merge (MET-2). */
  | { readonly _tag: "Queued"; readonly entry: MetricsEntry; readonly pendingPath: string }
  /** The run was already recorded, or is not finished (MET-1). */
  | { readonly _tag: "Skipped" }

/**
 * Run metrics (SPEC MET-1..5): one line per finished run in `.runs/<task>/metrics.json`, then the
 * aggregates under `.runs/<task>/metrics/`, `out/<task>/metrics/mttr-delta.json` and
 * `out/<task>/state.json`. Sets the manifest's `metrics_recorded`.
 */
export class MetricsRecorder extends Context.Tag("orchestrator/MetricsRecorder")<
  MetricsRecorder,
  {
    readonly record: (files: RunFiles, extras?: MetricsExtras) => Effect.Effect<MetricsOutcome, FileAccessError>
  }
>() {}
