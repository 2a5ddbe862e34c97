import { Effect, Layer, Option } from "effect"
import type { ExecutionMode } from "../domain/ExecutionMode.js"
import { CloudSync } from "../services/CloudSync.js"
import { EventBus } from "../services/EventBus.js"
import { PipelineRunner, type PreparedRun } from "../services/PipelineRunner.js"
import { RunEngine, type RunRequest } from "../services/RunEngine.js"
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
    const cloudSync = yield* CloudSync

    /** Status plus the run's cloud sync record; a damaged record is a warning, not a failed status. */
    const status = (request: RunRequest) =>
      Effect.gen(function*() {
        const view = yield* runner.status(request)
        const record = yield* cloudSync.readSyncRecord(view.manifest.task_id, view.manifest.run_id).pipe(
          Effect.catchAll((error) => Effect.logWarning(`Cloud sync record unreadable: ${error.message}`).pipe(Effect.as(Option.none())))
        )
        return Option.isSome(record) ? { ...view, cloudSync: record.value } : view
      })

    const drive = (prepared: PreparedRun, mode: ExecutionMode | undefined) =>
      Effect.gen(function*() {
        yield* taskManager.execute(
          { id: prepared.taskId, title: prepared.taskTitle, runId: prepared.runId },
          {
            mode,
            finalize: (summary) => Effect.map(runner.complete(prepared.runId, summary), (completed) => completed.summary)
          }
        )
        // Subscribers (the task-state snapshot, cloud sync) finish before the caller moves on.
        yield* bus.settled
        const view = yield* status({ runId: prepared.runId, taskId: prepared.taskId })
        return { manifest: view.manifest, layout: prepared.layout }
      })

    return RunEngine.of({
      plan: runner.plan,
      start: (request) => Effect.flatMap(runner.bootstrap(request), (prepared) => drive(prepared, request.executionMode)),
      resume: (request) => Effect.flatMap(runner.reopen(request), (prepared) => drive(prepared, request.executionMode)),
      status,
      watch: runner.watch
    })
  })
)
