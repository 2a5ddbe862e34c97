import { Context } from "effect"
import type { ExecutionMode } from "../domain/ExecutionMode.js"
import type { PlanItem } from "../domain/Plan.js"
import type { TaskContext } from "../domain/TaskManager.js"

/**
 * Picks `mcp` or `cloud` for each subtask (SPEC MODE-1 by default). An app provides its own policy
 * as a layer; the CLI's `--execution-mode` / `--cloud` force one mode for a run instead.
 */
export class ExecutionModePolicy extends Context.Tag("orchestrator/ExecutionModePolicy")<
  ExecutionModePolicy,
  { readonly decide: (task: TaskContext, item: PlanItem) => ExecutionMode }
>() {}
