/**
 * A nested pipeline stage (SPEC RUN-7): the stage runs a full child run; the child's outcome becomes
 * this entry's. How the child runs is the caller's (the stage loop creates, executes and completes
 * it); this module records the entry before and after.
 */
import { Effect, Either } from "effect"
import type { FileAccessError } from "../../domain/FileErrors.js"
import { appendSummary, type CliManifest } from "../../domain/Manifest.js"
import type { PipelineDefinition, SubpipelineStage } from "../../domain/Pipeline.js"
import { buildPlan, type PlanResult, UnknownTarget } from "../../domain/Plan.js"
import type { CompletedRun } from "../../domain/RunHandle.js"
import type { StageVerdict } from "../../services/CommandStageRunner.js"
import type { ActiveRun } from "../../services/RunBootstrap.js"
import { clearResuming, patchEntry } from "./entries.js"
import type { RunEvents } from "./runEvents.js"
import { isoNow } from "../../domain/Time.js"

/**
 * Runs the child pipeline as a child run of `parent`, start to finish; `created` is told the child's
 * run id once its folder exists, before any of its stages runs.
 */
export type RunChild = (
  parent: ActiveRun,
  child: {
    readonly pipeline: PipelineDefinition
    readonly plan: PlanResult
    readonly parentRunId: string
    /** The nested stage making the child, recorded in it as `parent_stage_id` when it is created. */
    readonly parentStageId: string
    readonly created: (childRunId: string) => Effect.Effect<void, FileAccessError>
  }
) => Effect.Effect<CompletedRun, { readonly message: string }>

/** The child run could not run at all: a required stage fails the run, an optional one is skipped. */
const recordUnrun = (run: ActiveRun, stage: SubpipelineStage, position: number, reason: string, now: string) => {
  const optional = stage.optional === true
  return run.files.update((m) => {
    const patched = patchEntry(position, {
      status: optional ? "skipped" : "failed",
      completed_at: now,
      summary: `Sub-pipeline error: ${reason}`
    })(m)
    return optional ? patched : {
      ...patched,
      status_detail: `subpipeline:${stage.pipeline}:error`,
      summary: appendSummary(patched.summary, `Sub-pipeline '${stage.pipeline}' could not run: ${reason}`)
    }
  }, { force: true })
}

/** The child run finished: its status becomes the entry's, and it is linked from `child_runs`. */
const recordChild = (run: ActiveRun, stage: SubpipelineStage, position: number, child: CompletedRun, now: string) => {
  const optional = stage.optional === true
  const succeeded = child.manifest.status === "succeeded"
  return run.files.update((m): CliManifest => {
    const patched = patchEntry(position, {
      status: succeeded ? "succeeded" : optional ? "skipped" : "failed",
      completed_at: now,
      sub_run_id: child.manifest.run_id,
      summary: child.summary.review.summary
    })(m)
    const linked = {
      ...patched,
      child_runs: [...patched.child_runs, {
        run_id: child.manifest.run_id,
        pipeline_id: child.manifest.pipeline_id,
        status: child.manifest.status,
        manifest: child.layout.relative(child.layout.manifest)
      }]
    }
    return succeeded || optional ? linked : {
      ...linked,
      status_detail: `subpipeline:${stage.pipeline}:failed`,
      summary: appendSummary(linked.summary, `Sub-pipeline '${stage.pipeline}' failed.`)
    }
  }, { force: true })
}

export const runNestedStage = (
  deps: { readonly events: RunEvents; readonly runChild: RunChild },
  run: ActiveRun,
  stage: SubpipelineStage,
  position: number
): Effect.Effect<StageVerdict, FileAccessError> =>
  Effect.gen(function*() {
    const { files, input } = run
    const manifest = yield* files.manifest
    const startedAt = yield* isoNow
    yield* files.update(
      (m) => ({ ...patchEntry(position, { status: "running", started_at: startedAt, completed_at: null })(m), ...clearResuming(m) }),
      { force: true }
    )
    yield* deps.events.stage(files, position, "started")
    yield* Effect.logInfo(`[${position + 1}/${manifest.commands.length}] ${stage.id}: pipeline ${stage.pipeline}`)

    const child = input.catalog.user.find((p) => p.id === stage.pipeline)
      ?? input.catalog.builtins.find((p) => p.id === stage.pipeline)
    const childPlan = child === undefined ? undefined : buildPlan(child, undefined)
    const outcome = child === undefined || childPlan === undefined || childPlan instanceof UnknownTarget
      ? Either.left(`pipeline '${stage.pipeline}' is not defined`)
      : yield* Effect.either(deps.runChild(run, {
        pipeline: child,
        plan: childPlan,
        parentRunId: manifest.run_id,
        parentStageId: stage.id,
        // Recorded before the child's stages run (RUN-7 records it again at the end): a crash
        // meanwhile leaves a child that `resume` finds, stops and records cancelled.
        created: (childRunId) => files.update(patchEntry(position, { sub_run_id: childRunId }), { force: true })
      })).pipe(
        Effect.map(Either.mapLeft((error) => error.message))
      )
    const now = yield* isoNow
    if (Either.isLeft(outcome)) {
      yield* recordUnrun(run, stage, position, outcome.left, now)
      return stage.optional === true ? "continue" : "stop"
    }
    yield* recordChild(run, stage, position, outcome.right, now)
    return outcome.right.manifest.status === "succeeded" || stage.optional === true ? "continue" : "stop"
  })
