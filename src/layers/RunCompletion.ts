import { Effect, Layer, Ref } from "effect"
import type { FileAccessError } from "../domain/FileErrors.js"
import { appendSummary, type CliManifest, isTerminal } from "../domain/Manifest.js"
import { learningMetricsOf } from "../domain/Metrics.js"
import { initialLearningSection } from "../domain/LearningRecords.js"
import { enrichSummary, type RunSummary } from "../domain/RunSummary.js"
import { finalizeSchedule, instanceStatsOf } from "../domain/Scheduler.js"
import { ExperienceStore } from "../services/ExperienceStore.js"
import { Learning } from "../services/Learning.js"
import { MetricsRecorder } from "../services/MetricsRecorder.js"
import { OrchestratorConfig } from "../services/OrchestratorConfig.js"
import type { ActiveRun } from "../services/RunBootstrap.js"
import { type CompleteOptions, RunCompletion } from "../services/RunCompletion.js"
import { isoNow } from "../domain/Time.js"
import { Entropy } from "../services/Entropy.js"
import { makeTfgrpoRuns } from "./internal/tfgrpo.js"

const interruptedReason = "Learning pipeline interrupted before it finished (the run was stopped); its snapshot may be missing or incomplete"

/** A learning section whose pipeline was stopped halfway: failed, with the reason (LRN-2). */
const interruptedLearning = (section: CliManifest["learning"]): CliManifest["learning"] => {
  const current = section ?? initialLearningSection
  return { ...current, validation: { ...current.validation, status: "snapshot_failed", reason: interruptedReason, last_error: interruptedReason } }
}

export const RunCompletionLive = Layer.effect(
  RunCompletion,
  Effect.gen(function*() {
    const learning = yield* Learning
    const metrics = yield* MetricsRecorder
    const tfgrpoRuns = makeTfgrpoRuns(yield* ExperienceStore, (yield* OrchestratorConfig).experienceMaxWords, yield* Entropy)

    /** A run the builder never executed (a planner that chose nothing) is recorded failed. */
    const settle = (run: ActiveRun, summary: RunSummary) =>
      Effect.gen(function*() {
        if (isTerminal((yield* run.files.manifest).status)) return
        const now = yield* isoNow
        yield* run.files.update((m) => ({
          ...m,
          status: "failed",
          status_detail: "build-not-run",
          completed_at: now,
          summary: appendSummary(m.summary, summary.build.notes ?? summary.review.summary)
        }), { force: true })
      })

    /** D-17: a succeeded run is snapshotted and its scenario validated before metrics, which count the outcome. */
    const learn = (run: ActiveRun, finished: CliManifest): Effect.Effect<CliManifest, FileAccessError> =>
      learning.capture({ manifest: finished, layout: run.files.layout }).pipe(
        Effect.flatMap((section) => run.files.update((m) => ({ ...m, learning: section }), { force: true })),
        Effect.catchAll((error) =>
          Effect.logError(`[learning] auto-trigger failed: ${error.message}`).pipe(Effect.zipRight(run.files.manifest))
        ),
        // Stopped (Ctrl-C) while it worked: said in the section, which else read `pending` for good.
        Effect.onInterrupt(() => Effect.ignore(run.files.update((m) => ({ ...m, learning: interruptedLearning(m.learning) }), { force: true })))
      )

    const complete = Effect.fn("RunCompletion.complete")(function*(
      run: ActiveRun,
      summary: RunSummary,
      options: CompleteOptions
    ) {
      const { files } = run
      yield* settle(run, summary)
      // SCH-5 before metrics (D-10), so the metrics line sees the final assignment statuses. This
      // update and run_summary_path's below are not written on their own: the next forced write
      // (learning's, or metrics_recorded's) carries them, and the flush after metrics writes them
      // when metrics are skipped, queued or fail. One fsynced manifest write instead of three.
      const now = yield* isoNow
      const finished = yield* files.update((m) =>
        m.scheduler === undefined
          ? m
          : { ...m, scheduler: finalizeSchedule(m.scheduler, { status: m.status, completedAt: m.completed_at, now }) }
      )
      const learned = options.learnFrom && learning.enabled && finished.status === "succeeded"
        ? yield* learn(run, finished)
        : finished
      // TFG-3: the run's experience, from the first stdout lines of its stages in stage order.
      if (options.learnFrom) {
        const heads = [...(yield* Ref.get(run.stdoutHeads)).entries()].sort(([a], [b]) => a - b).flatMap(([, lines]) => lines)
        yield* tfgrpoRuns.recordExperience(files, run.input.promptPacks, heads)
      }
      const enriched = enrichSummary(summary, learned)
      yield* files.writeRunSummary(enriched)
      const recorded = yield* files.update((m) => ({ ...m, run_summary_path: files.layout.relative(files.layout.runSummary) }))
      yield* metrics.record(files, {
        // Where the stages really ran: the builder executes once (GRP-3), in the first subtask's mode,
        // whatever a group's summary says about later subtasks.
        executionMode: recorded.execution_mode ?? summary.mode,
        controlPlaneStatus: recorded.control_plane?.validation.status,
        schedulerMode: recorded.scheduler?.mode,
        instanceStats: recorded.scheduler === undefined ? undefined : instanceStatsOf(recorded.scheduler),
        learning: recorded.learning === undefined ? undefined : learningMetricsOf(recorded.learning),
        ...options.extras
      }).pipe(Effect.ensuring(files.flush.pipe(
        Effect.catchAll((error) => Effect.logError(`Could not write the finished manifest: ${error.message}`))
      )))
      return { manifest: yield* files.manifest, layout: files.layout, summary: enriched }
    })

    return RunCompletion.of({ complete })
  })
)
