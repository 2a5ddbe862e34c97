import { Context, type Effect } from "effect"
import type { CompletedRunDetails } from "../domain/Events.js"
import type { ExecutionMode } from "../domain/ExecutionMode.js"
import type { PlanResult } from "../domain/Plan.js"
import type { RunSummary } from "../domain/RunSummary.js"
import type { TaskContext } from "../domain/TaskManager.js"

/** What `finalize` returns: the enriched summary, and the pipeline run's details for `run:completed`. */
export interface Finalized {
  readonly summary: RunSummary
  readonly run?: CompletedRunDetails | undefined
}

/** How `execute` runs: one mode for every subtask, if given, and hooks on the plan and on the summary before `run:completed`. */
export interface ExecuteOptions {
  /** One mode for every subtask (the CLI's `--execution-mode` / `--cloud`); otherwise the policy decides. */
  readonly mode?: ExecutionMode | undefined
  /**
   * Runs on the summary before `run:completed` is published: the CLI writes run-summary.json and the
   * metrics here and returns the enriched summary with the run's details. If it fails, that is logged
   * and the summary is published as it was.
   */
  readonly finalize?: ((summary: RunSummary) => Effect.Effect<Finalized, unknown>) | undefined
  /**
   * Runs on the plan right after `plan:completed`, before anything is built: the CLI records the
   * plan's target in the manifest (PLN-4). A failure is logged and the flow goes on.
   */
  readonly onPlan?: ((plan: PlanResult) => Effect.Effect<void, unknown>) | undefined
}

/**
 * The plan → build → test → review flow (SPEC TM-1..5, GRP-1..3) over the Planner, Builder, Tester
 * and Reviewer services. `execute` never fails: an agent's failure becomes the documented
 * synthesized result, and exactly one `run:completed` is published per call (EVT-1).
 */
export class TaskManager extends Context.Tag("orchestrator/TaskManager")<
  TaskManager,
  { readonly execute: (task: TaskContext, options?: ExecuteOptions) => Effect.Effect<RunSummary> }
>() {}
