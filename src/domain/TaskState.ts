/**
 * The task-state snapshot `out/<task>/runs.json` (SPEC PER-3): every run of a task, in timestamp
 * order, whatever order their completions arrive in.
 */
import { Schema } from "effect"
import type { RunSummary } from "./RunSummary.js"

export const TaskRunRecord = Schema.Struct({
  runId: Schema.String,
  timestamp: Schema.String,
  mode: Schema.Literal("mcp", "cloud"),
  subtaskId: Schema.String,
  buildSuccess: Schema.Boolean,
  testSuccess: Schema.Boolean,
  reviewApproved: Schema.Boolean,
  summary: Schema.String
})
export type TaskRunRecord = typeof TaskRunRecord.Type

export const TaskStateSnapshot = Schema.Struct({
  taskId: Schema.String,
  lastRunAt: Schema.String,
  runs: Schema.Array(TaskRunRecord)
})
export type TaskStateSnapshot = typeof TaskStateSnapshot.Type

export const emptySnapshot = (taskId: string): TaskStateSnapshot => ({ taskId, lastRunAt: "", runs: [] })

export const runRecordOf = (summary: RunSummary): TaskRunRecord => ({
  runId: summary.runId,
  timestamp: summary.timestamp,
  mode: summary.mode,
  subtaskId: summary.build.subtaskId,
  buildSuccess: summary.build.success,
  testSuccess: summary.test.success,
  reviewApproved: summary.review.decision.approved,
  summary: summary.review.summary
})

const byTimestamp = (a: TaskRunRecord, b: TaskRunRecord) => a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0

/**
 * PER-3: the same run id replaces its record; a new one goes in timestamp order. `lastRunAt` is the
 * newest timestamp, so a late arrival of an older run does not move it back.
 */
export const recordRunIn = (snapshot: TaskStateSnapshot, record: TaskRunRecord): TaskStateSnapshot => {
  const runs = [...snapshot.runs.filter((run) => run.runId !== record.runId), record].sort(byTimestamp)
  return { taskId: snapshot.taskId, lastRunAt: runs[runs.length - 1]?.timestamp ?? "", runs }
}
