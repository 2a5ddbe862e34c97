import { Path } from "@effect/platform"
import { Clock, Duration, Effect, Layer, Ref } from "effect"
import { makeRunId } from "../domain/Ids.js"
import { initialLearningSection } from "../domain/LearningRecords.js"
import type { CliManifest, CommandEntry } from "../domain/Manifest.js"
import type { PipelineDefinition } from "../domain/Pipeline.js"
import { targetedStageId } from "../domain/Plan.js"
import { makeRunLayout, type RunLayout } from "../domain/RunLayout.js"
import { initialTfgrpoSection } from "../domain/Tfgrpo.js"
import { isGraph } from "../domain/StageGraph.js"
import { ControlPlane } from "../services/ControlPlane.js"
import { EventBus } from "../services/EventBus.js"
import { ExperienceStore } from "../services/ExperienceStore.js"
import { Host } from "../services/Host.js"
import { OrchestratorConfig, type OrchestratorSettings } from "../services/OrchestratorConfig.js"
import { type ActiveRun, RunBootstrap, type RunInput, type StageGroups } from "../services/RunBootstrap.js"
import { FileAccessError } from "../domain/FileErrors.js"
import { Files } from "../services/Files.js"
import { type RunFiles, RunStore } from "../services/RunStore.js"
import { makeAdmission } from "./internal/admission.js"
import { Entropy } from "../services/Entropy.js"
import { markCancelled, markFileFailure } from "./internal/runCancellation.js"
import { iso, isoNow } from "../domain/Time.js"
import { makeTfgrpoRuns } from "./internal/tfgrpo.js"
import { thisProcess } from "./internal/processRecord.js"

const initialEntry = (graph: boolean) => (stage: PipelineDefinition["stages"][number], index: number): CommandEntry => ({
  index: index + 1,
  id: stage.id,
  title: stage.title,
  command: stage.kind === "command" ? stage.command : null,
  kind: stage.kind,
  status: "pending",
  started_at: null,
  completed_at: null,
  exit_code: null,
  summary: null,
  log_path: null,
  error_file: null,
  sub_run_id: null,
  // B-2: a graph's entries say what each waits for; a serial pipeline's keep MAN-2's keys.
  ...(graph ? { needs: stage.needs ?? [] } : {})
})

/** LAY-2: the `queued` manifest of a new run. */
const initialManifest = (
  input: RunInput,
  layout: RunLayout,
  settings: OrchestratorSettings,
  ids: { readonly runId: string; readonly startedMs: number; readonly resumeToken: string }
): CliManifest => {
  const now = iso(ids.startedMs)
  return {
    version: 1,
    task_id: input.taskId,
    task_slug: input.taskSlug,
    run_id: ids.runId,
    parent_run_id: input.parentRunId,
    ...(input.parentStageId === undefined ? {} : { parent_stage_id: input.parentStageId }),
    pipeline_id: input.pipeline.id,
    pipeline_title: input.pipeline.title,
    runner: "codex-cli",
    approval_policy: input.approvalPolicy,
    status: "queued",
    status_detail: null,
    started_at: now,
    completed_at: null,
    updated_at: now,
    heartbeat_at: now,
    heartbeat_interval_seconds: Duration.toSeconds(settings.heartbeatInterval),
    heartbeat_stale_after_seconds: Duration.toSeconds(settings.heartbeatStaleAfter),
    artifact_root: layout.relative(layout.runDir),
    compat_path: layout.relative(layout.compatDir),
    log_path: layout.relative(layout.runnerLog),
    summary: null,
    metrics_recorded: false,
    resume_token: ids.resumeToken,
    resume_events: [],
    approvals: [],
    commands: input.pipeline.stages.map(initialEntry(isGraph(input.pipeline.stages))),
    child_runs: [],
    run_summary_path: null,
    plan_target_id: input.plan.targetId,
    instructions_hash: input.instructions.hash,
    instructions_sources: input.instructions.sources,
    prompt_packs: input.promptPacks,
    guardrails_required: input.pipeline.guardrailsRequired !== false,
    learning: initialLearningSection,
    tfgrpo: input.tfgrpo === undefined ? null : initialTfgrpoSection(input.tfgrpo)
  }
}

export const RunBootstrapLive = Layer.effect(
  RunBootstrap,
  Effect.gen(function*() {
    const entropy = yield* Entropy
    const config = yield* OrchestratorConfig
    const store = yield* RunStore
    const bus = yield* EventBus
    const host = yield* Host
    const path = yield* Path.Path
    const disk = yield* Files
    const { admit } = makeAdmission(yield* ControlPlane, config.roots, path)
    const tfgrpoRuns = makeTfgrpoRuns(yield* ExperienceStore, config.experienceMaxWords, entropy)

    /**
     * D-7: records this process as the run's writer; returns how to add a running stage's process
     * group to that record, and how to leave out one that ended. Every group running is written (a
     * graph runs stages side by side: a takeover must stop them all), one write at a time.
     */
    const claimOwnership = (files: RunFiles) =>
      Effect.gen(function*() {
        const owner = { ...(yield* thisProcess(host)), since: yield* isoNow }
        yield* files.writeOwner(owner)
        const running = new Set<number>()
        const writing = yield* Effect.makeSemaphore(1)
        const stageGroups: StageGroups = {
          record: (stagePid) =>
            writing.withPermits(1)(Effect.suspend(() => {
              running.add(stagePid)
              return files.writeOwner({ ...owner, stage_pid: stagePid, stage_pids: [...running] })
            })),
          forget: (stagePid) => Effect.sync(() => void running.delete(stagePid))
        }
        return stageGroups
      })

    const activate = (files: RunFiles, input: RunInput, target: string | undefined, markUntargeted: boolean) =>
      Effect.gen(function*() {
        const stageGroups = yield* claimOwnership(files)
        // A folder of the task that cannot be made or written (its folder under the out root, where its
        // summaries go; or the control plane's, in enforce mode) ends the run `failed` with the reason,
        // as a full disk does mid-run, before any stage runs: it stayed `queued` for good. The error goes
        // on to the edge, which says it once. (In shadow mode a control-plane folder alone that cannot
        // be written is a warning: the run's own records go elsewhere.)
        const outFolder = disk.makeDirectory(path.join(config.roots.outRoot, input.taskId)).pipe(
          Effect.mapError((error) => new FileAccessError({ path: error.path, operation: "create the task's out folder (CODEX_ORCHESTRATOR_OUT_DIR)", cause: error.cause }))
        )
        yield* Effect.zipRight(outFolder, admit(files, input)).pipe(
          Effect.tapErrorTag("FileAccessError", (error) => markFileFailure(files, error, { sayError: false }))
        )
        const stdoutHeads = yield* Ref.make<ReadonlyMap<number, ReadonlyArray<string>>>(new Map())
        const run: ActiveRun = { files, input, target, markUntargeted, stageGroups, stdoutHeads }
        return run
      })

    const create = Effect.fn("RunBootstrap.create")(function*(input: RunInput) {
      const startedMs = yield* Clock.currentTimeMillis
      const runId = makeRunId(startedMs, yield* entropy.hex(4))
      const layout = makeRunLayout(path, config.roots, input.taskId, runId)
      const manifest = initialManifest(input, layout, config, { runId, startedMs, resumeToken: yield* entropy.hex(32) })
      const files = yield* store.create(layout, manifest)
      yield* bus.publish({
        type: "run:created",
        taskId: input.taskId,
        runId,
        timestamp: manifest.started_at,
        pipelineId: input.pipeline.id,
        manifestPath: layout.relative(layout.manifest)
      })
      yield* Effect.logInfo(
        `Run ${runId} started: pipeline ${input.pipeline.id} (${input.pipeline.stages.length} stage${input.pipeline.stages.length === 1 ? "" : "s"}), task ${input.taskId}`
      )
      // From here on the run exists: an interruption before its stages start still ends it `cancelled` (D-8).
      return yield* activate(files, input, targetedStageId(input.plan), true).pipe(Effect.onInterrupt(() => markCancelled(files)))
    })

    const adopt = Effect.fn("RunBootstrap.adopt")(function*(files: RunFiles, input: RunInput, target: string | undefined) {
      return yield* activate(files, input, target, false).pipe(Effect.onInterrupt(() => markCancelled(files)))
    })

    return RunBootstrap.of({ create, adopt, attachExperiences: tfgrpoRuns.attachExperiences })
  })
)
