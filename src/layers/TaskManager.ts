import { Cause, Clock, Effect, Either, Layer } from "effect"
import type { ExecutionMode } from "../domain/ExecutionMode.js"
import { makeRunId } from "../domain/Ids.js"
import type { PlanItem, PlanResult } from "../domain/Plan.js"
import {
  type BuildResult,
  type ReviewResult,
  reviewSkippedForBuild,
  reviewSkippedForTests,
  type RunSummary,
  type TestResult,
  testsSkippedForBuild
} from "../domain/RunSummary.js"
import {
  type AgentStage,
  groupEntryOf,
  groupTargets,
  selectTarget,
  stageErrorText,
  type TaskContext,
  unavailablePlan
} from "../domain/TaskManager.js"
import { Builder } from "../services/Builder.js"
import { EventBus } from "../services/EventBus.js"
import { ExecutionModePolicy } from "../services/ExecutionModePolicy.js"
import { OrchestratorConfig } from "../services/OrchestratorConfig.js"
import { Planner } from "../services/Planner.js"
import { Reviewer } from "../services/Reviewer.js"
import { type ExecuteOptions, type Finalized, TaskManager } from "../services/TaskManager.js"
import { Tester } from "../services/Tester.js"
import { Entropy } from "../services/Entropy.js"
import { isoNow } from "../domain/Time.js"


/**
 * An agent's result, or the TM-2 text of what went wrong: its error, or a defect. Interruption is
 * not an agent failure and stays an interruption.
 */
const attempt = <A, E>(stage: AgentStage, call: () => Effect.Effect<A, E>): Effect.Effect<Either.Either<A, string>> =>
  // Called inside: an agent that throws instead of returning its Effect (a JavaScript agent) fails its stage too.
  Effect.suspend(call).pipe(
    Effect.map(Either.right),
    Effect.catchAllCause((cause) =>
      Cause.isInterruptedOnly(cause)
        ? Effect.interrupt
        : Effect.succeed(Either.left(stageErrorText(stage, Cause.squash(cause))))
    )
  )

interface TargetOutcome {
  readonly item: PlanItem | undefined
  readonly mode: ExecutionMode
  readonly build: BuildResult
  readonly test: TestResult
  readonly review: ReviewResult
}

/** The services the flow calls. */
interface Flow {
  readonly planner: Planner["Type"]
  readonly builder: Builder["Type"]
  readonly tester: Tester["Type"]
  readonly reviewer: Reviewer["Type"]
  readonly policy: ExecutionModePolicy["Type"]
  readonly bus: EventBus["Type"]
}

/** One call of `execute`: the task with its run id, the stamp of its events, the caller's options. */
interface TaskRun {
  readonly context: TaskContext & { readonly runId: string }
  readonly stamp: { readonly taskId: string; readonly runId: string }
  readonly options: ExecuteOptions
}

/** TM-1, TM-3: nothing could be built; the build fails with this message, test and review are skipped. */
const unbuilt = (runId: string, notes: string): TargetOutcome => ({
  item: undefined,
  mode: "mcp",
  build: { subtaskId: "planner-unavailable", artifacts: [], mode: "mcp", runId, success: false, notes },
  test: testsSkippedForBuild("planner-unavailable", runId),
  review: reviewSkippedForBuild
})

/** TM-4 for one subtask: build, then test if it built, then review if the tests passed. */
const processTarget = (flow: Flow, run: TaskRun, item: PlanItem) =>
  Effect.gen(function*() {
    const { context, stamp } = run
    const runId = context.runId
    const mode = run.options.mode ?? flow.policy.decide(context, item)
    // TM-4: a result without a boolean `success` (a JavaScript builder, say) is a builder error.
    const built = yield* attempt("Builder", () =>
      Effect.filterOrFail(
        flow.builder.build({ task: context, target: item, mode, runId }),
        (result) => typeof (result as { readonly success: unknown }).success === "boolean",
        () => new Error("the result has no boolean `success`")
      ))
    const build: BuildResult = Either.isRight(built)
      ? { ...built.right, mode, runId }
      : { subtaskId: item.id, artifacts: [], mode, runId, success: false, notes: built.left }
    yield* flow.bus.publish({ type: "build:completed", ...stamp, timestamp: yield* isoNow, build })
    if (!build.success) {
      return { item, mode, build, test: testsSkippedForBuild(build.subtaskId, runId), review: reviewSkippedForBuild }
    }
    const tested = yield* attempt("Tester", () => flow.tester.test({ task: context, build, runId }))
    const test: TestResult = Either.isRight(tested) ? tested.right : {
      subtaskId: build.subtaskId,
      success: false,
      reports: [{ name: "tests", status: "failed", details: tested.left }],
      runId
    }
    yield* flow.bus.publish({ type: "test:completed", ...stamp, timestamp: yield* isoNow, build, test })
    if (!test.success) return { item, mode, build, test, review: reviewSkippedForTests }
    const reviewed = yield* attempt("Reviewer", () => flow.reviewer.review({ task: context, build, test, runId }))
    const review: ReviewResult = Either.isRight(reviewed)
      ? reviewed.right
      : { summary: reviewed.left, decision: { approved: false, feedback: reviewed.left } }
    yield* flow.bus.publish({ type: "review:completed", ...stamp, timestamp: yield* isoNow, review })
    return { item, mode, build, test, review }
  })

const summarize = (run: TaskRun, plan: PlanResult, outcome: TargetOutcome, timestamp: string): RunSummary => ({
  taskId: run.context.id,
  runId: run.context.runId,
  mode: outcome.mode,
  plan,
  build: outcome.build,
  test: outcome.test,
  review: outcome.review,
  timestamp
})

/** GRP-2: subtasks in order until the first failed build or test. */
const processGroup = (flow: Flow, run: TaskRun, plan: PlanResult, targets: ReadonlyArray<PlanItem>) =>
  Effect.gen(function*() {
    const outcomes: Array<TargetOutcome> = []
    for (const item of targets) {
      const outcome = yield* processTarget(flow, run, item)
      outcomes.push(outcome)
      if (!outcome.build.success || !outcome.test.success) break
    }
    const last = outcomes[outcomes.length - 1] ?? unbuilt(run.context.runId, "Planner returned no executable subtasks.")
    const base = summarize(run, plan, last, yield* isoNow)
    return {
      ...base,
      mode: outcomes.some((o) => o.mode === "cloud") ? "cloud" as const : "mcp" as const,
      group: {
        enabled: true,
        size: targets.length,
        processed: outcomes.length,
        entries: outcomes.map((o, i) =>
          groupEntryOf(i + 1, o.build.subtaskId, o.mode, {
            build: o.build.success,
            test: o.test.success,
            review: o.review.decision.approved
          })
        )
      },
      builds: outcomes.map((o) => o.build),
      tests: outcomes.map((o) => o.test),
      reviews: outcomes.map((o) => o.review)
    }
  })

/** A caller's step that failed is logged and the flow goes on; an interruption stays one. */
const logFailure = (message: string) => (cause: Cause.Cause<unknown>) =>
  Cause.isInterruptedOnly(cause) ? Effect.interrupt : Effect.logError(message, cause)

/** The plan's summary: one target, a group (GRP-1), or nothing buildable. */
const summaryOf = (flow: Flow, run: TaskRun, groupMode: boolean, planned: Either.Either<PlanResult, string>, plan: PlanResult) => {
  const targets = groupTargets(plan)
  return Either.isLeft(planned)
    ? Effect.map(isoNow, (now) => summarize(run, plan, unbuilt(run.context.runId, planned.left), now))
    : groupMode && targets.length > 1
    ? processGroup(flow, run, plan, targets)
    : Either.match(selectTarget(plan), {
      onLeft: (message) => Effect.map(isoNow, (now) => summarize(run, plan, unbuilt(run.context.runId, message), now)),
      onRight: (item) => Effect.flatMap(processTarget(flow, run, item), (outcome) => Effect.map(isoNow, (now) => summarize(run, plan, outcome, now)))
    })
}

export const TaskManagerLive = Layer.effect(
  TaskManager,
  Effect.gen(function*() {
    const entropy = yield* Entropy
    const flow: Flow = {
      planner: yield* Planner,
      builder: yield* Builder,
      tester: yield* Tester,
      reviewer: yield* Reviewer,
      policy: yield* ExecutionModePolicy,
      bus: yield* EventBus
    }
    // GRP-1: read once, when the TaskManager is built.
    const groupMode = (yield* OrchestratorConfig).groupExecution

    const execute = Effect.fn("TaskManager.execute")(function*(task: TaskContext, options: ExecuteOptions = {}) {
      const runId = task.runId ?? makeRunId(yield* Clock.currentTimeMillis, yield* entropy.hex(4))
      const run: TaskRun = { context: { ...task, runId }, stamp: { taskId: task.id, runId }, options }
      const planned = yield* attempt("Planner", () => flow.planner.plan(run.context))
      const plan = Either.isRight(planned) ? planned.right : unavailablePlan(planned.left)
      yield* flow.bus.publish({ type: "plan:completed", ...run.stamp, timestamp: yield* isoNow, plan })
      if (options.onPlan !== undefined) {
        yield* options.onPlan(plan).pipe(
          Effect.catchAllCause(logFailure(`Recording the plan of run ${runId} failed; the run goes on.`))
        )
      }
      const summary: RunSummary = yield* summaryOf(flow, run, groupMode, planned, plan)
      const finalized: Finalized = options.finalize === undefined ? { summary } : yield* options.finalize(summary).pipe(
        Effect.catchAllCause((cause) =>
          Effect.as(logFailure(`Finishing run ${runId} failed; its summary is published as it was.`)(cause), { summary })
        )
      )
      yield* flow.bus.publish({ type: "run:completed", ...run.stamp, timestamp: yield* isoNow, summary: finalized.summary, ...finalized.run })
      return finalized.summary
    })

    return TaskManager.of({ execute: (task, options) => execute(task, options) })
  })
)
