import { Context, type Effect } from "effect"
import type { ControlPlaneValidationFailed } from "../domain/ControlPlane.js"
import type { ExecutionMode } from "../domain/ExecutionMode.js"
import type { FileAccessError } from "../domain/FileErrors.js"
import type { CliManifest } from "../domain/Manifest.js"
import type { MetricsExtras } from "../domain/Metrics.js"
import type { PipelineDefinition } from "../domain/Pipeline.js"
import type { PlanResult } from "../domain/Plan.js"
import type { RunLayout } from "../domain/RunLayout.js"
import type { RunSummary } from "../domain/RunSummary.js"
import type {
  BadInput,
  PlanRequest,
  PlanView,
  ResumeRequest,
  StartRequest
} from "./RunEngine.js"

/** A run whose folder and manifest exist and that is ready to execute (bootstrapped or reopened). */
export interface PreparedRun {
  readonly taskId: string
  readonly taskTitle: string
  readonly runId: string
  readonly layout: RunLayout
  readonly pipeline: PipelineDefinition
  readonly plan: PlanResult
}

/** What executing a prepared run gave. */
export interface ExecutedRun {
  readonly manifest: CliManifest
  readonly layout: RunLayout
  readonly mode: ExecutionMode
  /** Set when the run was meant for `cloud` but no cloud executor is configured (DECISIONS B-3). */
  readonly cloudFallbackReason: string | undefined
}

/** A finished run: its manifest after the summary and metrics were written, and the summary. */
export interface CompletedRun {
  readonly manifest: CliManifest
  readonly layout: RunLayout
  readonly summary: RunSummary
}

/**
 * The pipeline engine under the TaskManager (SPEC RUN-3..9): prepares runs (bad input writes
 * nothing, D-1), executes their stages once however often the builder asks (GRP-3), and completes
 * them (run summary, metrics). Reading runs is the RunReader's.
 */
export class PipelineRunner extends Context.Tag("orchestrator/PipelineRunner")<
  PipelineRunner,
  {
    readonly plan: (request: PlanRequest) => Effect.Effect<PlanView, BadInput | FileAccessError>
    /**
     * RUN-1 up to execution: everything checked (the TF-GRPO guardrails and the schedule included),
     * the `queued` run folder (LAY-2), the control-plane validation (CP-4) and the scheduler plan
     * (SCH-4). In enforce mode an invalid request fails the run (manifest `failed`).
     */
    readonly bootstrap: (request: StartRequest) => Effect.Effect<PreparedRun, BadInput | ControlPlaneValidationFailed | FileAccessError>
    /** RUN-9 with D-7: token and owner checks, the takeover, the resume event. */
    readonly reopen: (request: ResumeRequest) => Effect.Effect<PreparedRun, BadInput | ControlPlaneValidationFailed | FileAccessError>
    /** A run this process prepared and has not completed yet (the CLI's planner reads its plan). */
    readonly prepared: (runId: string) => Effect.Effect<PreparedRun>
    /**
     * RUN-3: runs the stages that are due and finalizes the manifest. The first call for a run does
     * the work; later calls (other group members, the tester, the reviewer) get the same result.
     */
    readonly execute: (runId: string, mode: ExecutionMode) => Effect.Effect<ExecutedRun, FileAccessError>
    /** PLN-4: the manifest's `plan_target_id` follows the plan the planner returned, if it changed. */
    readonly recordPlanTarget: (runId: string, targetId: string | null) => Effect.Effect<void, FileAccessError>
    /**
     * The end of RUN-1: the enriched summary (TM-7) into `run-summary.json`, metrics (MET-1, D-10),
     * and the run is forgotten by this process. Returns the enriched summary.
     */
    readonly complete: (
      runId: string,
      summary: RunSummary,
      extras?: MetricsExtras
    ) => Effect.Effect<CompletedRun, FileAccessError>
  }
>() {}
