import { Duration, Effect, Layer } from "effect"
import type { ControlPlaneValidationFailed } from "../domain/ControlPlane.js"
import type { ExecutionMode } from "../domain/ExecutionMode.js"
import { EventBus } from "../services/EventBus.js"
import { OrchestratorConfig } from "../services/OrchestratorConfig.js"
import { PipelineRunner, type PreparedRun } from "../services/PipelineRunner.js"
import { RunEngine } from "../services/RunEngine.js"
import { RunReader } from "../services/RunReader.js"
import { RunStore } from "../services/RunStore.js"
import { TaskManager } from "../services/TaskManager.js"

/**
 * RUN-1 and RUN-9 end to end: the PipelineRunner prepares the run, the TaskManager drives it through
 * the agents, and the TaskManager's finalize step completes it (run summary, metrics) before
 * `run:completed` is published.
 */
export const RunEngineLive = Layer.effect(
  RunEngine,
  Effect.gen(function*() {
    const runner = yield* PipelineRunner
    const taskManager = yield* TaskManager
    const bus = yield* EventBus
    const reader = yield* RunReader
    const store = yield* RunStore
    const { subscriberGrace } = yield* OrchestratorConfig

    const drive = (prepared: PreparedRun, mode: ExecutionMode | undefined) =>
      Effect.gen(function*() {
        yield* taskManager.execute(
          { id: prepared.taskId, title: prepared.taskTitle, runId: prepared.runId },
          {
            mode,
            onPlan: (plan) => runner.recordPlanTarget(prepared.runId, plan.targetId),
            finalize: (summary) =>
              Effect.map(runner.complete(prepared.runId, summary), ({ layout, manifest, summary }) => ({
                summary,
                run: {
                  pipelineId: manifest.pipeline_id,
                  status: manifest.status,
                  manifestPath: layout.relative(layout.manifest),
                  runSummaryPath: layout.relative(layout.runSummary),
                  metricsPath: layout.relative(layout.taskMetrics)
                }
              }))
          }
        )
        // Subscribers (the task-state snapshot, cloud sync) finish before the caller moves on, but a
        // subscriber that never finishes must not hold the run (and the CLI's exit) forever.
        const behind = yield* bus.settle(subscriberGrace)
        if (behind.length > 0) {
          yield* Effect.logWarning(
            `Stopped waiting after ${Duration.format(subscriberGrace)} for event subscribers still handling ` +
              `${[...new Set(behind)].join(", ")}; what they were doing is cut off. The run's manifest is complete.`
          )
        }
        return { manifest: yield* store.read(prepared.layout), layout: prepared.layout }
      })

    /**
     * CP-4: enforce mode refused the run before it started; its manifest says `failed` and why, and
     * that run is the outcome (the CLI prints it and exits 1), not an error.
     */
    const refused = (taskId: string | undefined) => (error: ControlPlaneValidationFailed) =>
      Effect.gen(function*() {
        const { layout } = yield* reader.status({ runId: error.section.request_id, taskId })
        return { manifest: yield* store.read(layout), layout }
      })

    return RunEngine.of({
      plan: runner.plan,
      start: (request) =>
        runner.bootstrap(request).pipe(
          Effect.flatMap((prepared) => drive(prepared, request.executionMode)),
          Effect.catchTag("ControlPlaneValidationFailed", refused(request.taskId))
        ),
      resume: (request) =>
        runner.reopen(request).pipe(
          Effect.flatMap((prepared) => drive(prepared, request.executionMode)),
          Effect.catchTag("ControlPlaneValidationFailed", refused(request.taskId))
        ),
      status: reader.status,
      watch: reader.watch
    })
  })
)
