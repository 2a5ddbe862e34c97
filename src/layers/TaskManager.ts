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
import { type Finalized, TaskManager } from "../services/TaskManager.js"
import { Tester } from "../services/Tester.js"
import { randomHex } from "./internal/entropy.js"

const isoNow = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

/**
 * An agent's result, or the TM-2 text of what went wrong: its error, or a defect. Interruption is
 * not an agent failure and stays an interruption.
 */
const attempt = <A, E>(stage: AgentStage, effect: Effect.Effect<A, E>): Effect.Effect<Either.Either<A, string>> =>
  effect.pipe(
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

export const TaskManagerLive = Layer.effect(
  TaskManager,
  Effect.gen(function*() {
    const planner = yield* Planner
    const builder = yield* Builder
    const tester = yield* Tester
    const reviewer = yield* Reviewer
    const policy = yield* ExecutionModePolicy
    const bus = yield* EventBus
    // GRP-1: read once, when the TaskManager is built.
    const groupMode = (yield* OrchestratorConfig).groupExecution

    return TaskManager.of({
      execute: (task, options = {}) =>
        Effect.gen(function*() {
          const runId = task.runId ?? makeRunId(yield* Clock.currentTimeMillis, yield* randomHex(4))
          const context: TaskContext & { readonly runId: string } = { ...task, runId }
          const stamp = { taskId: task.id, runId }

          /** TM-1, TM-3: nothing could be built; the build fails with this message, test and review are skipped. */
          const unbuilt = (notes: string): TargetOutcome => ({
            item: undefined,
            mode: "mcp",
            build: { subtaskId: "planner-unavailable", artifacts: [], mode: "mcp", runId, success: false, notes },
            test: testsSkippedForBuild("planner-unavailable", runId),
            review: reviewSkippedForBuild
          })

          /** TM-4 for one subtask: build, then test if it built, then review if the tests passed. */
          const processTarget = (item: PlanItem) =>
            Effect.gen(function*() {
              const mode = options.mode ?? policy.decide(context, item)
              // TM-4: a result without a boolean `success` (a JavaScript builder, say) is a builder error.
              const built = yield* attempt(
                "Builder",
                Effect.filterOrFail(
                  builder.build({ task: context, target: item, mode, runId }),
                  (result) => typeof (result as { readonly success: unknown }).success === "boolean",
                  () => new Error("the result has no boolean `success`")
                )
              )
              const build: BuildResult = Either.isRight(built)
                ? { ...built.right, mode, runId }
                : { subtaskId: item.id, artifacts: [], mode, runId, success: false, notes: built.left }
              yield* bus.publish({ type: "build:completed", ...stamp, timestamp: yield* isoNow, build })
              if (!build.success) {
                return { item, mode, build, test: testsSkippedForBuild(build.subtaskId, runId), review: reviewSkippedForBuild }
              }
              const tested = yield* attempt("Tester", tester.test({ task: context, build, runId }))
              const test: TestResult = Either.isRight(tested) ? tested.right : {
                subtaskId: build.subtaskId,
                success: false,
                reports: [{ name: "tests", status: "failed", details: tested.left }],
                runId
              }
              yield* bus.publish({ type: "test:completed", ...stamp, timestamp: yield* isoNow, build, test })
              if (!test.success) return { item, mode, build, test, review: reviewSkippedForTests }
              const reviewed = yield* attempt("Reviewer", reviewer.review({ task: context, build, test, runId }))
              const review: ReviewResult = Either.isRight(reviewed)
                ? reviewed.right
                : { summary: reviewed.left, decision: { approved: false, feedback: reviewed.left } }
              yield* bus.publish({ type: "review:completed", ...stamp, timestamp: yield* isoNow, review })
              return { item, mode, build, test, review }
            })

          const summarize = (plan: PlanResult, outcome: TargetOutcome, timestamp: string): RunSummary => ({
            taskId: task.id,
            runId,
            mode: outcome.mode,
            plan,
            build: outcome.build,
            test: outcome.test,
            review: outcome.review,
            timestamp
          })

          /** GRP-2: subtasks in order until the first failed build or test. */
          const processGroup = (plan: PlanResult, targets: ReadonlyArray<PlanItem>) =>
            Effect.gen(function*() {
              const outcomes: Array<TargetOutcome> = []
              for (const item of targets) {
                const outcome = yield* processTarget(item)
                outcomes.push(outcome)
                if (!outcome.build.success || !outcome.test.success) break
              }
              const last = outcomes[outcomes.length - 1] ?? unbuilt("Planner returned no executable subtasks.")
              const base = summarize(plan, last, yield* isoNow)
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

          const planned = yield* attempt("Planner", planner.plan(context))
          const plan = Either.isRight(planned) ? planned.right : unavailablePlan(planned.left)
          yield* bus.publish({ type: "plan:completed", ...stamp, timestamp: yield* isoNow, plan })
          if (options.onPlan !== undefined) {
            yield* options.onPlan(plan).pipe(
              Effect.catchAllCause((cause) =>
                Cause.isInterruptedOnly(cause)
                  ? Effect.interrupt
                  : Effect.logError(`Recording the plan of run ${runId} failed; the run goes on.`, cause)
              )
            )
          }

          const targets = groupTargets(plan)
          const summary: RunSummary = Either.isLeft(planned)
            ? summarize(plan, unbuilt(planned.left), yield* isoNow)
            : groupMode && targets.length > 1
            ? yield* processGroup(plan, targets)
            : yield* Either.match(selectTarget(plan), {
              onLeft: (message) => Effect.map(isoNow, (now) => summarize(plan, unbuilt(message), now)),
              onRight: (item) => Effect.flatMap(processTarget(item), (outcome) => Effect.map(isoNow, (now) => summarize(plan, outcome, now)))
            })

          const finalized: Finalized = options.finalize === undefined ? { summary } : yield* options.finalize(summary).pipe(
            Effect.catchAllCause((cause) =>
              Cause.isInterruptedOnly(cause)
                ? Effect.interrupt
                : Effect.logError(`Finishing run ${runId} failed; its summary is published as it was.`, cause).pipe(
                  Effect.as({ summary })
                )
            )
          )
          yield* bus.publish({
            type: "run:completed",
            ...stamp,
            timestamp: yield* isoNow,
            summary: finalized.summary,
            ...finalized.run
          })
          return finalized.summary
        })
    })
  })
)
