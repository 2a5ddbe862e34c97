import { Duration, Effect, Layer } from "effect"
import type { ControlPlaneValidationFailed } from "../domain/ControlPlane.js"
import type { ExecutionMode } from "../domain/ExecutionMode.js"
import type { CliManifest } from "../domain/Manifest.js"
import { isTerminal } from "../domain/ManifestStatus.js"
import type { RunHandle } from "../domain/RunHandle.js"
import type { RunLayout } from "../domain/RunLayout.js"
import { EventBus } from "../services/EventBus.js"
import { OrchestratorConfig } from "../services/OrchestratorConfig.js"
import { cacheBypassed } from "../services/StageCache.js"
import { RunEngine } from "../services/RunEngine.js"
import { RunPreparation } from "../services/RunPreparation.js"
import { RunReader } from "../services/RunReader.js"
import { RunStore } from "../services/RunStore.js"
import { TaskManager } from "../services/TaskManager.js"

/**
 * A resume without a mode continues a run that ran `cloud` in `cloud` (issue 18): a stage it left
 * running on the cluster is the cluster's to finish, never run again here.
 */
const resumedMode = (recorded: CliManifest): ExecutionMode | undefined => (recorded.execution_mode === "cloud" ? "cloud" : undefined)

/**
 * RUN-1 and RUN-9 end to end: RunPreparation hands out the run's handle, the TaskManager drives it
 * through the agents, and the TaskManager's finalize step completes it (run summary, metrics) before
 * `run:completed` is published.
 */
export const RunEngineLive = Layer.effect(
  RunEngine,
  Effect.gen(function*() {
    const preparation = yield* RunPreparation
    const taskManager = yield* TaskManager
    const bus = yield* EventBus
    const reader = yield* RunReader
    const store = yield* RunStore
    const { subscriberGrace } = yield* OrchestratorConfig

    const drive = Effect.fn("RunEngine.drive")(function*(run: RunHandle, mode: ExecutionMode | undefined) {
      // D-8: the stage loop records its own cancellation; this covers the planning before it.
      yield* taskManager.execute(
        { id: run.taskId, title: run.taskTitle, runId: run.runId, run },
        {
          mode,
          onPlan: (plan) => run.recordPlanTarget(plan.targetId),
          finalize: (summary) =>
            Effect.map(run.complete(summary), ({ layout, manifest, summary }) => ({
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
      ).pipe(Effect.onInterrupt(() => run.cancel))
      // Subscribers (the task-state snapshot, cloud sync) finish before the caller moves on, but a
      // subscriber that never finishes must not hold the run (and the CLI's exit) forever.
      const behind = yield* bus.settle(subscriberGrace)
      if (behind.length > 0) {
        yield* Effect.logWarning(
          `Stopped waiting after ${Duration.format(subscriberGrace)} for event subscribers still handling ` +
            `${[...new Set(behind)].join(", ")}; what they were doing is cut off. The run's manifest is complete.`
        )
      }
      // The manifest as written; if the run's last writes failed (a full disk), what the run holds.
      const written = yield* store.read(run.layout)
      return { manifest: isTerminal(written.status) ? written : yield* run.manifest, layout: run.layout }
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

    /** A resume of a run that already succeeded: the run as it is, nothing written. */
    const alreadySucceeded = (layout: RunLayout) =>
      Effect.gen(function*() {
        const manifest = yield* store.read(layout)
        yield* Effect.logInfo(`Run ${manifest.run_id} already succeeded; nothing to resume (the run is left as it is).`)
        return { manifest, layout, alreadySucceeded: true }
      })

    /** B-5 `--no-cache`: the run's stages, nested runs' included, neither read nor fill the cache. */
    const bypassWhen = (off: boolean) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      off ? Effect.locally(effect, cacheBypassed, true) : effect

    return RunEngine.of({
      plan: preparation.plan,
      start: (request) =>
        preparation.bootstrap(request).pipe(
          Effect.flatMap((run) => drive(run, request.executionMode)),
          Effect.catchTag("ControlPlaneValidationFailed", refused(request.taskId)),
          bypassWhen(request.cache === false)
        ),
      resume: (request) =>
        preparation.reopen(request).pipe(
          Effect.flatMap((reopened) =>
            reopened._tag === "Resumed"
              ? Effect.flatMap(reopened.run.manifest, (m) => drive(reopened.run, request.executionMode ?? resumedMode(m)))
              : alreadySucceeded(reopened.layout)
          ),
          Effect.catchTag("ControlPlaneValidationFailed", refused(request.taskId)),
          bypassWhen(request.cache === false)
        ),
      status: reader.status,
      watch: reader.watch
    })
  })
)
