import { Context, type Effect } from "effect"
import type { ExecutionMode } from "../domain/ExecutionMode.js"
import type { PlanItem } from "../domain/Plan.js"
import type { BuildResult } from "../domain/RunSummary.js"
import type { AgentFailure, TaskContext } from "../domain/TaskManager.js"

/** What the builder is asked to do: the task, the plan item to build, its mode and the run id. */
export interface BuildRequest {
  readonly task: TaskContext
  readonly target: PlanItem
  readonly mode: ExecutionMode
  readonly runId: string
}

/**
 * Runs a subtask (SPEC TM-4, TM-6). The CLI's builder runs the pipeline of the run engine, once per
 * run however often it is asked (GRP-3). The TaskManager overwrites `mode` and `runId` of the result.
 */
export class Builder extends Context.Tag("orchestrator/Builder")<
  Builder,
  { readonly build: (request: BuildRequest) => Effect.Effect<BuildResult, AgentFailure> }
>() {}
