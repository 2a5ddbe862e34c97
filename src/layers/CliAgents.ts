import { Context, Effect, Layer } from "effect"
import type { RunHandle } from "../domain/RunHandle.js"
import { buildResultOf, reviewResultOf, testResultOf } from "../domain/RunSummary.js"
import { AgentFailure, type TaskContext } from "../domain/TaskManager.js"
import { Builder } from "../services/Builder.js"
import { Planner } from "../services/Planner.js"
import { Reviewer } from "../services/Reviewer.js"
import { Tester } from "../services/Tester.js"

/** The task's pipeline run; the CLI's agents work on nothing else. */
const runOf = (task: TaskContext): Effect.Effect<RunHandle, AgentFailure> =>
  task.run === undefined
    ? Effect.fail(
      new AgentFailure({
        message: `Task ${task.id} has no pipeline run: the CLI's agents carry out runs prepared by the RunEngine (start or resume).`
      })
    )
    : Effect.succeed(task.run)

/** An I/O failure of the run's own files, as an agent failure the TaskManager can report (TM-2). */
const asAgentFailure = <A>(effect: Effect.Effect<A, { readonly message: string }>) =>
  Effect.mapError(effect, (error) => error instanceof AgentFailure ? error : new AgentFailure({ message: error.message, cause: error }))

/**
 * The CLI's agents (SPEC TM-6) on the task's RunHandle: the planner hands out the plan the run was
 * prepared with (PLN-4), the builder executes the run's pipeline, the tester reads its guardrail
 * status (MAN-5), and the reviewer approves a succeeded pipeline. Tester and reviewer ask the handle
 * for the execution too: it runs once (GRP-3), so they see the builder's, or run the pipeline
 * themselves when an app replaced the builder with one that did not.
 */
export const CliAgentsLive: Layer.Layer<Planner | Builder | Tester | Reviewer> = Layer.succeedContext(
  Context.make(Planner, Planner.of({ plan: (task) => Effect.map(runOf(task), (run) => run.plan) })).pipe(
    Context.add(
      Builder,
      Builder.of({
        build: ({ mode, target, task }) =>
          asAgentFailure(Effect.flatMap(runOf(task), (run) =>
            Effect.map(run.execute(mode), (executed) => buildResultOf(executed.manifest, target.id, mode))))
      })
    ),
    Context.add(
      Tester,
      Tester.of({
        test: ({ build, task }) =>
          asAgentFailure(Effect.flatMap(runOf(task), (run) =>
            Effect.map(run.execute(build.mode), (executed) => testResultOf(executed.manifest, build))))
      })
    ),
    Context.add(
      Reviewer,
      Reviewer.of({
        review: ({ build, task }) =>
          asAgentFailure(Effect.flatMap(runOf(task), (run) =>
            Effect.map(run.execute(build.mode), (executed) => reviewResultOf(executed.manifest, build))))
      })
    )
  )
)
