import { Path } from "@effect/platform"
import { Clock, Duration, Effect, Either, Layer, Schedule, Stream } from "effect"
import type { FileAccessError } from "../domain/FileErrors.js"
import { computeGuardrailStatus } from "../domain/Guardrails.js"
import { defaultTaskId, type InvalidId, makeRunId, parseRunId, parseTaskId, type TaskId } from "../domain/Ids.js"
import {
  appendSummary,
  type CliManifest,
  type CommandEntry,
  isStale,
  isTerminal,
  type RunStatus,
  upsertGuardrailLine
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
import { type RunSummary, summarizeRun } from "../domain/RunSummary.js"
import { Host } from "../services/Host.js"
import { Instructions, type ResolvedInstructions } from "../services/Instructions.js"
import { PromptPacks } from "../services/PromptPacks.js"
import { Prompter } from "../services/Prompter.js"
import { OrchestratorConfig } from "../services/OrchestratorConfig.js"
import { PipelineCatalog } from "../services/PipelineCatalog.js"
import { ProcessRunner } from "../services/ProcessRunner.js"
import {
  type BadInput,
  type PlanRequest,
  type ResumeRequest,
  RunEngine,
  type RunRequest,
  type StartRequest,
  type StatusView
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
  readonly instructions: ResolvedInstructions
  /** INS-4: loaded with the instructions; nested runs record the same. */
  readonly promptPacks: ReadonlyArray<PromptPackEntry>
}

interface FinishedRun {
  readonly manifest: CliManifest
  readonly layout: RunLayout
  readonly summary: RunSummary
}

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

export const RunEngineLive = Layer.effect(
  RunEngine,
  Effect.gen(function*() {
    const config = yield* OrchestratorConfig
    const catalog = yield* PipelineCatalog
    const runner = yield* ProcessRunner
    const store = yield* RunStore
    const path = yield* Path.Path
    const host = yield* Host
    const takeOver = makeTakeover(store, host)
    const instructions = yield* Instructions
    const promptPacks = yield* PromptPacks
    const approve = yield* makeApprovalGate(yield* Prompter)

    /** Records this process as the run's writer; returns how to add the running stage's process to that record. */
    const claimOwnership = (files: RunFiles) =>
      Effect.gen(function*() {
        const owner = { pid: host.pid, host: host.hostname, since: yield* isoNow }
        yield* files.writeOwner(owner)
        return (stagePid: number) => files.writeOwner({ ...owner, stage_pid: stagePid })
      })

    /** ENV-3/ENV-4: a set MCP_RUNNER_TASK_ID must be valid even when --task overrides it. */
    const resolveTaskId = (flag: string | undefined): Effect.Effect<TaskId, InvalidId> => {
      const env = config.envTaskId === undefined
        ? Either.right(undefined)
        : parseTaskId(config.envTaskId, "MCP_RUNNER_TASK_ID")
      return Effect.flatMap(env, (fromEnv) =>
        flag === undefined ? Effect.succeed(fromEnv ?? defaultTaskId) : parseTaskId(flag))
    }

    /** Everything a run needs, checked before anything is written (D-1: bad input writes nothing). */
    const prepare = (request: PlanRequest) =>
      Effect.gen(function*() {
        const taskId = yield* resolveTaskId(request.taskId)
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
        return {
          taskId,
          taskSlug: task.slug,
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
        yield* Effect.logInfo(`[${index}/${manifest.commands.length}] ${stage.id}: pipeline ${stage.pipeline}`)

        const child = input.catalog.user.find((p) => p.id === stage.pipeline)
          ?? input.catalog.builtins.find((p) => p.id === stage.pipeline)
        const childPlan = child === undefined ? undefined : buildPlan(child, undefined)
        const outcome = child === undefined || childPlan === undefined || childPlan instanceof UnknownTarget
          ? Either.left(`pipeline '${stage.pipeline}' is not defined`)
          : yield* Effect.either(runPipeline({
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

    /** RUN-3 step 3: final status, guardrails, summary, then `run-summary.json`. */
    const finalize = (files: RunFiles, input: RunInput) =>
      Effect.gen(function*() {
        const now = yield* isoNow
        const done = yield* files.update((m) => {
          const failed = m.commands.some((c) => c.status === "failed")
          const guardrails = computeGuardrailStatus(m.commands, m.guardrails_required, now)
          const withGuardrailLine = upsertGuardrailLine(m.summary, guardrails.summary)
          return {
            ...m,
            status: failed ? "failed" : "succeeded",
            status_detail: failed ? m.status_detail ?? "pipeline-failed" : null,
            completed_at: now,
            heartbeat_at: now,
            guardrail_status: guardrails,
            // RUN-3 step 3: the recommendation, if any, follows the guardrail line.
            summary: guardrails.recommendation !== null
              ? appendSummary(withGuardrailLine, guardrails.recommendation)
              : withGuardrailLine
          }
        }, { force: true })
        yield* files.writeHeartbeatFile(now)
        const summary = summarizeRun(done, input.plan, now)
        yield* files.writeRunSummary(summary)
        const manifest = yield* files.update(
          (m) => ({ ...m, run_summary_path: files.layout.relative(files.layout.runSummary) }),
          { force: true }
        )
        return { manifest, layout: files.layout, summary }
      })

    /** D-8: an interrupted run records the stage it was in and ends `cancelled`. */
    const markCancelled = (files: RunFiles) =>
      Effect.gen(function*() {
        const now = yield* isoNow
        yield* files.update((m) => {
          if (isTerminal(m.status)) return m
          const running = m.commands.find((c) => c.status === "running")
          return {
            ...m,
            status: "cancelled" as RunStatus,
            status_detail: running === undefined ? "cancelled" : `stage:${running.id}:cancelled`,
            completed_at: now,
            commands: m.commands.map((c) => c.status === "running" ? { ...c, status: "cancelled" as const, completed_at: now } : c),
            summary: appendSummary(m.summary, "Run cancelled.")
          }
        }, { force: true })
      }).pipe(Effect.catchAll((error) => Effect.logError(`Could not record the cancellation: ${error.message}`)))

    /** RUN-3: every stage that is due, in order, until one fails; then finalize. */
    const executeRun = (
      files: RunFiles,
      input: RunInput,
      target: string | undefined,
      markUntargeted: boolean,
      recordProcess: (pid: number) => Effect.Effect<void, FileAccessError>
    ): Effect.Effect<FinishedRun, FileAccessError> =>
      Effect.gen(function*() {
        const manifest = yield* files.manifest
        const layout = files.layout
        const execute = Effect.gen(function*() {
          const now = yield* isoNow
          yield* files.update((m) => ({
            ...m,
            status: "in_progress",
            heartbeat_at: now,
            // D-4: with a target, every other stage is recorded as skipped up front.
            commands: target === undefined || !markUntargeted ? m.commands : m.commands.map((c) =>
              c.id === target ? c : { ...c, status: "skipped" as const, summary: "not targeted" }
            )
          }), { force: true })
          yield* files.writeHeartbeatFile(now)
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
                runner,
                stage,
                index,
                cwd: stage.cwd === undefined ? config.roots.repoRoot : path.resolve(stage.cwd),
                env: stageEnv(manifest, layout, stage.env),
                approve: (command) => approve(files, input.pipeline.id, command),
                privacyMode: config.privacyMode,
                recordProcess
              })
              : yield* runNestedStage(files, input, stage, index)
            if (verdict === "stop") break
          }
        }).pipe(Effect.scoped)

        yield* execute.pipe(Effect.onInterrupt(() => markCancelled(files)))
        const finished = yield* finalize(files, input)
        yield* Effect.logInfo(`Run ${manifest.run_id} ${finished.manifest.status}: ${finished.manifest.artifact_root}/manifest.json`)
        return finished
      })

    const runPipeline = (input: RunInput): Effect.Effect<FinishedRun, FileAccessError> =>
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
          guardrails_required: input.pipeline.guardrailsRequired !== false
        }
        const files = yield* store.create(layout, initial)
        const recordProcess = yield* claimOwnership(files)
        yield* Effect.logInfo(
          `Run ${runId} started: pipeline ${input.pipeline.id} (${input.pipeline.stages.length} stages), task ${input.taskId}`
        )
        return yield* executeRun(files, input, targetedStageId(input.plan), true, recordProcess)
      })

    const locateRun = (request: RunRequest) =>
      Effect.gen(function*() {
        const taskId = yield* resolveTaskId(request.taskId)
        const runId = yield* parseRunId(request.runId)
        return { taskId, layout: makeRunLayout(path, config.roots, taskId, runId) }
      })

    const status = (request: RunRequest): Effect.Effect<StatusView, BadInput | FileAccessError> =>
      Effect.gen(function*() {
        const { layout } = yield* locateRun(request)
        const manifest = yield* store.read(layout)
        const owner = yield* store.readOwner(layout)
        const now = yield* Clock.currentTimeMillis
        return { manifest, layout, stale: isStale(manifest, now), owner }
      })

    const resume = (request: ResumeRequest) =>
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

        const finished = yield* executeRun(files, {
          taskId,
          pipeline,
          plan: resolvedPlan,
          catalog: data,
          parentRunId: recorded.parent_run_id,
          approvalPolicy: recorded.approval_policy,
          taskSlug: recorded.task_slug,
          instructions: { hash: recorded.instructions_hash, sources: recorded.instructions_sources },
          promptPacks: recorded.prompt_packs ?? []
        }, target === undefined ? undefined : targetedStageId(resolvedPlan), false, recordProcess)
        return { manifest: finished.manifest, layout: finished.layout }
      })

    return RunEngine.of({
      plan: (request) =>
        prepare(request).pipe(
          Effect.map(({ pipeline, plan, source, taskId }) => ({ taskId, pipeline, source, plan }))
        ),
      start: (request: StartRequest) =>
        Effect.gen(function*() {
          const prepared = yield* prepare(request)
          const finished = yield* runPipeline({
            taskId: prepared.taskId,
            pipeline: prepared.pipeline,
            plan: prepared.plan,
            catalog: prepared.data,
            parentRunId: request.parentRunId ?? null,
            approvalPolicy: request.approvalPolicy ?? null,
            taskSlug: prepared.taskSlug,
            instructions: prepared.instructions,
            promptPacks: prepared.promptPacks
          })
          return { manifest: finished.manifest, layout: finished.layout }
        }) satisfies Effect.Effect<unknown, BadInput | FileAccessError>,
      status,
      watch: (request, interval) =>
        Stream.repeatEffectWithSchedule(status(request), Schedule.spaced(interval)).pipe(
          // The whole (bounded) manifest is compared: two writes can share a millisecond of updated_at.
          Stream.changesWith((a, b) => a.stale === b.stale && JSON.stringify(a.manifest) === JSON.stringify(b.manifest)),
          Stream.takeUntil((view) => isTerminal(view.manifest.status))
        ),
      resume
    })
  })
)
