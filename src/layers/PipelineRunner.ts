import { Path } from "@effect/platform"
import { Clock, Deferred, Duration, Effect, Either, Layer, Option, Ref, Schedule } from "effect"
import type { FileAccessError } from "../domain/FileErrors.js"
import { type InvalidId, makeRunId, parseRunId, resolveTaskId, type TaskId } from "../domain/Ids.js"
import {
  appendSummary,
  cancelledManifest,
  type CliManifest,
  type CommandEntry,
  finalizedManifest,
  isTerminal
} from "../domain/Manifest.js"
import {
  checkNestedPipelines,
  findPipeline,
  type PipelineCatalogData,
  type PipelineDefinition,
  PipelineNotFound,
  resolvePipeline,
  type SubpipelineStage
} from "../domain/Pipeline.js"
import { buildPlan, type PlanResult, targetedStageId, UnknownTarget } from "../domain/Plan.js"
import type { PromptPackEntry } from "../domain/PromptPacks.js"
import { PipelineChanged, ResumeTokenMismatch } from "../domain/RunErrors.js"
import { makeRunLayout, type RunLayout } from "../domain/RunLayout.js"
import {
  type ControlPlaneValidationFailed,
  type GroupGuardrailError,
  type GroupSettings
} from "../domain/ControlPlane.js"
import type { ExecutionMode } from "../domain/ExecutionMode.js"
import { redact } from "../domain/Privacy.js"
import { finalizeSchedule, instanceStatsOf, type SchedulerError } from "../domain/Scheduler.js"
import { initialTfgrpoSection, resumedTfgrpoSection, type TfgrpoContext, tfgrpoContextOf } from "../domain/Tfgrpo.js"
import { ExperienceStore } from "../services/ExperienceStore.js"
import { makeTfgrpoRuns } from "./internal/tfgrpo.js"
import { ControlPlane } from "../services/ControlPlane.js"
import { makeAdmission } from "./internal/admission.js"
import { Learning } from "../services/Learning.js"
import { initialLearningSection } from "../domain/Learning.js"
import { learningMetricsOf, type MetricsExtras } from "../domain/Metrics.js"
import { enrichSummary, type RunSummary, summarizeRun } from "../domain/RunSummary.js"
import { EventBus } from "../services/EventBus.js"
import { CloudExecutor, Executor } from "../services/Executor.js"
import { MetricsRecorder } from "../services/MetricsRecorder.js"
import { type CompletedRun, type ExecutedRun, PipelineRunner, type PreparedRun } from "../services/PipelineRunner.js"
import { Host } from "../services/Host.js"
import { Instructions, type ResolvedInstructions } from "../services/Instructions.js"
import { PromptPacks } from "../services/PromptPacks.js"
import { Prompter } from "../services/Prompter.js"
import { OrchestratorConfig } from "../services/OrchestratorConfig.js"
import { PipelineCatalog } from "../services/PipelineCatalog.js"
import {
  type BadInput,
  type PlanRequest,
  type ResumeRequest,
  type RunRequest,
  type StartRequest
} from "../services/RunEngine.js"
import { type RunFiles, RunStore } from "../services/RunStore.js"
import { makeApprovalGate } from "./internal/approvals.js"
import { clearResuming, runCommandStage, type StageVerdict } from "./internal/commandStage.js"
import { makeTakeover } from "./internal/takeover.js"
import { randomHex } from "./internal/entropy.js"

const iso = (ms: number) => new Date(ms).toISOString()
const isoNow = Effect.map(Clock.currentTimeMillis, iso)

interface RunInput {
  readonly taskId: TaskId
  readonly pipeline: PipelineDefinition
  readonly plan: PlanResult
  readonly catalog: PipelineCatalogData
  readonly parentRunId: string | null
  readonly approvalPolicy: string | null
  /** Resolved once when the run is prepared; nested runs record the same (INS-3). */
  /** CFG-12: from tasks/index.json, else the task id. */
  readonly taskSlug: string
  readonly taskTitle: string
  readonly instructions: ResolvedInstructions
  /** INS-4: loaded with the instructions; nested runs record the same. */
  readonly promptPacks: ReadonlyArray<PromptPackEntry>
  /** CP-3: the TF-GRPO settings the request is built with. */
  readonly group: GroupSettings
  /** TFG-1: the run's TF-GRPO context; undefined when TF-GRPO is off. Nested runs record the same. */
  readonly tfgrpo: TfgrpoContext | undefined
}

/** A prepared run this process will execute: what `execute` needs, and its memoised result (GRP-3). */
interface PendingRun {
  readonly files: RunFiles
  readonly input: RunInput
  readonly target: string | undefined
  readonly markUntargeted: boolean
  readonly recordProcess: (pid: number) => Effect.Effect<void, FileAccessError>
  readonly claimed: Ref.Ref<boolean>
  readonly result: Deferred.Deferred<ExecutedRun, FileAccessError>
  /** TFG-3: the first stdout lines of each command stage this process ran, by stage position. */
  readonly stdoutHeads: Ref.Ref<ReadonlyMap<number, ReadonlyArray<string>>>
}

/** Why a prepared run may not start after all: the control plane refused it, or its group does not fit. */
type AdmissionError = ControlPlaneValidationFailed | GroupGuardrailError | SchedulerError

const cloudFallbackReason = "no cloud executor is configured; the run executed locally"

const initialEntry = (stage: PipelineDefinition["stages"][number], index: number): CommandEntry => ({
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
  sub_run_id: null
})

export const PipelineRunnerLive = Layer.effect(
  PipelineRunner,
  Effect.gen(function*() {
    const config = yield* OrchestratorConfig
    const catalog = yield* PipelineCatalog
    const localExecutor = yield* Executor
    const cloudExecutor = yield* Effect.serviceOption(CloudExecutor)
    const bus = yield* EventBus
    const metrics = yield* MetricsRecorder
    const controlPlane = yield* ControlPlane
    const learning = yield* Learning
    const pending = yield* Ref.make(new Map<string, PendingRun>())
    const store = yield* RunStore
    const path = yield* Path.Path
    const host = yield* Host
    const takeOver = makeTakeover(store, host)
    const instructions = yield* Instructions
    const promptPacks = yield* PromptPacks
    const tfgrpoRuns = makeTfgrpoRuns(yield* ExperienceStore, config.experienceMaxWords)
    const approve = yield* makeApprovalGate(yield* Prompter)
    const { admit, preflight } = makeAdmission(controlPlane, config.roots, path)

    /** Records this process as the run's writer; returns how to add the running stage's process to that record. */
    const claimOwnership = (files: RunFiles) =>
      Effect.gen(function*() {
        const owner = { pid: host.pid, host: host.hostname, since: yield* isoNow }
        yield* files.writeOwner(owner)
        return (stagePid: number) => files.writeOwner({ ...owner, stage_pid: stagePid })
      })

    /** ENV-3/ENV-4: a set MCP_RUNNER_TASK_ID must be valid even when --task overrides it. */
    const taskIdOf = (flag: string | undefined): Effect.Effect<TaskId, InvalidId> => resolveTaskId(config.envTaskId, flag)

    /** Everything a run needs, checked before anything is written (D-1: bad input writes nothing). */
    const prepare = (request: PlanRequest) =>
      Effect.gen(function*() {
        const taskId = yield* taskIdOf(request.taskId)
        const data = yield* catalog.load
        const resolved = resolvePipeline(data, request.pipelineId)
        if (resolved instanceof PipelineNotFound) return yield* resolved
        const nested = checkNestedPipelines(data, resolved.pipeline)
        if (nested !== undefined) return yield* nested
        const flagTarget = request.target?.trim()
        const target = flagTarget !== undefined && flagTarget.length > 0 ? flagTarget : config.envTargetStage
        const plan = buildPlan(resolved.pipeline, target)
        if (plan instanceof UnknownTarget) return yield* plan
        const resolvedInstructions = yield* instructions.resolve
        const packs = yield* promptPacks.load
        const task = yield* catalog.taskMetadata(taskId)
        const group = yield* preflight(taskId, task, resolved.pipeline)
        const tfgrpo = yield* tfgrpoContextOf({ epoch: config.tfgrpoEpoch, groupId: config.tfgrpoGroupId, groupSize: group.groupSize })
        return {
          group,
          tfgrpo,
          taskId,
          taskSlug: task.slug,
          taskTitle: task.title,
          data,
          pipeline: resolved.pipeline,
          source: resolved.source,
          plan,
          instructions: resolvedInstructions,
          promptPacks: packs
        }
      })

    const stageEnv = (manifest: CliManifest, layout: RunLayout, extra: Readonly<Record<string, string>> | undefined) => ({
      CODEX_ORCHESTRATOR_TASK_ID: manifest.task_id,
      CODEX_ORCHESTRATOR_RUN_ID: manifest.run_id,
      CODEX_ORCHESTRATOR_PIPELINE_ID: manifest.pipeline_id,
      CODEX_ORCHESTRATOR_MANIFEST_PATH: layout.manifest,
      CODEX_ORCHESTRATOR_RUN_DIR: layout.runDir,
      CODEX_ORCHESTRATOR_RUNS_DIR: config.roots.runsRoot,
      CODEX_ORCHESTRATOR_OUT_DIR: config.roots.outRoot,
      CODEX_ORCHESTRATOR_REPO_ROOT: config.roots.repoRoot,
      ...extra
    })

    /** RUN-8: heartbeat_at and `.heartbeat` every interval; these writes are coalesced, not forced. */
    const heartbeat = (files: RunFiles) =>
      isoNow.pipe(
        Effect.flatMap((now) =>
          files.update((m) => ({ ...m, heartbeat_at: now })).pipe(Effect.zipRight(files.writeHeartbeatFile(now)))
        ),
        Effect.catchAll((error) => Effect.logWarning(`Heartbeat not recorded: ${error.message}`)),
        Effect.repeat(Schedule.spaced(config.heartbeatInterval)),
        Effect.delay(config.heartbeatInterval)
      )

    /** RUN-7: a nested pipeline runs as a full child run; its outcome becomes this entry's. */
    const runNestedStage = (
      files: RunFiles,
      input: RunInput,
      stage: SubpipelineStage,
      index: number
    ): Effect.Effect<StageVerdict, FileAccessError> =>
      Effect.gen(function*() {
        const position = index - 1
        const patch = (change: Partial<CommandEntry>) => (m: CliManifest): CliManifest => ({
          ...m,
          commands: m.commands.map((entry, i) => (i === position ? { ...entry, ...change } : entry))
        })
        const manifest = yield* files.manifest
        const startedAt = yield* isoNow
        yield* files.update(
          (m) => ({ ...patch({ status: "running", started_at: startedAt, completed_at: null })(m), ...clearResuming(m) }),
          { force: true }
        )
        yield* publishStage(files, position, "started")
        yield* Effect.logInfo(`[${index}/${manifest.commands.length}] ${stage.id}: pipeline ${stage.pipeline}`)

        const child = input.catalog.user.find((p) => p.id === stage.pipeline)
          ?? input.catalog.builtins.find((p) => p.id === stage.pipeline)
        const childPlan = child === undefined ? undefined : buildPlan(child, undefined)
        const outcome = child === undefined || childPlan === undefined || childPlan instanceof UnknownTarget
          ? Either.left(`pipeline '${stage.pipeline}' is not defined`)
          : yield* Effect.either(runChild({
            ...input,
            pipeline: child,
            plan: childPlan,
            parentRunId: manifest.run_id
          })).pipe(Effect.map(Either.mapLeft((error) => error.message)))

        const optional = stage.optional === true
        const now = yield* isoNow
        if (Either.isLeft(outcome)) {
          yield* files.update((m) => {
            const patched = patch({
              status: optional ? "skipped" : "failed",
              completed_at: now,
              summary: `Sub-pipeline error: ${outcome.left}`
            })(m)
            return optional ? patched : {
              ...patched,
              status_detail: `subpipeline:${stage.pipeline}:error`,
              summary: appendSummary(patched.summary, `Sub-pipeline '${stage.pipeline}' could not run: ${outcome.left}`)
            }
          }, { force: true })
          return optional ? "continue" : "stop"
        }
        const childRun = outcome.right
        const succeeded = childRun.manifest.status === "succeeded"
        yield* files.update((m) => {
          const patched = patch({
            status: succeeded ? "succeeded" : optional ? "skipped" : "failed",
            completed_at: now,
            sub_run_id: childRun.manifest.run_id,
            summary: childRun.summary.review.summary
          })(m)
          const linked = {
            ...patched,
            child_runs: [...patched.child_runs, {
              run_id: childRun.manifest.run_id,
              pipeline_id: childRun.manifest.pipeline_id,
              status: childRun.manifest.status,
              manifest: childRun.layout.relative(childRun.layout.manifest)
            }]
          }
          return succeeded || optional ? linked : {
            ...linked,
            status_detail: `subpipeline:${stage.pipeline}:failed`,
            summary: appendSummary(linked.summary, `Sub-pipeline '${stage.pipeline}' failed.`)
          }
        }, { force: true })
        return succeeded || optional ? "continue" : "stop"
      })

    /** RUN-3 step 3: final status, guardrails and summary lines (MAN-5, RUN-12). */
    const finalize = (files: RunFiles) =>
      Effect.gen(function*() {
        const now = yield* isoNow
        const done = yield* files.update((m) => finalizedManifest(m, now), { force: true })
        yield* files.writeHeartbeatFile(now)
        return done
      })

    /** D-8: an interrupted run records the stage it was in and ends `cancelled`. */
    const markCancelled = (files: RunFiles) =>
      Effect.gen(function*() {
        const now = yield* isoNow
        yield* files.update((m) => cancelledManifest(m, now), { force: true })
      }).pipe(Effect.catchAll((error) => Effect.logError(`Could not record the cancellation: ${error.message}`)))

    /** EVT-2: stage events follow the manifest write they describe. */
    const publishStage = (files: RunFiles, position: number, phase: "started" | "completed") =>
      Effect.gen(function*() {
        const m = yield* files.manifest
        const entry = m.commands[position]
        if (entry === undefined) return
        const base = {
          taskId: m.task_id,
          runId: m.run_id,
          timestamp: yield* isoNow,
          stageId: entry.id,
          stageIndex: entry.index,
          title: entry.title,
          kind: entry.kind,
          status: entry.status,
          logPath: entry.log_path
        }
        yield* bus.publish(phase === "started" ? { type: "stage:started", ...base } : {
          type: "stage:completed",
          ...base,
          exitCode: entry.exit_code,
          summary: entry.summary,
          subRunId: entry.sub_run_id
        })
      })

    /**
     * EVT-2 log: a stage's output chunks as text, only while someone takes `log` events (decoding
     * costs). One decoder a stream, so a character split across chunks arrives whole.
     */
    const publishOutput = (m: { readonly task_id: string; readonly run_id: string }, stageId: string, stageIndex: number) => {
      const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() }
      return (source: "stdout" | "stderr", bytes: Uint8Array) =>
        Effect.flatMap(bus.wantsLogs, (wanted) => {
          if (!wanted) return Effect.void
          const text = decoders[source].decode(bytes, { stream: true })
          // D-13: as the stage log has it (enforce releases whole lines, so a secret is redacted whole).
          const message = config.privacyMode === "enforce" ? redact(text).text : text
          return message.length === 0 ? Effect.void : Effect.flatMap(isoNow, (timestamp) =>
            bus.publish({
              type: "log",
              taskId: m.task_id,
              runId: m.run_id,
              timestamp,
              stageId,
              stageIndex,
              level: source === "stderr" ? "error" : "info",
              message,
              source
            }))
        })
    }

    /** EVT-2: a run that stops at a stage that did not succeed says which one, and why. */
    const publishRunError = (files: RunFiles, position: number) =>
      Effect.gen(function*() {
        const m = yield* files.manifest
        const entry = m.commands[position]
        if (entry === undefined || entry.status === "succeeded") return
        yield* bus.publish({
          type: "run:error",
          taskId: m.task_id,
          runId: m.run_id,
          timestamp: yield* isoNow,
          pipelineId: m.pipeline_id,
          stageId: entry.id,
          message: entry.summary ?? `Stage '${entry.id}' ${entry.status}.`
        })
      })

    /** DECISIONS B-3: `cloud` runs on the cloud executor when one is provided, else locally, saying so. */
    const executorFor = (mode: ExecutionMode) =>
      mode === "cloud" && Option.isSome(cloudExecutor)
        ? { executor: cloudExecutor.value, fallback: undefined }
        : { executor: localExecutor, fallback: mode === "cloud" ? cloudFallbackReason : undefined }

    /** RUN-3: every stage that is due, in order, until one fails; then finalize. */
    const executeRun = (run: PendingRun, mode: ExecutionMode): Effect.Effect<ExecutedRun, FileAccessError> =>
      Effect.gen(function*() {
        const { files, input, recordProcess, target } = run
        const manifest = yield* files.manifest
        const layout = files.layout
        const { executor, fallback } = executorFor(mode)
        if (fallback !== undefined) yield* Effect.logWarning(`Execution mode cloud: ${fallback}.`)
        const execute = Effect.gen(function*() {
          const now = yield* isoNow
          const started = yield* files.update((m) => ({
            ...m,
            status: "in_progress",
            heartbeat_at: now,
            execution_mode: mode,
            cloud_fallback_reason: fallback ?? null,
            // D-4: with a target, every other stage is recorded as skipped up front.
            commands: target === undefined || !run.markUntargeted ? m.commands : m.commands.map((c) =>
              c.id === target ? c : { ...c, status: "skipped" as const, summary: "not targeted" }
            )
          }), { force: true })
          yield* files.writeHeartbeatFile(now)
          yield* bus.publish({
            type: "run:started",
            taskId: started.task_id,
            runId: started.run_id,
            timestamp: now,
            pipelineId: started.pipeline_id,
            pipelineTitle: started.pipeline_title,
            manifestPath: layout.relative(layout.manifest),
            logPath: started.log_path,
            status: started.status,
            stages: started.commands.map((c) => ({
              index: c.index,
              id: c.id,
              title: c.title,
              kind: c.kind,
              status: c.status,
              summary: c.summary,
              exitCode: c.exit_code,
              logPath: c.log_path,
              subRunId: c.sub_run_id
            }))
          })
          yield* Effect.forkScoped(heartbeat(files))

          for (const [position, stage] of input.pipeline.stages.entries()) {
            const entry = (yield* files.manifest).commands[position]
            // RUN-3.2: a stage runs if it is the target, or (without one) if it has not succeeded or been skipped.
            const due = target !== undefined
              ? stage.id === target
              : entry?.status !== "succeeded" && entry?.status !== "skipped"
            if (!due) continue
            const index = position + 1
            const verdict = stage.kind === "command"
              ? yield* runCommandStage({
                files,
                executor,
                stage,
                index,
                cwd: stage.cwd === undefined ? config.roots.repoRoot : path.resolve(stage.cwd),
                env: stageEnv(manifest, layout, stage.env),
                approve: (command) => approve(files, input.pipeline.id, command),
                privacyMode: config.privacyMode,
                recordProcess,
                onStarted: publishStage(files, position, "started"),
                onStdoutHead: (lines) => Ref.update(run.stdoutHeads, (all) => new Map(all).set(position, lines)),
                onOutput: publishOutput(manifest, stage.id, index),
                onToolCall: (status, attempt, message) =>
                  Effect.flatMap(isoNow, (timestamp) =>
                    bus.publish({
                      type: "tool:call",
                      taskId: manifest.task_id,
                      runId: manifest.run_id,
                      timestamp,
                      stageId: stage.id,
                      stageIndex: index,
                      toolName: "exec",
                      status,
                      message,
                      attempt
                    }))
              })
              : yield* runNestedStage(files, input, stage, index)
            yield* publishStage(files, position, "completed")
            if (verdict === "stop") {
              yield* publishRunError(files, position)
              break
            }
          }
        }).pipe(Effect.scoped)

        yield* execute.pipe(Effect.onInterrupt(() => markCancelled(files)))
        const done = yield* finalize(files)
        yield* Effect.logInfo(`Run ${manifest.run_id} ${done.status}: ${done.artifact_root}/manifest.json`)
        return { manifest: done, layout, mode, cloudFallbackReason: fallback }
      })

    /** Keeps a prepared run for `execute`; its first execution is shared by every caller (GRP-3). */
    const register = (run: Omit<PendingRun, "claimed" | "result" | "stdoutHeads">) =>
      Effect.gen(function*() {
        const entry: PendingRun = {
          ...run,
          claimed: yield* Ref.make(false),
          result: yield* Deferred.make<ExecutedRun, FileAccessError>(),
          stdoutHeads: yield* Ref.make<ReadonlyMap<number, ReadonlyArray<string>>>(new Map())
        }
        yield* Ref.update(pending, (all) => new Map(all).set(entry.files.layout.runId, entry))
        return entry
      })

    const preparedOf = (run: PendingRun): PreparedRun => ({
      taskId: run.input.taskId,
      taskTitle: run.input.taskTitle,
      runId: run.files.layout.runId,
      layout: run.files.layout,
      pipeline: run.input.pipeline,
      plan: run.input.plan
    })

    const executeRegistered = (run: PendingRun, mode: ExecutionMode) =>
      Effect.gen(function*() {
        if (!(yield* Ref.getAndSet(run.claimed, true))) {
          yield* Deferred.complete(run.result, executeRun(run, mode))
        }
        return yield* Deferred.await(run.result)
      })

    /**
     * The end of RUN-1 for a run this process prepared: a run the builder never executed (a planner
     * that chose nothing) is recorded failed; then run-summary.json, then metrics (D-10).
     */
    const completeRun = (
      run: PendingRun,
      summary: RunSummary,
      extras: MetricsExtras | undefined,
      /** D-17: only the run a user started or resumed is learned from; its nested child runs are part of it. */
      learnFrom: boolean
    ): Effect.Effect<CompletedRun, FileAccessError> =>
      Effect.gen(function*() {
        const { files } = run
        const current = yield* files.manifest
        if (!isTerminal(current.status)) {
          const now = yield* isoNow
          yield* files.update((m) => ({
            ...m,
            status: "failed",
            status_detail: "build-not-run",
            completed_at: now,
            summary: appendSummary(m.summary, summary.build.notes ?? summary.review.summary)
          }), { force: true })
        }
        // SCH-5 before metrics (D-10), so the metrics line sees the final assignment statuses. This
        // update and run_summary_path's below are not written on their own: the next forced write
        // (learning's, or metrics_recorded's) carries them, and the flush after metrics writes them
        // when metrics are skipped, queued or fail. One fsynced manifest write instead of three.
        const now = yield* isoNow
        const finished = yield* files.update((m) =>
          m.scheduler === undefined
            ? m
            : { ...m, scheduler: finalizeSchedule(m.scheduler, { status: m.status, completedAt: m.completed_at, now }) })
        // D-17: a succeeded run is snapshotted and its scenario validated before metrics, which count the outcome.
        const learned = learnFrom && learning.enabled && finished.status === "succeeded"
          ? yield* learning.capture({ manifest: finished, layout: files.layout }).pipe(
            Effect.flatMap((section) => files.update((m) => ({ ...m, learning: section }), { force: true })),
            Effect.catchAll((error) =>
              Effect.logError(`[learning] auto-trigger failed: ${error.message}`).pipe(Effect.zipRight(files.manifest))
            )
          )
          : finished
        // TFG-3: the run's experience, from the first stdout lines of its stages in stage order.
        if (learnFrom) {
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
          ...extras
        }).pipe(Effect.ensuring(files.flush.pipe(
          Effect.catchAll((error) => Effect.logError(`Could not write the finished manifest: ${error.message}`))
        )))
        yield* Ref.update(pending, (all) => {
          const next = new Map(all)
          next.delete(files.layout.runId)
          return next
        })
        return { manifest: yield* files.manifest, layout: files.layout, summary: enriched }
      })

    /** RUN-1 bootstrap (LAY-2): the queued manifest of a new run, registered for execution. */
    const bootstrapRun = (input: RunInput): Effect.Effect<PendingRun, AdmissionError | FileAccessError> =>
      Effect.gen(function*() {
        const startedMs = yield* Clock.currentTimeMillis
        const runId = makeRunId(startedMs, yield* randomHex(4))
        const layout = makeRunLayout(path, config.roots, input.taskId, runId)
        const now = iso(startedMs)
        const initial: CliManifest = {
          version: 1,
          task_id: input.taskId,
          task_slug: input.taskSlug,
          run_id: runId,
          parent_run_id: input.parentRunId,
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
          heartbeat_interval_seconds: Duration.toSeconds(config.heartbeatInterval),
          heartbeat_stale_after_seconds: Duration.toSeconds(config.heartbeatStaleAfter),
          artifact_root: layout.relative(layout.runDir),
          compat_path: layout.relative(layout.compatDir),
          log_path: layout.relative(layout.runnerLog),
          summary: null,
          metrics_recorded: false,
          resume_token: yield* randomHex(32),
          resume_events: [],
          approvals: [],
          commands: input.pipeline.stages.map(initialEntry),
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
        const files = yield* store.create(layout, initial)
        const recordProcess = yield* claimOwnership(files)
        yield* Effect.logInfo(
          `Run ${runId} started: pipeline ${input.pipeline.id} (${input.pipeline.stages.length} stages), task ${input.taskId}`
        )
        yield* admit(files, input)
        return yield* register({ files, input, target: targetedStageId(input.plan), markUntargeted: true, recordProcess })
      })

    /** RUN-7: a child run, start to finish, summarized by the CLI's agents' rules (TM-6). */
    const runChild = (input: RunInput): Effect.Effect<CompletedRun, AdmissionError | FileAccessError> =>
      Effect.gen(function*() {
        const run = yield* bootstrapRun(input)
        const executed = yield* executeRegistered(run, "mcp")
        return yield* completeRun(run, summarizeRun(executed.manifest, input.plan, yield* isoNow), undefined, false)
      })

    const locateRun = (request: RunRequest) =>
      Effect.gen(function*() {
        const taskId = yield* taskIdOf(request.taskId)
        const runId = yield* parseRunId(request.runId)
        return { taskId, layout: makeRunLayout(path, config.roots, taskId, runId) }
      })

    const reopen = (request: ResumeRequest): Effect.Effect<PreparedRun, BadInput | ControlPlaneValidationFailed | FileAccessError> =>
      Effect.gen(function*() {
        const { layout, taskId } = yield* locateRun(request)
        const recorded = yield* store.read(layout)
        const data = yield* catalog.load
        const found = findPipeline(data, recorded.pipeline_id)
        if (found === undefined) {
          const missing = resolvePipeline(data, recorded.pipeline_id)
          if (missing instanceof PipelineNotFound) return yield* missing
          return yield* Effect.dieMessage("unreachable: pipeline found on the second lookup")
        }
        const pipeline = found.pipeline
        const recordedIds = recorded.commands.map((c) => c.id)
        const currentIds = pipeline.stages.map((s) => s.id)
        if (recordedIds.join("\u0000") !== currentIds.join("\u0000")) {
          return yield* new PipelineChanged({
            runId: recorded.run_id,
            pipelineId: pipeline.id,
            recorded: recordedIds,
            current: currentIds
          })
        }
        const nested = checkNestedPipelines(data, pipeline)
        if (nested !== undefined) return yield* nested

        // D-7: with --token it must match; without, the folder's .resume-token must.
        if (request.token !== undefined) {
          if (request.token.trim() !== recorded.resume_token) {
            return yield* new ResumeTokenMismatch({ runId: recorded.run_id, source: "flag" })
          }
        } else if ((yield* store.readResumeToken(layout)) !== recorded.resume_token) {
          return yield* new ResumeTokenMismatch({ runId: recorded.run_id, source: "file" })
        }

        const flagTarget = request.target?.trim()
        const target = flagTarget !== undefined && flagTarget.length > 0 ? flagTarget : undefined
        const plan = buildPlan(pipeline, target ?? recorded.plan_target_id ?? config.envTargetStage)
        if (plan instanceof UnknownTarget) {
          // Only a target the user gave now is an error; a stale recorded one falls back to the default plan.
          if (target !== undefined) return yield* plan
        }
        const resolvedPlan = plan instanceof UnknownTarget ? buildPlan(pipeline, undefined) : plan
        if (resolvedPlan instanceof UnknownTarget) return yield* resolvedPlan

        const taskMeta = yield* catalog.taskMetadata(taskId)
        // CP-3: without TFGRPO_GROUP_SIZE now, the group size the run recorded still holds.
        const group = yield* preflight(taskId, { slug: recorded.task_slug, title: taskMeta.title }, pipeline, recorded.tfgrpo?.group_size)
        const tfgrpo = yield* tfgrpoContextOf(
          { epoch: config.tfgrpoEpoch, groupId: config.tfgrpoGroupId, groupSize: group.groupSize },
          recorded.tfgrpo
        )

        yield* takeOver(layout)
        const files = yield* store.open(layout)
        const now = yield* isoNow
        yield* files.update((m) => {
          const { guardrail_status: _dropped, ...rest } = m
          return {
            ...rest,
            status: "in_progress" as const,
            status_detail: "resuming",
            heartbeat_at: now,
            approval_policy: request.approvalPolicy ?? m.approval_policy,
            completed_at: null,
            metrics_recorded: false,
            plan_target_id: resolvedPlan.targetId,
            summary: null,
            // No context means none was recorded either (tfgrpoContextOf keeps a recorded one).
            tfgrpo: tfgrpo === undefined ? null : resumedTfgrpoSection(m.tfgrpo, tfgrpo),
            resume_events: [...m.resume_events, {
              timestamp: now,
              actor: request.actor ?? "cli",
              reason: request.reason ?? "manual-resume",
              outcome: "accepted" as const,
              detail: `previous status: ${m.status}${m.status_detail === null ? "" : ` (${m.status_detail})`}`
            }]
          }
        }, { force: true })
        yield* files.writeHeartbeatFile(now)
        const recordProcess = yield* claimOwnership(files)
        yield* Effect.logInfo(`Run ${recorded.run_id} resumed: pipeline ${pipeline.id}, task ${recorded.task_id}`)

        const input: RunInput = {
            taskId,
            pipeline,
            plan: resolvedPlan,
            catalog: data,
            parentRunId: recorded.parent_run_id,
            approvalPolicy: recorded.approval_policy,
            taskSlug: recorded.task_slug,
            taskTitle: taskMeta.title,
            instructions: { hash: recorded.instructions_hash, sources: recorded.instructions_sources },
            promptPacks: recorded.prompt_packs ?? [],
            group,
            tfgrpo
        }
        // RUN-9: RUN-1 again from the control-plane step, on the same run.
        yield* admit(files, input)
        const run = yield* register({
          files,
          input,
          target: target === undefined ? undefined : targetedStageId(resolvedPlan),
          markUntargeted: false,
          recordProcess
        })
        return preparedOf(run)
      })

    /** A run prepared by this process; anything else is a bug in the caller. */
    const pendingRun = (runId: string) =>
      Effect.flatMap(Ref.get(pending), (all) => {
        const run = all.get(runId)
        return run === undefined
          ? Effect.dieMessage(`Run ${runId} was not prepared by this process (bootstrap or reopen it first).`)
          : Effect.succeed(run)
      })

    return PipelineRunner.of({
      plan: (request) =>
        prepare(request).pipe(
          Effect.map(({ pipeline, plan, source, taskId }) => ({ taskId, pipeline, source, plan }))
        ),
      bootstrap: (request: StartRequest) =>
        Effect.gen(function*() {
          const prepared = yield* prepare(request)
          const run = yield* bootstrapRun({
            taskId: prepared.taskId,
            pipeline: prepared.pipeline,
            plan: prepared.plan,
            catalog: prepared.data,
            parentRunId: request.parentRunId ?? null,
            approvalPolicy: request.approvalPolicy ?? null,
            taskSlug: prepared.taskSlug,
            taskTitle: prepared.taskTitle,
            instructions: prepared.instructions,
            // TFG-4: each pack is recorded with the task's top experiences of its domain.
            promptPacks: yield* tfgrpoRuns.attachExperiences(prepared.taskId, prepared.promptPacks),
            group: prepared.group,
            tfgrpo: prepared.tfgrpo
          })
          if (request.prompt !== undefined && request.prompt.trim().length > 0) yield* run.files.writePrompt(request.prompt)
          return preparedOf(run)
        }),
      reopen,
      prepared: (runId) => Effect.map(pendingRun(runId), preparedOf),
      execute: (runId, mode) => Effect.flatMap(pendingRun(runId), (run) => executeRegistered(run, mode)),
      recordPlanTarget: (runId, targetId) =>
        Effect.flatMap(pendingRun(runId), (run) =>
          Effect.flatMap(run.files.manifest, (current) =>
            current.plan_target_id === targetId
              ? Effect.void
              : Effect.asVoid(run.files.update((m) => ({ ...m, plan_target_id: targetId }), { force: true })))),
      complete: (runId, summary, extras) => Effect.flatMap(pendingRun(runId), (run) => completeRun(run, summary, extras, true)),
    })
  })
)
