/**
 * A run this process prepared (bootstrapped or reopened), as the agents and the TaskManager see it.
 * Whoever holds a handle can execute and complete that run; nobody can execute a run that was never
 * prepared, because the only way to get a handle is `RunPreparation.bootstrap` or `reopen`.
 */
import type { Effect } from "effect"
import type { ExecutionMode } from "./ExecutionMode.js"
import type { FileAccessError } from "./FileErrors.js"
import type { CliManifest } from "./Manifest.js"
import type { MetricsExtras } from "./Metrics.js"
import type { PipelineDefinition } from "./Pipeline.js"
import type { PlanResult } from "./Plan.js"
import type { RunLayout } from "./RunLayout.js"
import type { RunSummary } from "./RunSummary.js"

/** What executing a run gave. */
export interface ExecutedRun {
  readonly manifest: CliManifest
  readonly layout: RunLayout
  readonly mode: ExecutionMode
  /** Set when the run was meant for `cloud` but no cloud executor is configured (B-3). */
  readonly cloudFallbackReason: string | undefined
}

/** A finished run: its manifest after the summary and metrics were written, and the enriched summary. */
export interface CompletedRun {
  readonly manifest: CliManifest
  readonly layout: RunLayout
  readonly summary: RunSummary
}

/** A prepared run: its ids, paths, pipeline and plan, and the means to execute and complete it. */
export interface RunHandle {
  readonly taskId: string
  readonly taskTitle: string
  readonly runId: string
  readonly layout: RunLayout
  readonly pipeline: PipelineDefinition
  /** The plan the run was prepared with; the CLI's planner hands it out (PLN-4). */
  readonly plan: PlanResult
  /** The run's manifest as this process holds it (the last write, or the one about to be written). */
  readonly manifest: Effect.Effect<CliManifest>
  /**
   * RUN-3: runs the stages that are due and finalizes the manifest. The first call does the work, in
   * its mode; later calls (further subtasks of a group, GRP-3) get the same result.
   */
  readonly execute: (mode: ExecutionMode) => Effect.Effect<ExecutedRun, FileAccessError>
  /** PLN-4: the manifest's `plan_target_id` follows the plan the planner returned, if it changed. */
  readonly recordPlanTarget: (targetId: string | null) => Effect.Effect<void, FileAccessError>
  /**
   * The end of RUN-1: a run never executed is recorded failed, then the enriched summary (TM-7) into
   * `run-summary.json`, learning (D-17), the TF-GRPO experience and metrics (MET-1, D-10).
   */
  readonly complete: (summary: RunSummary, extras?: MetricsExtras) => Effect.Effect<CompletedRun, FileAccessError>
  /**
   * D-8 outside the stage loop: records the run `cancelled` unless it has ended, for an interruption
   * before its first stage starts (planning, admission). Never fails; a failed write is logged.
   */
  readonly cancel: Effect.Effect<void>
}
