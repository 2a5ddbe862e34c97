/**
 * Where a subtask runs (SPEC MODE-1): `mcp` is the local executor, `cloud` a remote one
 * (DECISIONS B-3; without one configured, `cloud` runs locally and says so).
 */
import type { PlanItem } from "./Plan.js"

/** Where a stage runs (MODE-1): the `ExecutionMode` schema (`mcp` | `cloud`) and its type. */
export { ExecutionMode } from "./StageMode.js"
import type { ExecutionMode } from "./StageMode.js"

const truthyModes = new Set(["cloud", "true", "1", "yes"])
const falsyModes = new Set(["mcp", "false", "0", "no"])

const modeHint = (value: unknown): boolean | undefined => {
  if (typeof value !== "string") return undefined
  const normalized = value.trim().toLowerCase()
  return truthyModes.has(normalized) ? true : falsyModes.has(normalized) ? false : undefined
}

const recordOf = (value: unknown): Readonly<Record<string, unknown>> | undefined =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? value as Readonly<Record<string, unknown>> : undefined

/**
 * MODE-1 requires-cloud: the item's first boolean flag, else its metadata's `mode` then
 * `executionMode` (`cloud|true|1|yes` / `mcp|false|0|no`), else false.
 */
export const requiresCloud = (item: PlanItem): boolean => {
  const flags: ReadonlyArray<unknown> = [item.requires_cloud, item.metadata.requiresCloud]
  const flag = flags.find((value): value is boolean => typeof value === "boolean")
  if (flag !== undefined) return flag
  const metadata: Readonly<Record<string, unknown>> = item.metadata
  return modeHint(metadata["mode"]) ?? modeHint(metadata["executionMode"]) ?? false
}

/** What the mode policy reads of a task (TaskManager's TaskContext has it). */
export interface ModeHints {
  /** Free-form task metadata; MODE-1 reads `execution.parallel`, `mode` and `executionMode`. */
  readonly metadata?: Readonly<Record<string, unknown>> | undefined
}

/**
 * MODE-1, the default policy: `cloud` when the item requires it, else `cloud` when the task's
 * metadata says `execution.parallel: true`, else `mcp`. An explicit false does not block the
 * parallel upgrade (as in the original library).
 */
export const defaultExecutionMode = (task: ModeHints, item: PlanItem): ExecutionMode => {
  if (requiresCloud(item)) return "cloud"
  const execution = recordOf(task.metadata?.["execution"])
  return execution?.["parallel"] === true ? "cloud" : "mcp"
}
