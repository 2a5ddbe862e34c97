/**
 * The scheduler (SPEC SCH-1..5, DECISIONS D-10): slots, the plan recorded before execution with its
 * errors, finalization for each run outcome, and the run-summary and metrics forms.
 */
import { assert, describe, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import type { RunRequestV2 } from "../src/domain/RunRequest.js"
import { buildRunRequest } from "../src/domain/RunRequestBuilder.js"
import { type GroupSettings, noGroupSettings } from "../src/domain/TfgrpoGroup.js"
import type { PipelineDefinition } from "../src/domain/Pipeline.js"
import {
  finalizeSchedule,
  instanceStatsOf,
  planSchedule,
  type SchedulerError,
  SchedulerInsufficientSlots,
  SchedulerMinExceedsMax,
  SchedulerSection,
  schedulerSlots,
  schedulerSummaryOf
} from "../src/domain/Scheduler.js"
import { commandStage, pipeline } from "./support/pipelines.js"

const requestedAt = "2025-11-24T00:30:09.180Z"
const assignedAt = "2025-11-24T00:30:09.190Z"
const completedAt = "2025-11-24T00:30:09.232Z"
const finalizedAt = "2025-11-24T00:30:09.240Z"

const requestFor = (options: { readonly tags?: ReadonlyArray<string>; readonly group?: Partial<GroupSettings> } = {}) => {
  const definition: PipelineDefinition = pipeline("trivial", [commandStage("hello", "echo hello")], {
    ...(options.tags === undefined ? {} : { tags: options.tags })
  })
  return Either.getOrThrowWith(
    buildRunRequest({
      task: { id: "demo-task", title: "Task demo-task" },
      pipeline: definition,
      group: { ...noGroupSettings, ...options.group },
      runId: "run-1",
      paths: { artifactRoot: ".runs/demo-task/cli/run-1", runsRoot: ".runs", outRoot: "out" },
      requestedAt
    }),
    (error) => new Error(error.message)
  )
}

const plan = (request: RunRequestV2) =>
  Either.getOrThrowWith(planSchedule(request, assignedAt), (error) => new Error(error.message))

const planError = (request: RunRequestV2): SchedulerError =>
  Either.match(planSchedule(request, assignedAt), { onLeft: (error) => error, onRight: () => assert.fail("expected an error") })

const withSchedule = (request: RunRequestV2, schedule: Partial<RunRequestV2["schedule"]>): RunRequestV2 => ({
  ...request,
  schedule: { ...request.schedule, ...schedule }
})

describe("schedulerSlots (SCH-1)", () => {
  it("max(1, maxConcurrency) slots per entry, heaviest first, stable among equals", () => {
    assert.deepStrictEqual(
      schedulerSlots([
        { capability: "a", weight: 1, maxConcurrency: 2 },
        { capability: "b", weight: 3 },
        { capability: "c", weight: 1, maxConcurrency: 0 },
        { capability: "d", weight: 3, maxConcurrency: 1 }
      ]).map((slot) => `${slot.capability}:${slot.maxConcurrency}`),
      ["b:1", "d:1", "a:2", "a:2", "c:1"]
    )
  })

  it("three entries of equal weight keep their given order, around a heavier one", () => {
    assert.deepStrictEqual(
      schedulerSlots([
        { capability: "x", weight: 2 },
        { capability: "y", weight: 2 },
        { capability: "heavy", weight: 5 },
        { capability: "z", weight: 2 }
      ]).map((slot) => slot.capability),
      ["heavy", "x", "y", "z"]
    )
  })

  it("no fan-out: one general slot", () => {
    assert.deepStrictEqual(schedulerSlots([]), [{ capability: "general", weight: 1, maxConcurrency: 1 }])
  })
})

describe("planSchedule (SCH-2, SCH-3, SCH-4)", () => {
  it("a tag-less pipeline: one general instance, as observed", () => {
    const section = plan(requestFor())
    assert.deepStrictEqual(section, {
      mode: "multi-instance",
      requested_at: requestedAt,
      min_instances: 1,
      max_instances: 1,
      recovery: { heartbeat_interval_seconds: 30, missing_heartbeat_timeout_seconds: 120, max_retries: 3 },
      assignments: [{
        instance_id: "demo-task-general-01",
        capability: "general",
        status: "assigned",
        assigned_at: assignedAt,
        completed_at: null,
        metadata: { weight: 1, maxConcurrency: 2 },
        attempts: [{
          number: 1,
          assigned_at: assignedAt,
          started_at: null,
          completed_at: null,
          status: "pending",
          recovery_checkpoints: []
        }]
      }]
    })
    assert.isTrue(Schema.is(SchedulerSection)(section))
  })

  it("TF-GRPO flag alone: two general instances numbered per capability, with group indexes 1 and 2", () => {
    const section = plan(requestFor({ group: { enabled: true } }))
    assert.deepStrictEqual([section.min_instances, section.max_instances], [2, 2])
    assert.deepStrictEqual(
      section.assignments.map((a) => [a.instance_id, a.metadata.groupIndex]),
      [["demo-task-general-01", 1], ["demo-task-general-02", 2]]
    )
  })

  it("several capabilities: counters per capability; group indexes wrap at the group size", () => {
    const request = withSchedule(requestFor({ tags: ["api", "web"], group: { groupSize: 2 } }), {
      minInstances: 2,
      maxInstances: 5,
      fanOut: [
        { capability: "api", weight: 1, maxConcurrency: 2 },
        { capability: "web", weight: 1, maxConcurrency: 1 }
      ]
    })
    const section = plan(request)
    assert.deepStrictEqual(
      section.assignments.map((a) => [a.instance_id, a.capability, a.metadata.groupIndex, a.metadata.maxConcurrency]),
      [
        ["demo-task-api-01", "api", 1, 2],
        ["demo-task-api-02", "api", 2, 2],
        ["demo-task-web-01", "web", 1, 1]
      ]
    )
    // Without a group size there is no groupIndex.
    const plain = plan(withSchedule(requestFor({ tags: ["api", "web"] }), { maxInstances: 2 }))
    assert.deepStrictEqual(plain.assignments.map((a) => "groupIndex" in a.metadata), [false, false])
    assert.deepStrictEqual(plain.assignments.map((a) => a.instance_id), ["demo-task-api-01", "demo-task-web-01"])
  })

  it("count = max(min, min(max, #slots))", () => {
    const request = requestFor({ tags: ["a", "b", "c"] })
    assert.strictEqual(plan(withSchedule(request, { minInstances: 1, maxInstances: 2 })).assignments.length, 2)
    assert.strictEqual(plan(withSchedule(request, { minInstances: 1, maxInstances: 9 })).assignments.length, 3)
    assert.strictEqual(plan(withSchedule(request, { minInstances: 3, maxInstances: 3 })).assignments.length, 3)
  })

  it("SCH-2: min above max, and more instances than slots, with the original's texts", () => {
    const request = requestFor()
    const inverted = planError(withSchedule(request, { minInstances: 3, maxInstances: 2 }))
    assert.instanceOf(inverted, SchedulerMinExceedsMax)
    assert.strictEqual(
      inverted.message,
      "Scheduler minInstances (3) cannot exceed maxInstances (2). minInstances is TFGRPO_GROUP_SIZE when set and " +
        "maxInstances the fan-out capacity: set TFGRPO_GROUP_SIZE to 2 or less, or give the fan-out room for 3 instances."
    )
    const tooFew = planError(withSchedule(request, { minInstances: 3, maxInstances: 4 }))
    assert.instanceOf(tooFew, SchedulerInsufficientSlots)
    assert.strictEqual(
      tooFew.message,
      "Scheduler requires at least 3 instances but only 2 fan-out slot(s) are available. Adjust the schedule fanOut or lower minInstances."
    )
  })
})

describe("finalizeSchedule (SCH-5) and its summaries", () => {
  const planned = plan(requestFor({ group: { enabled: true } }))

  it("succeeded: assignments succeeded, attempts completed at the run's completion, started filled in", () => {
    const section = finalizeSchedule(planned, { status: "succeeded", completedAt, now: finalizedAt })
    for (const assignment of section.assignments) {
      assert.strictEqual(assignment.status, "succeeded")
      assert.strictEqual(assignment.completed_at, completedAt)
      assert.deepStrictEqual(assignment.attempts, [{
        number: 1,
        assigned_at: assignedAt,
        started_at: completedAt,
        completed_at: completedAt,
        status: "completed",
        recovery_checkpoints: []
      }])
    }
    assert.isTrue(Schema.is(SchedulerSection)(section))
    assert.deepStrictEqual(schedulerSummaryOf(section), {
      mode: "multi-instance",
      recovery: { heartbeatIntervalSeconds: 30, missingHeartbeatTimeoutSeconds: 120, maxRetries: 3 },
      assignments: [
        { instanceId: "demo-task-general-01", capability: "general", status: "succeeded", attempts: 1, lastCompletedAt: completedAt },
        { instanceId: "demo-task-general-02", capability: "general", status: "succeeded", attempts: 1, lastCompletedAt: completedAt }
      ]
    })
  })

  it("failed: assignments and attempts failed, with a missed-heartbeat requeue checkpoint", () => {
    const section = finalizeSchedule(planned, { status: "failed", completedAt, now: finalizedAt })
    const [assignment] = section.assignments
    assert.strictEqual(assignment?.status, "failed")
    assert.strictEqual(assignment?.completed_at, completedAt)
    assert.deepStrictEqual(assignment?.attempts[0], {
      number: 1,
      assigned_at: assignedAt,
      started_at: completedAt,
      completed_at: completedAt,
      status: "failed",
      recovery_checkpoints: [{
        timestamp: completedAt,
        reason: "missed-heartbeat",
        action: "requeue",
        detail: "Finalizer detected incomplete execution; queued for recovery."
      }]
    })
    assert.deepStrictEqual(instanceStatsOf(section), [
      { instance_id: "demo-task-general-01", capability: "general", status: "failed", attempts: 1, recovery_events: 1 },
      { instance_id: "demo-task-general-02", capability: "general", status: "failed", attempts: 1, recovery_events: 1 }
    ])
  })

  it("in_progress: running, without completion times or checkpoints", () => {
    const section = finalizeSchedule(planned, { status: "in_progress", completedAt: null, now: finalizedAt })
    const [assignment] = section.assignments
    assert.strictEqual(assignment?.status, "running")
    assert.strictEqual(assignment?.completed_at, null)
    assert.deepStrictEqual(
      [assignment?.attempts[0]?.status, assignment?.attempts[0]?.started_at, assignment?.attempts[0]?.completed_at],
      ["running", null, null]
    )
    assert.deepStrictEqual(assignment?.attempts[0]?.recovery_checkpoints, [])
    assert.strictEqual(schedulerSummaryOf(section).assignments[0]?.lastCompletedAt, null)
  })

  it("a run that never started (queued) is failed without completion times; the checkpoint is stamped now", () => {
    const [assignment] = finalizeSchedule(planned, { status: "queued", completedAt: null, now: finalizedAt }).assignments
    assert.strictEqual(assignment?.status, "failed")
    assert.strictEqual(assignment?.completed_at, null)
    assert.strictEqual(assignment?.attempts[0]?.recovery_checkpoints[0]?.timestamp, finalizedAt)
  })

  it("cancelled: failed like any unfinished end, completion times from the run, checkpoint at its completion", () => {
    const [assignment] = finalizeSchedule(planned, { status: "cancelled", completedAt, now: finalizedAt }).assignments
    assert.strictEqual(assignment?.status, "failed")
    assert.strictEqual(assignment?.completed_at, completedAt)
    assert.deepStrictEqual(
      [assignment?.attempts[0]?.status, assignment?.attempts[0]?.started_at, assignment?.attempts[0]?.completed_at],
      ["failed", completedAt, completedAt]
    )
    assert.deepStrictEqual(assignment?.attempts[0]?.recovery_checkpoints, [{
      timestamp: completedAt,
      reason: "missed-heartbeat",
      action: "requeue",
      detail: "Finalizer detected incomplete execution; queued for recovery."
    }])
  })

  it("with more than one attempt, only the last is finalized; earlier ones are kept as they were", () => {
    const earlier = {
      number: 1,
      assigned_at: assignedAt,
      started_at: assignedAt,
      completed_at: assignedAt,
      status: "failed" as const,
      recovery_checkpoints: []
    }
    const retried: typeof planned = {
      ...planned,
      assignments: planned.assignments.map((a) => ({
        ...a,
        attempts: [earlier, { ...earlier, number: 2, started_at: "2025-11-24T00:30:09.200Z", completed_at: null, status: "running" as const }]
      }))
    }
    const [assignment] = finalizeSchedule(retried, { status: "succeeded", completedAt, now: finalizedAt }).assignments
    assert.deepStrictEqual(assignment?.attempts, [
      earlier,
      { ...earlier, number: 2, started_at: "2025-11-24T00:30:09.200Z", completed_at: completedAt, status: "completed" }
    ])
    if (assignment === undefined) return assert.fail("no assignment")
    assert.strictEqual(schedulerSummaryOf({ ...retried, assignments: [assignment] }).assignments[0]?.attempts, 2)
  })

  it("D-10: metrics read after finalization see final statuses, not 'assigned'", () => {
    assert.deepStrictEqual(instanceStatsOf(planned).map((s) => s.status), ["assigned", "assigned"])
    const final = finalizeSchedule(planned, { status: "succeeded", completedAt, now: finalizedAt })
    assert.deepStrictEqual(instanceStatsOf(final).map((s) => s.status), ["succeeded", "succeeded"])
    assert.deepStrictEqual(instanceStatsOf(undefined), [])
  })
})
