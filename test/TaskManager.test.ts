/**
 * The TaskManager's flow (SPEC TM-1..5, MODE-1, GRP-1..3, EVT-1) with scripted agents: each agent is
 * a Layer.succeed whose effects succeed, fail with AgentFailure, or die. The events are read from the
 * real EventBus; time is the TestClock (every timestamp is the epoch).
 */
import { assert, describe, it } from "@effect/vitest"
import { Chunk, type Duration, Effect, Exit, Fiber, Layer, Option, Stream, TestClock } from "effect"
import type { OrchestratorEvent } from "../src/domain/Events.js"
import type { PlanItem, PlanResult } from "../src/domain/Plan.js"
import { type BuildResult, type ReviewResult, RunSummary, type TestResult } from "../src/domain/RunSummary.js"
import { AgentFailure, type TaskContext } from "../src/domain/TaskManager.js"
import { AppMemory, type ScriptedProcess } from "../src/layers/App.js"
import { EventBusLive } from "../src/layers/EventBus.js"
import { ExecutionModePolicyDefault, ExecutionModePolicyFixed } from "../src/layers/ExecutionModePolicy.js"
import { OrchestratorConfigTest } from "../src/layers/OrchestratorConfig.js"
import { ProcessInvocations } from "../src/layers/ProcessRunner.js"
import { TaskManagerLive } from "../src/layers/TaskManager.js"
import { Builder, type BuildRequest } from "../src/services/Builder.js"
import { EventBus } from "../src/services/EventBus.js"
import type { ExecutionModePolicy } from "../src/services/ExecutionModePolicy.js"
import { Planner } from "../src/services/Planner.js"
import { Reviewer } from "../src/services/Reviewer.js"
import { RunEngine } from "../src/services/RunEngine.js"
import { type ExecuteOptions, TaskManager } from "../src/services/TaskManager.js"
import { Tester } from "../src/services/Tester.js"
import { jsonFile } from "./support/files.js"
import { at, commandStage, pipeline } from "./support/pipelines.js"
import { EntropySeeded } from "../src/layers/Entropy.js"

// ---------------------------------------------------------------------------------------------
// Fixtures

const runId = "run-1"
const task: TaskContext = { id: "demo", title: "Demo", runId }
const epoch = at(0)

const item = (id: string, options: Partial<Omit<PlanItem, "id" | "metadata">> = {}): PlanItem => ({
  id,
  description: `Stage ${id}`,
  requires_cloud: false,
  runnable: true,
  metadata: { pipelineId: "p", stageId: id, stageKind: "command", index: 0, requiresCloud: false },
  ...options
})

const planOf = (items: ReadonlyArray<PlanItem>, targetId: string | null = null): PlanResult => ({ items, targetId })

const built = (subtaskId: string, success = true): BuildResult => ({
  subtaskId,
  artifacts: [{ path: `${subtaskId}.log`, description: "log" }],
  mode: "mcp",
  runId,
  success,
  notes: `built ${subtaskId}`
})

const tested = (build: BuildResult, success = true): TestResult => ({
  subtaskId: build.subtaskId,
  success,
  reports: [{ name: "unit", status: success ? "passed" : "failed" }],
  runId: build.runId
})

const reviewed = (build: BuildResult, approved = true): ReviewResult => ({
  summary: `reviewed ${build.subtaskId}`,
  decision: { approved, feedback: approved ? "lgtm" : "no" }
})

const failure = (message: string) => new AgentFailure({ message })

const buildSkipped = (subtaskId: string): TestResult => ({
  subtaskId,
  success: false,
  reports: [{ name: "tests", status: "failed", details: "Skipped because the build stage failed." }],
  runId
})
const reviewSkippedForBuild: ReviewResult = {
  summary: "Review skipped: build stage failed.",
  decision: { approved: false, feedback: "Build stage failed; review skipped." }
}
const reviewSkippedForTests: ReviewResult = {
  summary: "Review skipped: tests failed.",
  decision: { approved: false, feedback: "Tests failed; review skipped." }
}

// ---------------------------------------------------------------------------------------------
// Scripted agents

interface Script {
  readonly plan?: Effect.Effect<PlanResult, AgentFailure>
  readonly build?: (request: BuildRequest) => Effect.Effect<BuildResult, AgentFailure>
  readonly test?: (build: BuildResult) => Effect.Effect<TestResult, AgentFailure>
  readonly review?: (build: BuildResult, test: TestResult) => Effect.Effect<ReviewResult, AgentFailure>
}

/** What the agents were asked, in order: `plan`, `build:<id>:<mode>`, `test:<id>`, `review:<id>`. */
interface Kit {
  readonly layer: Layer.Layer<TaskManager | EventBus>
  readonly calls: Array<string>
}

const kit = (
  script: Script,
  options: { readonly group?: boolean; readonly policy?: Layer.Layer<ExecutionModePolicy> } = {}
): Kit => {
  const calls: Array<string> = []
  const agents = Layer.mergeAll(
    Layer.succeed(
      Planner,
      Planner.of({
        plan: (context) =>
          Effect.suspend(() => {
            calls.push(`plan:${context.runId}`)
            return script.plan ?? Effect.succeed(planOf([item("a")]))
          })
      })
    ),
    Layer.succeed(
      Builder,
      Builder.of({
        build: (request) =>
          Effect.suspend(() => {
            calls.push(`build:${request.target.id}:${request.mode}`)
            return script.build?.(request) ?? Effect.succeed(built(request.target.id))
          })
      })
    ),
    Layer.succeed(
      Tester,
      Tester.of({
        test: ({ build }) =>
          Effect.suspend(() => {
            calls.push(`test:${build.subtaskId}`)
            return script.test?.(build) ?? Effect.succeed(tested(build))
          })
      })
    ),
    Layer.succeed(
      Reviewer,
      Reviewer.of({
        review: ({ build, test }) =>
          Effect.suspend(() => {
            calls.push(`review:${build.subtaskId}`)
            return script.review?.(build, test) ?? Effect.succeed(reviewed(build))
          })
      })
    )
  )
  const layer = TaskManagerLive.pipe(
    Layer.provideMerge(Layer.mergeAll(
      agents,
      options.policy ?? ExecutionModePolicyDefault,
      EventBusLive,
      EntropySeeded(0),
      OrchestratorConfigTest("/repo", { groupExecution: options.group ?? false })
    ))
  )
  return { layer, calls }
}

const sentinel = "sentinel-run"

/**
 * Executes the task and returns its summary with every event published meanwhile, in order. A
 * sentinel event published afterwards marks the end, so an extra `run:completed` would be seen.
 */
const execute = (context: TaskContext = task, options?: ExecuteOptions) =>
  Effect.scoped(Effect.gen(function*() {
    const bus = yield* EventBus
    const manager = yield* TaskManager
    const events = yield* bus.subscribe
    const collector = yield* Effect.fork(
      events.pipe(Stream.takeUntil((event) => event.runId === sentinel), Stream.runCollect)
    )
    const exit = yield* Effect.exit(manager.execute(context, options))
    yield* bus.publish({
      type: "stage:started",
      taskId: "-",
      runId: sentinel,
      timestamp: epoch,
      stageId: "-",
      stageIndex: 0,
      title: "-",
      kind: "command",
      status: "running",
      logPath: null
    })
    const published = Chunk.toReadonlyArray(yield* Fiber.join(collector)).filter((event) => event.runId !== sentinel)
    assert.isTrue(Exit.isSuccess(exit), `execute failed: ${String(exit)}`)
    const summary = Exit.isSuccess(exit) ? exit.value : assert.fail("unreachable")
    return { summary, events: published }
  }))

const typesOf = (events: ReadonlyArray<OrchestratorEvent>) => events.map((event) => event.type)

const only = <T extends OrchestratorEvent["type"]>(events: ReadonlyArray<OrchestratorEvent>, type: T) => {
  const found = events.filter((event): event is Extract<OrchestratorEvent, { readonly type: T }> => event.type === type)
  assert.strictEqual(found.length, 1, `expected one ${type}, got ${found.length}`)
  return found[0] ?? assert.fail("unreachable")
}

// ---------------------------------------------------------------------------------------------

describe("TaskManager: planner failure (TM-1, TM-2)", () => {
  const planFailed = (notes: string): RunSummary => ({
    taskId: "demo",
    runId,
    mode: "mcp",
    plan: { items: [], notes, targetId: null },
    build: { subtaskId: "planner-unavailable", artifacts: [], mode: "mcp", runId, success: false, notes },
    test: buildSkipped("planner-unavailable"),
    review: reviewSkippedForBuild,
    timestamp: epoch
  })

  it.effect("an AgentFailure: empty plan with the error, failed build, skipped test and review, one run:completed", () => {
    const { calls, layer } = kit({ plan: Effect.fail(failure("catalog unreachable")) })
    return Effect.gen(function*() {
      const { events, summary } = yield* execute()
      const expected = planFailed("Planner stage error: catalog unreachable")
      assert.deepStrictEqual(summary, expected)
      assert.deepStrictEqual(typesOf(events), ["plan:completed", "run:completed"])
      assert.deepStrictEqual(only(events, "plan:completed").plan, expected.plan)
      assert.deepStrictEqual(only(events, "run:completed").summary, expected)
      assert.deepStrictEqual(calls, ["plan:run-1"], "no agent runs after a failed planner")
    }).pipe(Effect.provide(layer))
  })

  it.effect("a defect with an Error uses its message; execute still succeeds", () => {
    const { layer } = kit({ plan: Effect.die(new Error("planner crashed")) })
    return Effect.gen(function*() {
      const { events, summary } = yield* execute()
      assert.deepStrictEqual(summary, planFailed("Planner stage error: planner crashed"))
      assert.deepStrictEqual(typesOf(events), ["plan:completed", "run:completed"])
    }).pipe(Effect.provide(layer))
  })

  it.effect("a defect with a string uses the string", () => {
    const { layer } = kit({ plan: Effect.die("no plan today") })
    return Effect.gen(function*() {
      const { summary } = yield* execute()
      assert.deepStrictEqual(summary, planFailed("Planner stage error: no plan today"))
    }).pipe(Effect.provide(layer))
  })

  it.effect("without a run id, one is made from the clock (TM-1)", () => {
    const { calls, layer } = kit({})
    return Effect.gen(function*() {
      const { events, summary } = yield* execute({ id: "demo" })
      assert.match(summary.runId, /^1970-01-01T00-00-00-000Z-[0-9a-f]{8}$/)
      assert.deepStrictEqual(calls[0], `plan:${summary.runId}`)
      assert.isTrue(events.every((event) => event.runId === summary.runId && event.taskId === "demo"))
      assert.strictEqual(summary.build.runId, summary.runId)
    }).pipe(Effect.provide(layer))
  })
})

describe("TaskManager: error texts of the other agents (TM-2, TM-4)", () => {
  it.effect("a builder defect with an Error: failed build with the message, test and review skipped", () => {
    const { calls, layer } = kit({ build: () => Effect.die(new Error("disk full")) })
    return Effect.gen(function*() {
      const { events, summary } = yield* execute()
      assert.deepStrictEqual(summary.build, {
        subtaskId: "a",
        artifacts: [],
        mode: "mcp",
        runId,
        success: false,
        notes: "Builder stage error: disk full"
      })
      assert.deepStrictEqual(summary.test, buildSkipped("a"))
      assert.deepStrictEqual(summary.review, reviewSkippedForBuild)
      // EVT-1: the failed build is still published; the skipped stages publish nothing.
      assert.deepStrictEqual(typesOf(events), ["plan:completed", "build:completed", "run:completed"])
      assert.deepStrictEqual(only(events, "build:completed").build, summary.build)
      assert.deepStrictEqual(calls, ["plan:run-1", "build:a:mcp"])
    }).pipe(Effect.provide(layer))
  })

  it.effect("a builder defect with a string, and with a plain object (its JSON)", () =>
    Effect.gen(function*() {
      const withString = kit({ build: () => Effect.die("out of memory") })
      const first = yield* execute().pipe(Effect.provide(withString.layer))
      assert.strictEqual(first.summary.build.notes, "Builder stage error: out of memory")
      const withObject = kit({ build: () => Effect.die({ code: 137 }) })
      const second = yield* execute().pipe(Effect.provide(withObject.layer))
      assert.strictEqual(second.summary.build.notes, "Builder stage error: {\"code\":137}")
    }))

  it.effect("a builder result without a boolean success (a JavaScript builder): a builder error, test and review skipped", () => {
    // The type says boolean; an untyped builder can still return "yes". Treated as TM-4 says.
    const { calls, layer } = kit({
      build: ({ target }) => Effect.succeed({ ...built(target.id), success: "yes" } as unknown as BuildResult)
    })
    return Effect.gen(function*() {
      const { summary } = yield* execute()
      assert.strictEqual(summary.build.success, false)
      assert.strictEqual(summary.build.notes, "Builder stage error: the result has no boolean `success`")
      assert.deepStrictEqual(summary.test, buildSkipped("a"))
      assert.deepStrictEqual(summary.review, reviewSkippedForBuild)
      assert.deepStrictEqual(calls, ["plan:run-1", "build:a:mcp"])
    }).pipe(Effect.provide(layer))
  })

  it.effect("a builder AgentFailure: the same skipped texts", () => {
    const { calls, layer } = kit({ build: () => Effect.fail(failure("compile error")) })
    return Effect.gen(function*() {
      const { events, summary } = yield* execute()
      assert.strictEqual(summary.build.success, false)
      assert.strictEqual(summary.build.notes, "Builder stage error: compile error")
      assert.deepStrictEqual(summary.test, buildSkipped("a"))
      assert.deepStrictEqual(summary.review, reviewSkippedForBuild)
      assert.deepStrictEqual(typesOf(events), ["plan:completed", "build:completed", "run:completed"])
      assert.deepStrictEqual(calls, ["plan:run-1", "build:a:mcp"])
    }).pipe(Effect.provide(layer))
  })

  it.effect("a build that reports success false: no tester, no reviewer, no test:completed or review:completed", () => {
    const { calls, layer } = kit({ build: ({ target }) => Effect.succeed(built(target.id, false)) })
    return Effect.gen(function*() {
      const { events, summary } = yield* execute()
      assert.deepStrictEqual(summary.build, built("a", false))
      assert.deepStrictEqual(summary.test, buildSkipped("a"))
      assert.deepStrictEqual(summary.review, reviewSkippedForBuild)
      assert.deepStrictEqual(typesOf(events), ["plan:completed", "build:completed", "run:completed"])
      assert.deepStrictEqual(calls, ["plan:run-1", "build:a:mcp"])
    }).pipe(Effect.provide(layer))
  })

  it.effect("a tester failure: a failed `tests` report with the text; review skipped; test:completed published", () => {
    const { calls, layer } = kit({ test: () => Effect.fail(failure("runner vanished")) })
    return Effect.gen(function*() {
      const { events, summary } = yield* execute()
      const expectedTest: TestResult = {
        subtaskId: "a",
        success: false,
        reports: [{ name: "tests", status: "failed", details: "Tester stage error: runner vanished" }],
        runId
      }
      assert.deepStrictEqual(summary.test, expectedTest)
      assert.deepStrictEqual(summary.review, reviewSkippedForTests)
      assert.deepStrictEqual(typesOf(events), ["plan:completed", "build:completed", "test:completed", "run:completed"])
      const testEvent = only(events, "test:completed")
      assert.deepStrictEqual(testEvent.test, expectedTest)
      assert.deepStrictEqual(testEvent.build, summary.build)
      assert.deepStrictEqual(calls, ["plan:run-1", "build:a:mcp", "test:a"])
    }).pipe(Effect.provide(layer))
  })

  it.effect("a tester defect with a string; a failing test result skips the review too", () =>
    Effect.gen(function*() {
      const dying = kit({ test: () => Effect.die("segfault") })
      const first = yield* execute().pipe(Effect.provide(dying.layer))
      assert.strictEqual(first.summary.test.reports[0]?.details, "Tester stage error: segfault")
      assert.deepStrictEqual(first.summary.review, reviewSkippedForTests)

      const failing = kit({ test: (build) => Effect.succeed(tested(build, false)) })
      const second = yield* execute().pipe(Effect.provide(failing.layer))
      assert.deepStrictEqual(second.summary.test, tested(built("a"), false))
      assert.deepStrictEqual(second.summary.review, reviewSkippedForTests)
      assert.deepStrictEqual(failing.calls, ["plan:run-1", "build:a:mcp", "test:a"])
      assert.notInclude(typesOf(second.events), "review:completed")
    }))

  it.effect("a reviewer failure: summary and feedback are the text, not approved; review:completed published", () => {
    const { layer } = kit({ review: () => Effect.fail(failure("timeout")) })
    return Effect.gen(function*() {
      const { events, summary } = yield* execute()
      const expected: ReviewResult = {
        summary: "Reviewer stage error: timeout",
        decision: { approved: false, feedback: "Reviewer stage error: timeout" }
      }
      assert.deepStrictEqual(summary.review, expected)
      assert.deepStrictEqual(only(events, "review:completed").review, expected)
    }).pipe(Effect.provide(layer))
  })

  it.effect("a reviewer defect with an Error", () => {
    const { layer } = kit({ review: () => Effect.die(new TypeError("cannot read x")) })
    return Effect.gen(function*() {
      const { summary } = yield* execute()
      assert.strictEqual(summary.review.summary, "Reviewer stage error: cannot read x")
      assert.strictEqual(summary.review.decision.approved, false)
    }).pipe(Effect.provide(layer))
  })
})

describe("TaskManager: a successful target (TM-4, TM-5, EVT-1)", () => {
  it.effect("events plan → build → test → review → run:completed, with the summary's parts", () => {
    const { calls, layer } = kit({ plan: Effect.succeed(planOf([item("a")], "a")) })
    return Effect.gen(function*() {
      const { events, summary } = yield* execute()
      assert.deepStrictEqual(typesOf(events), [
        "plan:completed",
        "build:completed",
        "test:completed",
        "review:completed",
        "run:completed"
      ])
      assert.deepStrictEqual(calls, ["plan:run-1", "build:a:mcp", "test:a", "review:a"])
      const expected: RunSummary = {
        taskId: "demo",
        runId,
        mode: "mcp",
        plan: planOf([item("a")], "a"),
        build: built("a"),
        test: tested(built("a")),
        review: reviewed(built("a")),
        timestamp: epoch
      }
      assert.deepStrictEqual(summary, expected)
      assert.deepStrictEqual(only(events, "plan:completed").plan, expected.plan)
      assert.deepStrictEqual(only(events, "build:completed").build, expected.build)
      assert.deepStrictEqual(only(events, "test:completed").test, expected.test)
      assert.deepStrictEqual(only(events, "review:completed").review, expected.review)
      assert.deepStrictEqual(only(events, "run:completed").summary, expected)
      assert.isTrue(events.every((event) => event.taskId === "demo" && event.runId === runId && event.timestamp === epoch))
    }).pipe(Effect.provide(layer))
  })

  it.effect("the build's mode and runId are overwritten with the TaskManager's", () => {
    const { layer } = kit({
      build: ({ target }) => Effect.succeed({ ...built(target.id), mode: "cloud", runId: "someone-else" })
    })
    return Effect.gen(function*() {
      const { events, summary } = yield* execute()
      assert.strictEqual(summary.build.mode, "mcp")
      assert.strictEqual(summary.build.runId, runId)
      assert.strictEqual(only(events, "build:completed").build.mode, "mcp")
      assert.strictEqual(only(events, "build:completed").build.runId, runId)
    }).pipe(Effect.provide(layer))
  })
})

describe("TaskManager: target selection with group execution off (TM-3)", () => {
  const selecting = (plan: PlanResult) => kit({ plan: Effect.succeed(plan) })

  const unbuilt = (summary: RunSummary, notes: string) => {
    assert.deepStrictEqual(summary.build, {
      subtaskId: "planner-unavailable",
      artifacts: [],
      mode: "mcp",
      runId,
      success: false,
      notes
    })
    assert.strictEqual(summary.mode, "mcp")
    assert.deepStrictEqual(summary.test, buildSkipped("planner-unavailable"))
    assert.deepStrictEqual(summary.review, reviewSkippedForBuild)
  }

  it.effect("no items: `Planner returned no executable subtasks.`", () => {
    const { calls, layer } = selecting(planOf([]))
    return Effect.gen(function*() {
      const { events, summary } = yield* execute()
      unbuilt(summary, "Planner returned no executable subtasks.")
      assert.deepStrictEqual(calls, ["plan:run-1"])
      assert.deepStrictEqual(typesOf(events), ["plan:completed", "run:completed"])
    }).pipe(Effect.provide(layer))
  })

  it.effect("several runnable, no selection: the ids, comma-space, in the message", () => {
    const { calls, layer } = selecting(planOf([item("a"), item("b", { runnable: false }), item("c")], "missing"))
    return Effect.gen(function*() {
      const { summary } = yield* execute()
      unbuilt(
        summary,
        "Planner returned multiple runnable subtasks without a selection (a, c). Specify a target stage or update the planner configuration."
      )
      assert.deepStrictEqual(calls, ["plan:run-1"])
    }).pipe(Effect.provide(layer))
  })

  it.effect("none runnable: `Planner returned no runnable subtasks after applying selection and target hints.`", () => {
    const { calls, layer } = selecting(planOf([item("a", { runnable: false }), item("b", { runnable: false })]))
    return Effect.gen(function*() {
      const { summary } = yield* execute()
      unbuilt(summary, "Planner returned no runnable subtasks after applying selection and target hints.")
      assert.deepStrictEqual(calls, ["plan:run-1"])
    }).pipe(Effect.provide(layer))
  })

  it.effect("order: the first selected item beats targetId", () => {
    const { calls, layer } = selecting(planOf([item("a"), item("b", { selected: true }), item("c", { selected: true })], "a"))
    return Effect.gen(function*() {
      const { summary } = yield* execute()
      assert.deepStrictEqual(calls, ["plan:run-1", "build:b:mcp", "test:b", "review:b"])
      assert.strictEqual(summary.build.subtaskId, "b")
      assert.isUndefined(summary.group)
    }).pipe(Effect.provide(layer))
  })

  it.effect("order: targetId beats the only runnable item", () => {
    const { calls, layer } = selecting(planOf([item("a"), item("b", { runnable: false })], "b"))
    return Effect.gen(function*() {
      yield* execute()
      assert.deepStrictEqual(calls.slice(0, 2), ["plan:run-1", "build:b:mcp"])
    }).pipe(Effect.provide(layer))
  })

  it.effect("order: without selection or target, the only runnable item", () => {
    const { calls, layer } = selecting(planOf([item("a", { runnable: false }), item("b"), item("c", { runnable: false })]))
    return Effect.gen(function*() {
      yield* execute()
      assert.deepStrictEqual(calls.slice(0, 2), ["plan:run-1", "build:b:mcp"])
    }).pipe(Effect.provide(layer))
  })

  it.effect("group off with three runnable items and a target: one target, no group fields", () => {
    const { calls, layer } = selecting(planOf([item("a"), item("b"), item("c")], "b"))
    return Effect.gen(function*() {
      const { summary } = yield* execute()
      assert.deepStrictEqual(calls, ["plan:run-1", "build:b:mcp", "test:b", "review:b"])
      assert.isUndefined(summary.group)
      assert.isUndefined(summary.builds)
      assert.isUndefined(summary.tests)
      assert.isUndefined(summary.reviews)
    }).pipe(Effect.provide(layer))
  })
})

describe("TaskManager: execution mode (MODE-1)", () => {
  const modeOf = (plan: PlanResult, context: TaskContext = task, options?: ExecuteOptions, policy?: Layer.Layer<ExecutionModePolicy>) => {
    const { calls, layer } = kit({ plan: Effect.succeed(plan) }, policy === undefined ? {} : { policy })
    return execute(context, options).pipe(
      Effect.map(({ summary }) => {
        assert.strictEqual(summary.build.mode, summary.mode, "the build runs in the summary's mode")
        return { mode: summary.mode, builderMode: calls[1]?.split(":")[2] }
      }),
      Effect.provide(layer)
    )
  }

  it.effect("an item that requires the cloud runs in cloud", () =>
    Effect.gen(function*() {
      const result = yield* modeOf(planOf([item("a", { requires_cloud: true })]))
      assert.deepStrictEqual(result, { mode: "cloud", builderMode: "cloud" })
    }))

  it.effect("task.metadata.execution.parallel upgrades to cloud, even over an explicit requires_cloud false", () =>
    Effect.gen(function*() {
      const parallel: TaskContext = { ...task, metadata: { execution: { parallel: true } } }
      const result = yield* modeOf(planOf([item("a", { requires_cloud: false })]), parallel)
      assert.deepStrictEqual(result, { mode: "cloud", builderMode: "cloud" })
      const notParallel: TaskContext = { ...task, metadata: { execution: { parallel: "yes" } } }
      assert.deepStrictEqual(yield* modeOf(planOf([item("a")]), notParallel), { mode: "mcp", builderMode: "mcp" })
    }))

  it.effect("otherwise mcp", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* modeOf(planOf([item("a")])), { mode: "mcp", builderMode: "mcp" })
    }))

  it.effect("the forced mode option wins over the policy, both ways", () =>
    Effect.gen(function*() {
      const toMcp = yield* modeOf(planOf([item("a", { requires_cloud: true })]), task, { mode: "mcp" })
      assert.deepStrictEqual(toMcp, { mode: "mcp", builderMode: "mcp" })
      const toCloud = yield* modeOf(planOf([item("a")]), task, { mode: "cloud" })
      assert.deepStrictEqual(toCloud, { mode: "cloud", builderMode: "cloud" })
    }))

  it.effect("a fixed policy layer replaces MODE-1", () =>
    Effect.gen(function*() {
      const fixed = yield* modeOf(planOf([item("a", { requires_cloud: true })]), task, undefined, ExecutionModePolicyFixed("mcp"))
      assert.deepStrictEqual(fixed, { mode: "mcp", builderMode: "mcp" })
      const cloud = yield* modeOf(planOf([item("a")]), task, undefined, ExecutionModePolicyFixed("cloud"))
      assert.deepStrictEqual(cloud, { mode: "cloud", builderMode: "cloud" })
    }))
})

describe("TaskManager: the finalize option", () => {
  it.effect("its result is what run:completed carries and what execute returns", () => {
    const { layer } = kit({})
    const seen: Array<RunSummary> = []
    const run = {
      pipelineId: "p",
      status: "succeeded" as const,
      manifestPath: ".runs/t/cli/r/manifest.json",
      runSummaryPath: ".runs/t/cli/r/run-summary.json",
      metricsPath: ".runs/t/metrics.json"
    }
    return Effect.gen(function*() {
      const { events, summary } = yield* execute(task, {
        finalize: (plain) =>
          Effect.sync(() => {
            seen.push(plain)
            return { summary: { ...plain, cloudFallbackReason: "enriched" }, run }
          })
      })
      assert.strictEqual(seen.length, 1)
      assert.isUndefined(seen[0]?.cloudFallbackReason)
      assert.strictEqual(summary.cloudFallbackReason, "enriched")
      const completed = only(events, "run:completed")
      assert.deepStrictEqual(completed.summary, summary)
      // EVT-2: the pipeline run's details, next to the summary.
      assert.deepStrictEqual(
        [completed.pipelineId, completed.status, completed.manifestPath, completed.runSummaryPath, completed.metricsPath],
        Object.values(run)
      )
      assert.deepStrictEqual(summary, { ...(seen[0] ?? assert.fail("no summary")), cloudFallbackReason: "enriched" })
    }).pipe(Effect.provide(layer))
  })

  it.effect("a failing finalize: the original summary is published and returned", () => {
    const { layer } = kit({})
    return Effect.gen(function*() {
      const failing = yield* execute(task, { finalize: () => Effect.fail("disk full") })
      assert.isUndefined(failing.summary.cloudFallbackReason)
      assert.deepStrictEqual(failing.summary.build, built("a"))
      assert.deepStrictEqual(only(failing.events, "run:completed").summary, failing.summary)
      assert.isUndefined(only(failing.events, "run:completed").manifestPath)

      const dying = yield* execute(task, { finalize: () => Effect.die(new Error("bug")) })
      assert.deepStrictEqual(dying.summary, failing.summary)
      assert.deepStrictEqual(typesOf(dying.events).filter((t) => t === "run:completed"), ["run:completed"])
    }).pipe(Effect.provide(layer))
  })
})

describe("TaskManager: group execution (GRP-1, GRP-2)", () => {
  const three = planOf([item("a", { requires_cloud: true }), item("b"), item("c")], "b")

  it.effect("processes every runnable item serially, the preferred one first", () => {
    const { calls, layer } = kit({ plan: Effect.succeed(three) }, { group: true })
    return Effect.gen(function*() {
      const { events, summary } = yield* execute()
      assert.deepStrictEqual(calls, [
        "plan:run-1",
        "build:b:mcp",
        "test:b",
        "review:b",
        "build:a:cloud",
        "test:a",
        "review:a",
        "build:c:mcp",
        "test:c",
        "review:c"
      ])
      assert.deepStrictEqual(typesOf(events), [
        "plan:completed",
        ...["b", "a", "c"].flatMap(() => ["build:completed", "test:completed", "review:completed"]),
        "run:completed"
      ])
      const builds = [{ ...built("b"), mode: "mcp" as const }, { ...built("a"), mode: "cloud" as const }, built("c")]
      assert.deepStrictEqual(summary, {
        taskId: "demo",
        runId,
        // GRP-2: cloud when any entry was.
        mode: "cloud",
        plan: three,
        build: built("c"),
        test: tested(built("c")),
        review: reviewed(built("c")),
        timestamp: epoch,
        group: {
          enabled: true,
          size: 3,
          processed: 3,
          entries: [
            { index: 1, subtaskId: "b", mode: "mcp", buildSuccess: true, testSuccess: true, reviewApproved: true, status: "succeeded" },
            { index: 2, subtaskId: "a", mode: "cloud", buildSuccess: true, testSuccess: true, reviewApproved: true, status: "succeeded" },
            { index: 3, subtaskId: "c", mode: "mcp", buildSuccess: true, testSuccess: true, reviewApproved: true, status: "succeeded" }
          ]
        },
        builds,
        tests: builds.map((b) => tested(b)),
        reviews: builds.map((b) => reviewed(b))
      })
      assert.deepStrictEqual(only(events, "run:completed").summary, summary)
    }).pipe(Effect.provide(layer))
  })

  it.effect("without a runnable targetId, the first selected runnable item goes first; all in mcp means mcp", () => {
    const plan = planOf([item("a"), item("b"), item("c", { selected: true }), item("d", { runnable: false })], "d")
    const { calls, layer } = kit({ plan: Effect.succeed(plan) }, { group: true })
    return Effect.gen(function*() {
      const { summary } = yield* execute()
      assert.deepStrictEqual(calls.filter((c) => c.startsWith("build:")), ["build:c:mcp", "build:a:mcp", "build:b:mcp"])
      assert.strictEqual(summary.mode, "mcp")
      assert.strictEqual(summary.group?.size, 3, "only runnable items count")
    }).pipe(Effect.provide(layer))
  })

  it.effect("stops after the first failed build", () => {
    const { calls, layer } = kit({
      plan: Effect.succeed(three),
      build: ({ target }) => target.id === "a" ? Effect.fail(failure("broken")) : Effect.succeed(built(target.id))
    }, { group: true })
    return Effect.gen(function*() {
      const { events, summary } = yield* execute()
      assert.deepStrictEqual(calls, ["plan:run-1", "build:b:mcp", "test:b", "review:b", "build:a:cloud"])
      assert.deepStrictEqual(summary.group, {
        enabled: true,
        size: 3,
        processed: 2,
        entries: [
          { index: 1, subtaskId: "b", mode: "mcp", buildSuccess: true, testSuccess: true, reviewApproved: true, status: "succeeded" },
          { index: 2, subtaskId: "a", mode: "cloud", buildSuccess: false, testSuccess: false, reviewApproved: false, status: "failed" }
        ]
      })
      // The result is the last processed subtask's.
      assert.strictEqual(summary.build.notes, "Builder stage error: broken")
      assert.deepStrictEqual(summary.test, buildSkipped("a"))
      assert.deepStrictEqual(summary.review, reviewSkippedForBuild)
      assert.strictEqual(summary.mode, "cloud")
      assert.strictEqual(summary.builds?.length, 2)
      assert.deepStrictEqual(summary.tests?.[1], buildSkipped("a"))
      assert.deepStrictEqual(summary.reviews?.[1], reviewSkippedForBuild)
      assert.deepStrictEqual(typesOf(events), [
        "plan:completed",
        "build:completed",
        "test:completed",
        "review:completed",
        "build:completed",
        "run:completed"
      ])
    }).pipe(Effect.provide(layer))
  })

  it.effect("stops after the first failed test; a rejected review does not stop the group", () => {
    const { calls, layer } = kit({
      plan: Effect.succeed(three),
      review: (build) => Effect.succeed(reviewed(build, false)),
      test: (build) => Effect.succeed(tested(build, build.subtaskId !== "a"))
    }, { group: true })
    return Effect.gen(function*() {
      const { summary } = yield* execute()
      assert.deepStrictEqual(calls, ["plan:run-1", "build:b:mcp", "test:b", "review:b", "build:a:cloud", "test:a"])
      assert.deepStrictEqual(summary.group?.entries, [
        { index: 1, subtaskId: "b", mode: "mcp", buildSuccess: true, testSuccess: true, reviewApproved: false, status: "succeeded" },
        { index: 2, subtaskId: "a", mode: "cloud", buildSuccess: true, testSuccess: false, reviewApproved: false, status: "failed" }
      ])
      assert.strictEqual(summary.group?.processed, 2)
      assert.deepStrictEqual(summary.review, reviewSkippedForTests)
    }).pipe(Effect.provide(layer))
  })

  it.effect("group on with one runnable item: a single target, no group fields", () => {
    const plan = planOf([item("a", { runnable: false }), item("b"), item("c", { runnable: false })])
    const { calls, layer } = kit({ plan: Effect.succeed(plan) }, { group: true })
    return Effect.gen(function*() {
      const { summary } = yield* execute()
      assert.deepStrictEqual(calls, ["plan:run-1", "build:b:mcp", "test:b", "review:b"])
      assert.isUndefined(summary.group)
      assert.isUndefined(summary.builds)
    }).pipe(Effect.provide(layer))
  })

  it.effect("group on and a failed planner: TM-1, no group", () => {
    const { layer } = kit({ plan: Effect.fail(failure("x")) }, { group: true })
    return Effect.gen(function*() {
      const { summary } = yield* execute()
      assert.strictEqual(summary.build.subtaskId, "planner-unavailable")
      assert.isUndefined(summary.group)
    }).pipe(Effect.provide(layer))
  })
})

// ---------------------------------------------------------------------------------------------
// GRP-3 through the run engine: the CLI builder runs the pipeline once, however many targets.

describe("TaskManager through the run engine: the memoised builder (GRP-3)", () => {
  const scripts = {
    "echo one": { output: [{ stream: "stdout", data: "one\n" }], duration: "1 second" },
    "echo two": { output: [{ stream: "stdout", data: "two\n" }], duration: "1 second" },
    "node scripts/spec-guard.mjs": { duration: "1 second" }
  } satisfies Record<string, ScriptedProcess>
  const grouped = pipeline("grouped", [
    commandStage("one", "echo one"),
    commandStage("two", "echo two"),
    commandStage("guard", "node scripts/spec-guard.mjs")
  ])

  const settle = <A, E, R>(effect: Effect.Effect<A, E, R>, time: Duration.DurationInput = "1 minute") =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(effect)
      yield* TestClock.adjust(time)
      assert.isTrue(Option.isSome(yield* Fiber.poll(fiber)), "the run did not finish in time")
      return yield* Fiber.join(fiber)
    })

  it.effect("with group execution on, every stage is a target, and each command runs exactly once", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const { layout, manifest } = yield* settle(engine.start({ pipelineId: "grouped", taskId: "grp" }))
      const invoked = (yield* Effect.flatMap(ProcessInvocations, (p) => p.all)).map((spec) => spec.command)
      assert.deepStrictEqual(invoked, ["echo one", "echo two", "node scripts/spec-guard.mjs"])
      assert.strictEqual(manifest.status, "succeeded")

      const summary = yield* jsonFile(RunSummary, layout.runSummary)
      assert.strictEqual(summary.group?.enabled, true)
      assert.strictEqual(summary.group?.size, 3)
      assert.strictEqual(summary.group?.processed, 3)
      assert.deepStrictEqual(summary.group?.entries.map((e) => [e.subtaskId, e.status]), [
        ["grouped:one", "succeeded"],
        ["grouped:two", "succeeded"],
        ["grouped:guard", "succeeded"]
      ])
      assert.deepStrictEqual(summary.builds?.map((b) => b.runId), [manifest.run_id, manifest.run_id, manifest.run_id])
    }).pipe(Effect.provide(AppMemory({ scripts, pipelines: { user: [grouped] }, settings: { groupExecution: true } }))))

  it.effect("with group execution off, the same pipeline is one target", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const { layout } = yield* settle(engine.start({ pipelineId: "grouped", taskId: "grp" }))
      const invoked = (yield* Effect.flatMap(ProcessInvocations, (p) => p.all)).map((spec) => spec.command)
      assert.deepStrictEqual(invoked, ["echo one", "echo two", "node scripts/spec-guard.mjs"])
      const summary = yield* jsonFile(RunSummary, layout.runSummary)
      assert.isUndefined(summary.group)
    }).pipe(Effect.provide(AppMemory({ scripts, pipelines: { user: [grouped] } }))))
})
