/**
 * The multi-instance scheduler (SPEC SCH-1..5): fan-out slots from a run request, the instance
 * assignments recorded in the manifest before execution, and their finalization once the run ends.
 * Pure: the caller gives the timestamps.
 *
 * Order (DECISIONS D-10, a deliberate divergence from SCH-6): the scheduler is finalized *before*
 * metrics are recorded, so `metrics.json`'s `instance_stats[].status` shows the final status
 * (`succeeded`/`failed`), not `assigned` as in the original.
 */
import { Either, Schema } from "effect"
import type { FanOutEntry, RunRequestV2 } from "./RunRequest.js"
import type { RunStatus } from "./ManifestStatus.js"

/** SCH-1: one slot a fan-out entry offers. */
export interface SchedulerSlot {
  readonly capability: string
  readonly weight: number
  readonly maxConcurrency: number
}

/** SCH-1: max(1, maxConcurrency) slots per entry; none → one `general` slot; by weight, heaviest first (stable). */
export const schedulerSlots = (fanOut: ReadonlyArray<FanOutEntry>): ReadonlyArray<SchedulerSlot> => {
  const entries = fanOut.length === 0 ? [{ capability: "general", weight: 1, maxConcurrency: 1 }] : fanOut
  return entries
    .map((entry, order) => ({ entry, order }))
    .sort((a, b) => b.entry.weight - a.entry.weight || a.order - b.order)
    .flatMap(({ entry }) => {
      const concurrency = Math.max(1, entry.maxConcurrency ?? 1)
      return Array.from({ length: concurrency }, () => ({
        capability: entry.capability,
        weight: entry.weight,
        maxConcurrency: concurrency
      }))
    })
}

/** SCH-2: the bounds contradict each other. */
export class SchedulerMinExceedsMax extends Schema.TaggedError<SchedulerMinExceedsMax>()("SchedulerMinExceedsMax", {
  minInstances: Schema.Number,
  maxInstances: Schema.Number
}) {
  override get message() {
    return `Scheduler minInstances (${this.minInstances}) cannot exceed maxInstances (${this.maxInstances}). ` +
      `minInstances is TFGRPO_GROUP_SIZE when set and maxInstances the fan-out capacity: set TFGRPO_GROUP_SIZE to ` +
      `${this.maxInstances} or less, or give the fan-out room for ${this.minInstances} instances.`
  }
}

/** SCH-2: the fan-out offers fewer slots than the minimum number of instances. */
export class SchedulerInsufficientSlots extends Schema.TaggedError<SchedulerInsufficientSlots>()("SchedulerInsufficientSlots", {
  minInstances: Schema.Number,
  slots: Schema.Number
}) {
  override get message() {
    return `Scheduler requires at least ${this.minInstances} instances but only ${this.slots} fan-out slot(s) are available. ` +
      "Adjust the schedule fanOut or lower minInstances."
  }
}

export type SchedulerError = SchedulerMinExceedsMax | SchedulerInsufficientSlots

export const RecoveryCheckpoint = Schema.Struct({
  timestamp: Schema.String,
  reason: Schema.String,
  action: Schema.String,
  detail: Schema.String
})
export type RecoveryCheckpoint = typeof RecoveryCheckpoint.Type

export const AttemptStatus = Schema.Literal("pending", "running", "completed", "failed")
export const AssignmentStatus = Schema.Literal("assigned", "running", "succeeded", "failed")

export const SchedulerAttempt = Schema.Struct({
  number: Schema.Int,
  assigned_at: Schema.String,
  started_at: Schema.NullOr(Schema.String),
  completed_at: Schema.NullOr(Schema.String),
  status: AttemptStatus,
  recovery_checkpoints: Schema.Array(RecoveryCheckpoint)
})
export type SchedulerAttempt = typeof SchedulerAttempt.Type

export const SchedulerAssignment = Schema.Struct({
  instance_id: Schema.String,
  capability: Schema.String,
  status: AssignmentStatus,
  assigned_at: Schema.String,
  completed_at: Schema.NullOr(Schema.String),
  /** camelCase inside, as the original writes it (section 27). */
  metadata: Schema.Struct({
    weight: Schema.Number,
    maxConcurrency: Schema.Number,
    groupIndex: Schema.optionalWith(Schema.Int, { exact: true })
  }),
  attempts: Schema.Array(SchedulerAttempt)
})
export type SchedulerAssignment = typeof SchedulerAssignment.Type

/** SCH-4: the manifest's `scheduler` section, written before execution. */
export const SchedulerSection = Schema.Struct({
  mode: Schema.Literal("multi-instance"),
  requested_at: Schema.String,
  min_instances: Schema.Int,
  max_instances: Schema.Int,
  recovery: Schema.Struct({
    heartbeat_interval_seconds: Schema.Number,
    missing_heartbeat_timeout_seconds: Schema.Number,
    max_retries: Schema.Number
  }),
  assignments: Schema.Array(SchedulerAssignment)
})
export type SchedulerSection = typeof SchedulerSection.Type

/**
 * SCH-2 / SCH-3: the instances for a run request. count = max(min, min(max, #slots)); instance ids are
 * `<taskId>-<capability>-<NN>`, numbered per capability; with a TF-GRPO group size each instance gets
 * `groupIndex` = (i mod groupSize) + 1. `assignedAt` is when the plan is made.
 */
export const planSchedule = (
  request: RunRequestV2,
  assignedAt: string
): Either.Either<SchedulerSection, SchedulerError> => {
  const { maxInstances, minInstances } = request.schedule
  if (minInstances > maxInstances) return Either.left(new SchedulerMinExceedsMax({ minInstances, maxInstances }))
  const slots = schedulerSlots(request.schedule.fanOut)
  if (minInstances > slots.length) return Either.left(new SchedulerInsufficientSlots({ minInstances, slots: slots.length }))
  const count = Math.max(minInstances, Math.min(maxInstances, slots.length))
  const groupSize = request.metadata?.tfgrpo?.groupSize
  const perCapability = new Map<string, number>()
  const assignments = slots.slice(0, count).map((slot, i): SchedulerAssignment => {
    const n = (perCapability.get(slot.capability) ?? 0) + 1
    perCapability.set(slot.capability, n)
    return {
      instance_id: `${request.task.id}-${slot.capability}-${String(n).padStart(2, "0")}`,
      capability: slot.capability,
      status: "assigned",
      assigned_at: assignedAt,
      completed_at: null,
      metadata: {
        weight: slot.weight,
        maxConcurrency: slot.maxConcurrency,
        ...(groupSize === undefined ? {} : { groupIndex: (i % groupSize) + 1 })
      },
      attempts: [{
        number: 1,
        assigned_at: assignedAt,
        started_at: null,
        completed_at: null,
        status: "pending",
        recovery_checkpoints: []
      }]
    }
  })
  const { recovery } = request.schedule
  return Either.right({
    mode: "multi-instance",
    requested_at: request.requestedAt,
    min_instances: minInstances,
    max_instances: maxInstances,
    recovery: {
      heartbeat_interval_seconds: recovery.heartbeatIntervalSeconds,
      missing_heartbeat_timeout_seconds: recovery.missingHeartbeatTimeoutSeconds,
      max_retries: recovery.maxRetries
    },
    assignments
  })
}

/** The run as the finalizer sees it: the manifest's status and timestamps. */
export interface ScheduledRunOutcome {
  readonly status: RunStatus
  readonly completedAt: string | null
  /** When the finalizer runs; stamps the recovery checkpoint of a run that did not finish. */
  readonly now: string
}

export const incompleteRunCheckpoint = (timestamp: string): RecoveryCheckpoint => ({
  timestamp,
  reason: "missed-heartbeat",
  action: "requeue",
  detail: "Finalizer detected incomplete execution; queued for recovery."
})

/**
 * SCH-5: `succeeded` → assignments `succeeded`, last attempt `completed`; `in_progress` → both
 * `running`, no completion times; anything else (`failed`, `cancelled`, a `queued` run that never
 * started) → both `failed` with a `missed-heartbeat` / `requeue` checkpoint. For a terminal run the
 * completion times are the manifest's `completed_at`, which also fills a missing `started_at`.
 */
export const finalizeSchedule = (section: SchedulerSection, outcome: ScheduledRunOutcome): SchedulerSection => {
  const terminal = outcome.status === "succeeded" || outcome.status === "failed" || outcome.status === "cancelled"
  const completedAt = terminal ? outcome.completedAt : null
  const [assignmentStatus, attemptStatus] = outcome.status === "succeeded"
    ? (["succeeded", "completed"] as const)
    : outcome.status === "in_progress"
    ? (["running", "running"] as const)
    : (["failed", "failed"] as const)
  const checkpoint = assignmentStatus === "failed" ? [incompleteRunCheckpoint(outcome.completedAt ?? outcome.now)] : []
  return {
    ...section,
    assignments: section.assignments.map((assignment) => ({
      ...assignment,
      status: assignmentStatus,
      completed_at: completedAt,
      attempts: assignment.attempts.map((attempt, i, all) =>
        i !== all.length - 1 ? attempt : {
          ...attempt,
          status: attemptStatus,
          started_at: attempt.started_at ?? completedAt,
          completed_at: completedAt,
          recovery_checkpoints: [...attempt.recovery_checkpoints, ...checkpoint]
        }
      )
    }))
  }
}

/** SCH-5: the run summary's `scheduler` (TM-7). */
export const SchedulerSummary = Schema.Struct({
  mode: Schema.Literal("multi-instance"),
  recovery: Schema.Struct({
    heartbeatIntervalSeconds: Schema.Number,
    missingHeartbeatTimeoutSeconds: Schema.Number,
    maxRetries: Schema.Number
  }),
  assignments: Schema.Array(Schema.Struct({
    instanceId: Schema.String,
    capability: Schema.String,
    status: AssignmentStatus,
    attempts: Schema.Int,
    lastCompletedAt: Schema.NullOr(Schema.String)
  }))
})
export type SchedulerSummary = typeof SchedulerSummary.Type

export const schedulerSummaryOf = (section: SchedulerSection): SchedulerSummary => ({
  mode: section.mode,
  recovery: {
    heartbeatIntervalSeconds: section.recovery.heartbeat_interval_seconds,
    missingHeartbeatTimeoutSeconds: section.recovery.missing_heartbeat_timeout_seconds,
    maxRetries: section.recovery.max_retries
  },
  assignments: section.assignments.map((assignment) => ({
    instanceId: assignment.instance_id,
    capability: assignment.capability,
    status: assignment.status,
    attempts: assignment.attempts.length,
    lastCompletedAt: assignment.attempts.at(-1)?.completed_at ?? assignment.completed_at
  }))
})

/** MET-1: `metrics.json`'s `instance_stats`, read after finalization (D-10). */
export interface InstanceStat {
  readonly instance_id: string
  readonly capability: string
  readonly status: SchedulerAssignment["status"]
  readonly attempts: number
  readonly recovery_events: number
}

export const instanceStatsOf = (section: SchedulerSection | undefined): ReadonlyArray<InstanceStat> =>
  (section?.assignments ?? []).map((assignment) => ({
    instance_id: assignment.instance_id,
    capability: assignment.capability,
    status: assignment.status,
    attempts: assignment.attempts.length,
    recovery_events: assignment.attempts.reduce((sum, attempt) => sum + attempt.recovery_checkpoints.length, 0)
  }))
