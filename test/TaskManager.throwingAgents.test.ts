/**
 * TM-2 for agents that throw instead of failing (a JavaScript agent, or a bug before the agent returns
 * its Effect): the throw is the agent's error, as a failure or a defect is; `execute` still succeeds
 * with the skipped texts, and the run is not lost to a defect of the TaskManager itself.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer } from "effect"
import type { TaskContext } from "../src/domain/TaskManager.js"
import { EntropySeeded } from "../src/layers/Entropy.js"
import { EventBusLive } from "../src/layers/EventBus.js"
import { ExecutionModePolicyDefault } from "../src/layers/ExecutionModePolicy.js"
import { OrchestratorConfigTest } from "../src/layers/OrchestratorConfig.js"
import { TaskManagerLive } from "../src/layers/TaskManager.js"
import { Builder } from "../src/services/Builder.js"
import { Planner } from "../src/services/Planner.js"
import { Reviewer } from "../src/services/Reviewer.js"
import { TaskManager } from "../src/services/TaskManager.js"
import { Tester } from "../src/services/Tester.js"

const task: TaskContext = { id: "demo", title: "Demo", runId: "run-1" }
const item = {
  id: "a",
  description: "Stage a",
  requires_cloud: false,
  runnable: true,
  metadata: { pipelineId: "p", stageId: "a", stageKind: "command", index: 0, requiresCloud: false }
} as const

const thrower = (message: string) => (): never => {
  throw new Error(message)
}

/** The TaskManager on agents that succeed, except `throws`, which throws when called. */
const managerWith = (throws: "plan" | "build" | "test" | "review") =>
  TaskManagerLive.pipe(Layer.provideMerge(Layer.mergeAll(
    Layer.succeed(Planner, Planner.of({ plan: throws === "plan" ? thrower("no catalog") : () => Effect.succeed({ items: [item], targetId: null }) })),
    Layer.succeed(Builder, Builder.of({
      build: throws === "build" ? thrower("no compiler") : ({ runId }) =>
        Effect.succeed({ subtaskId: "a", artifacts: [], mode: "mcp", runId, success: true })
    })),
    Layer.succeed(Tester, Tester.of({
      test: throws === "test" ? thrower("no runner") : ({ build, runId }) =>
        Effect.succeed({ subtaskId: build.subtaskId, success: true, reports: [], runId })
    })),
    Layer.succeed(Reviewer, Reviewer.of({
      review: throws === "review" ? thrower("no reviewer") : () => Effect.succeed({ summary: "ok", decision: { approved: true } })
    })),
    ExecutionModePolicyDefault,
    EventBusLive,
    EntropySeeded(0),
    OrchestratorConfigTest("/repo")
  )))

const executed = (throws: "plan" | "build" | "test" | "review") =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit((yield* TaskManager).execute(task))
    assert.isTrue(Exit.isSuccess(exit), `execute failed: ${Exit.isFailure(exit) ? String(exit.cause).slice(0, 300) : ""}`)
    return Exit.isSuccess(exit) ? exit.value : assert.fail("unreachable")
  }).pipe(Effect.provide(managerWith(throws)))

describe("TaskManager: an agent that throws (TM-2)", () => {
  it.effect("a planner: the empty plan with its error, a failed build", () =>
    Effect.gen(function*() {
      const summary = yield* executed("plan")
      assert.strictEqual(summary.plan.notes, "Planner stage error: no catalog")
      assert.strictEqual(summary.build.success, false)
    }))

  it.effect("a builder, a tester, a reviewer: its stage error, the later ones skipped", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* executed("build")).build.notes, "Builder stage error: no compiler")
      const tested = yield* executed("test")
      assert.deepStrictEqual(tested.test.reports, [{ name: "tests", status: "failed", details: "Tester stage error: no runner" }])
      const reviewed = yield* executed("review")
      assert.deepStrictEqual(reviewed.review.decision, { approved: false, feedback: "Reviewer stage error: no reviewer" })
    }))
})
