/** A run's handle over the phases that execute and complete it (see src/domain/RunHandle.ts). */
import { Effect, Option, SynchronizedRef } from "effect"
import type { ExecutedRun, RunHandle } from "../../domain/RunHandle.js"
import { markCancelled } from "./runCancellation.js"
import type { ActiveRun } from "../../services/RunBootstrap.js"
import type { RunCompletion } from "../../services/RunCompletion.js"
import type { StageExecution } from "../../services/StageExecution.js"

/** The run as its holder sees it; its first execution is shared by every later call (GRP-3). */
export const makeRunHandle = (
  run: ActiveRun,
  execution: StageExecution["Type"],
  completion: RunCompletion["Type"]
): Effect.Effect<RunHandle> =>
  Effect.map(SynchronizedRef.make(Option.none<ExecutedRun>()), (executed) => ({
    taskId: run.input.taskId,
    taskTitle: run.input.taskTitle,
    runId: run.files.layout.runId,
    layout: run.files.layout,
    pipeline: run.input.pipeline,
    plan: run.input.plan,
    manifest: run.files.manifest,
    execute: (mode) =>
      SynchronizedRef.modifyEffect(executed, (done) =>
        Option.match(done, {
          onSome: (result) => Effect.succeed([result, done] as const),
          onNone: () => Effect.map(execution.execute(run, mode), (result) => [result, Option.some(result)] as const)
        })),
    recordPlanTarget: (targetId) =>
      Effect.flatMap(run.files.manifest, (current) =>
        current.plan_target_id === targetId
          ? Effect.void
          : Effect.asVoid(run.files.update((m) => ({ ...m, plan_target_id: targetId }), { force: true }))),
    complete: (summary, extras) => completion.complete(run, summary, { extras, learnFrom: true }),
    cancel: markCancelled(run.files)
  }))
