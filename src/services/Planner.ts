import { Context, type Effect } from "effect"
import type { PlanResult } from "../domain/Plan.js"
import type { AgentFailure, TaskContext } from "../domain/TaskManager.js"

/** Decides what to run for a task (SPEC PLN-1..4). The CLI's planner plans the pipeline's stages. */
export class Planner extends Context.Tag("orchestrator/Planner")<
  Planner,
  { readonly plan: (task: TaskContext & { readonly runId: string }) => Effect.Effect<PlanResult, AgentFailure> }
>() {}
