/**
 * Admitting a run (SPEC RUN-1 between bootstrap and execution, CP-2..6, SCH-2..4): the TF-GRPO
 * guardrails checked before anything is written, then, on the bootstrapped run, the control-plane
 * validation and the scheduler plan.
 */
import type { Path } from "@effect/platform"
import { Effect } from "effect"
import { isoNow } from "../../domain/Time.js"
import { buildRunRequest } from "../../domain/RunRequestBuilder.js"
import type { GroupSettings } from "../../domain/TfgrpoGroup.js"
import { appendSummary, type CliManifest } from "../../domain/Manifest.js"
import type { PipelineDefinition } from "../../domain/Pipeline.js"
import type { Roots } from "../../domain/RunLayout.js"
import { planSchedule } from "../../domain/Scheduler.js"
import type { ControlPlane } from "../../services/ControlPlane.js"
import type { RunFiles } from "../../services/RunStore.js"


/** What the request says about the run's task and pipeline. */
export interface AdmittedTask {
  readonly taskId: string
  readonly taskSlug: string
  readonly taskTitle: string
  readonly pipeline: PipelineDefinition
  readonly group: GroupSettings
}

export const makeAdmission = (controlPlane: ControlPlane["Type"], roots: Roots, path: Path.Path) => {
  /** The control plane's run request for a run (CP-2); the group size was checked by `preflight`. */
  const runRequestOf = (manifest: CliManifest, task: AdmittedTask, requestedAt: string) =>
    buildRunRequest({
      task: { id: task.taskId, slug: task.taskSlug, title: task.taskTitle },
      pipeline: task.pipeline,
      group: task.group,
      // CP-3: TFGRPO_GROUP_SIZE, else the group size the manifest's tfgrpo section recorded.
      manifestGroupSize: manifest.tfgrpo?.group_size,
      runId: manifest.run_id,
      paths: {
        artifactRoot: manifest.artifact_root,
        runsRoot: path.relative(roots.repoRoot, roots.runsRoot) || ".",
        outRoot: path.relative(roots.repoRoot, roots.outRoot) || "."
      },
      requestedAt
    })

  /**
   * GRP-4 / CP-6 and SCH-2: a TF-GRPO group the pipeline cannot hold is refused before anything is
   * written (bad input, D-1), with the original's guard line in the log. Returns the group settings.
   */
  const preflight = (
    taskId: string,
    task: { readonly slug: string; readonly title: string },
    pipeline: PipelineDefinition,
    /** A resumed run's recorded `tfgrpo.group_size` (CP-3). */
    manifestGroupSize?: number | null
  ) =>
    Effect.gen(function*() {
      const group = yield* controlPlane.groupSettings
      const now = yield* isoNow
      const provisional = yield* buildRunRequest({
        task: { id: taskId, slug: task.slug, title: task.title },
        pipeline,
        group,
        manifestGroupSize,
        runId: "preflight",
        paths: { artifactRoot: ".", runsRoot: ".", outRoot: "." },
        requestedAt: now
      }).pipe(Effect.tapError((error) => Effect.logError(error.logLine)))
      yield* planSchedule(provisional, now)
      return group
    })

  /**
   * The control-plane guard (CP-4; enforce mode refuses an invalid request and the manifest says
   * so) and the scheduler plan, both in the manifest before anything runs.
   */
  const admit = (files: RunFiles, task: AdmittedTask) =>
    Effect.gen(function*() {
      const now = yield* isoNow
      const request = yield* runRequestOf(yield* files.manifest, task, now)
      const section = yield* controlPlane.validate(request, { taskId: task.taskId }).pipe(
        Effect.tapError((error) =>
          error._tag === "ControlPlaneValidationFailed"
            ? files.update((m) => ({
              ...m,
              status: "failed",
              status_detail: "control-plane-validation-failed",
              completed_at: now,
              summary: appendSummary(m.summary, error.summaryLine),
              control_plane: error.section
            }), { force: true }).pipe(Effect.zipRight(Effect.logError(error.message)))
            : Effect.void
        )
      )
      const schedule = yield* planSchedule(request, now)
      // Not forced: the first write of the execution (the `in_progress` manifest, forced, before any
      // stage runs) or of the completion carries it, so admission costs no fsynced write of its own.
      yield* files.update((m) => ({ ...m, control_plane: section, scheduler: schedule }))
    })

  return { preflight, admit }
}
