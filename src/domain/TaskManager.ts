/**
 * The TaskManager's rules as pure functions (SPEC TM-1..4, GRP-1, GRP-2): error texts, target
 * selection, and how a group of subtasks is summarized. The effectful flow is in
 * src/layers/TaskManager.ts.
 */
import { Either, Schema } from "effect"
import type { PlanItem, PlanResult } from "./Plan.js"
import type { RunHandle } from "./RunHandle.js"
import type { GroupEntry } from "./RunSummary.js"

/** What the TaskManager is asked to do. The CLI passes the run id of the run it bootstrapped. */
export interface TaskContext {
  readonly id: string
  readonly title?: string | undefined
  /** Free-form task metadata; MODE-1 reads `execution.parallel`, `mode` and `executionMode`. */
  readonly metadata?: Readonly<Record<string, unknown>> | undefined
  /** Without one, the TaskManager makes a run id (TM-1). */
  readonly runId?: string | undefined
  /**
   * The pipeline run the task is carried out as, when the RunEngine drives it: the CLI's agents plan
   * with its plan, build by executing it and test and review its manifest.
   */
  readonly run?: RunHandle | undefined
}

/**
 * An agent (planner, builder, tester, reviewer) could not do its job. Custom agents fail with this;
 * the TaskManager turns it, and any defect, into the synthesized results of TM-1 and TM-4.
 */
export class AgentFailure extends Schema.TaggedError<AgentFailure>()("AgentFailure", {
  message: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {}

/** The agent a failure came from; TM-2's error text starts with it (`<Stage> stage error: ...`). */
export type AgentStage = "Planner" | "Builder" | "Tester" | "Reviewer"

/** TM-2: the error's message, else the string itself, else its JSON, else String(). */
export const errorMessageOf = (error: unknown): string => {
  if (error instanceof Error) return error.message
  if (typeof error === "object" && error !== null && "message" in error && typeof error.message === "string") {
    return error.message
  }
  if (typeof error === "string") return error
  try {
    const json = JSON.stringify(error)
    if (json !== undefined) return json
  } catch {
    // Circular or otherwise unserializable: String() below.
  }
  return String(error)
}

/** TM-2: `<Stage> stage error: <message>`. */
export const stageErrorText = (stage: AgentStage, error: unknown): string => `${stage} stage error: ${errorMessageOf(error)}`

/** TM-1: the plan published when the planner failed. */
export const unavailablePlan = (message: string): PlanResult => ({ items: [], notes: message, targetId: null })

const isRunnable = (item: PlanItem) => item.runnable !== false

/**
 * TM-3 (group off): the first selected item, else the item named by `targetId`, else the only
 * runnable one. The Left is the documented message.
 */
export const selectTarget = (plan: PlanResult): Either.Either<PlanItem, string> => {
  if (plan.items.length === 0) return Either.left("Planner returned no executable subtasks.")
  const selected = plan.items.find((item) => item.selected === true)
  if (selected !== undefined) return Either.right(selected)
  const named = plan.targetId === null ? undefined : plan.items.find((item) => item.id === plan.targetId)
  if (named !== undefined) return Either.right(named)
  const runnable = plan.items.filter(isRunnable)
  if (runnable.length === 1 && runnable[0] !== undefined) return Either.right(runnable[0])
  if (runnable.length > 1) {
    return Either.left(
      `Planner returned multiple runnable subtasks without a selection (${
        runnable.map((item) => item.id).join(", ")
      }). Specify a target stage or update the planner configuration.`
    )
  }
  return Either.left("Planner returned no runnable subtasks after applying selection and target hints.")
}

/**
 * GRP-1: the runnable items, the preferred one first (the `targetId` item if runnable, else the
 * first selected runnable), then the rest in plan order.
 */
export const groupTargets = (plan: PlanResult): ReadonlyArray<PlanItem> => {
  const runnable = plan.items.filter(isRunnable)
  const preferred = runnable.find((item) => item.id === plan.targetId) ?? runnable.find((item) => item.selected === true)
  return preferred === undefined ? runnable : [preferred, ...runnable.filter((item) => item !== preferred)]
}

/** GRP-2: one processed subtask's line in the group summary. */
export const groupEntryOf = (
  index: number,
  subtaskId: string,
  mode: "mcp" | "cloud",
  results: { readonly build: boolean; readonly test: boolean; readonly review: boolean }
): GroupEntry => ({
  index,
  subtaskId,
  mode,
  buildSuccess: results.build,
  testSuccess: results.test,
  reviewApproved: results.review,
  status: results.build && results.test ? "succeeded" : "failed"
})
