import { Path } from "@effect/platform"
import { Clock, Duration, Effect, Either, Layer, Schedule } from "effect"
import type { FileAccessError } from "../domain/FileErrors.js"
import { computeGuardrailStatus } from "../domain/Guardrails.js"
import { defaultTaskId, type InvalidId, makeRunId, parseTaskId, type TaskId } from "../domain/Ids.js"
import {
  appendSummary,
  type CliManifest,
  type CommandEntry,
  isTerminal,
  type RunStatus,
  upsertGuardrailLine
} from "../domain/Manifest.js"
import {
  checkNestedPipelines,
  type PipelineCatalogData,
  type PipelineDefinition,
  PipelineNotFound,
  resolvePipeline,
  type SubpipelineStage
} from "../domain/Pipeline.js"
import { buildPlan, type PlanResult, targetedStageId, UnknownTarget } from "../domain/Plan.js"
import { makeRunLayout, type RunLayout } from "../domain/RunLayout.js"
import { type RunSummary, summarizeRun } from "../domain/RunSummary.js"
import { OrchestratorConfig } from "../services/OrchestratorConfig.js"
import { PipelineCatalog } from "../services/PipelineCatalog.js"
import { ProcessRunner } from "../services/ProcessRunner.js"
import { type BadInput, type PlanRequest, RunEngine, type StartRequest } from "../services/RunEngine.js"
import { type RunFiles, RunStore } from "../services/RunStore.js"
import { runCommandStage, type StageVerdict } from "./internal/commandStage.js"
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
        return { taskId, data, pipeline: resolved.pipeline, source: resolved.source, plan }
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
        yield* files.update(patch({ status: "running", started_at: yield* isoNow, completed_at: null }), { force: true })
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
            summary: !guardrails.present && guardrails.recommendation !== null
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

    const runPipeline = (input: RunInput): Effect.Effect<FinishedRun, FileAccessError> =>
      Effect.gen(function*() {
        const startedMs = yield* Clock.currentTimeMillis
        const runId = makeRunId(startedMs, yield* randomHex(4))
        const layout = makeRunLayout(path, config.roots, input.taskId, runId)
        const now = iso(startedMs)
        const target = targetedStageId(input.plan)
        const initial: CliManifest = {
          version: 1,
          task_id: input.taskId,
          task_slug: input.taskId,
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
          instructions_hash: null,
          instructions_sources: [],
          guardrails_required: input.pipeline.guardrailsRequired !== false
        }
        const files = yield* store.create(layout, initial)
        yield* Effect.logInfo(
          `Run ${runId} started: pipeline ${input.pipeline.id} (${input.pipeline.stages.length} stages), task ${input.taskId}`
        )

        const execute = Effect.gen(function*() {
          yield* files.update((m) => ({
            ...m,
            status: "in_progress",
            heartbeat_at: iso(startedMs),
            // D-4: with a target, every other stage is recorded as skipped up front.
            commands: target === undefined ? m.commands : m.commands.map((c) =>
              c.id === target ? c : { ...c, status: "skipped" as const, summary: "not targeted" }
            )
          }), { force: true })
          yield* files.writeHeartbeatFile(iso(startedMs))
          yield* Effect.forkScoped(heartbeat(files))

          for (const [position, stage] of input.pipeline.stages.entries()) {
            if (target !== undefined && stage.id !== target) continue
            const index = position + 1
            const verdict = stage.kind === "command"
              ? yield* runCommandStage({
                files,
                runner,
                stage,
                index,
                cwd: stage.cwd === undefined ? config.roots.repoRoot : path.resolve(stage.cwd),
                env: stageEnv(initial, layout, stage.env)
              })
              : yield* runNestedStage(files, input, stage, index)
            if (verdict === "stop") break
          }
        }).pipe(Effect.scoped)

        yield* execute.pipe(Effect.onInterrupt(() => markCancelled(files)))
        const finished = yield* finalize(files, input)
        yield* Effect.logInfo(
          `Run ${runId} ${finished.manifest.status}: ${finished.manifest.artifact_root}/manifest.json`
        )
        return finished
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
            approvalPolicy: request.approvalPolicy ?? null
          })
          return { manifest: finished.manifest, layout: finished.layout }
        }) satisfies Effect.Effect<unknown, BadInput | FileAccessError>
    })
  })
)
