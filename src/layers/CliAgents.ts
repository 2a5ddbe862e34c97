import { Context, Effect, Layer } from "effect"
import { buildResultOf, reviewResultOf, testResultOf } from "../domain/RunSummary.js"
import { AgentFailure } from "../domain/TaskManager.js"
import { Builder } from "../services/Builder.js"
import { Planner } from "../services/Planner.js"
import { PipelineRunner } from "../services/PipelineRunner.js"
import { Reviewer } from "../services/Reviewer.js"
import { Tester } from "../services/Tester.js"

/** An I/O failure of the run's own files, as an agent failure the TaskManager can report (TM-2). */
const asAgentFailure = <A>(effect: Effect.Effect<A, { readonly message: string }>) =>
  Effect.mapError(effect, (error) => new AgentFailure({ message: error.message, cause: error }))

/**
 * The CLI's agents (SPEC TM-6) on the PipelineRunner: the planner hands out the plan the run was
 * prepared with (PLN-4), the builder executes the run's pipeline (once, GRP-3), the tester reads
 * its guardrail status (MAN-5), and the reviewer approves a succeeded pipeline.
 */
export const CliAgentsLive: Layer.Layer<Planner | Builder | Tester | Reviewer, never, PipelineRunner> = Layer.effectContext(
  Effect.gen(function*() {
    const runner = yield* PipelineRunner
    const planner = Planner.of({ plan: (task) => Effect.map(runner.prepared(task.runId), (run) => run.plan) })
    const builder = Builder.of({
      build: ({ mode, runId, target }) =>
        asAgentFailure(Effect.map(runner.execute(runId, mode), (run) => buildResultOf(run.manifest, target.id, mode)))
    })
    const tester = Tester.of({
      test: ({ build, runId }) =>
        asAgentFailure(Effect.map(runner.execute(runId, build.mode), (run) => testResultOf(run.manifest, build)))
    })
    const reviewer = Reviewer.of({
      review: ({ build, runId }) =>
        asAgentFailure(Effect.map(runner.execute(runId, build.mode), (run) => reviewResultOf(run.manifest, build)))
    })
    return Context.make(Planner, planner).pipe(
      Context.add(Builder, builder),
      Context.add(Tester, tester),
      Context.add(Reviewer, reviewer)
    )
  })
)
