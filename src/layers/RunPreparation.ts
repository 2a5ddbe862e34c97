import { Path } from "@effect/platform"
import { Effect, Layer, Schema } from "effect"
import { ApprovalPolicy } from "../domain/Approval.js"
import { InvalidFile } from "../domain/FileErrors.js"
import { oneLine } from "../domain/OneLine.js"
import { ExecutionMode } from "../domain/StageMode.js"
import { parseRunId, resolveTaskId } from "../domain/Ids.js"
import type { CliManifest } from "../domain/Manifest.js"
import {
  checkNestedPipelines,
  type PipelineCatalogData,
  type PipelineDefinition,
  PipelineNotFound,
  type ResolvedPipeline,
  resolvePipeline
} from "../domain/Pipeline.js"
import { buildPlan, targetedStageId, UnknownTarget } from "../domain/Plan.js"
import { makeRunLayout, type RunLayout } from "../domain/RunLayout.js"
import { targetExclusions } from "../domain/StageGraph.js"
import { tfgrpoContextOf } from "../domain/Tfgrpo.js"
import { ControlPlane } from "../services/ControlPlane.js"
import { Files } from "../services/Files.js"
import { Host } from "../services/Host.js"
import { Instructions } from "../services/Instructions.js"
import { OrchestratorConfig } from "../services/OrchestratorConfig.js"
import { PipelineCatalog } from "../services/PipelineCatalog.js"
import { PromptPacks } from "../services/PromptPacks.js"
import { type ActiveRun, RunBootstrap, type RunInput } from "../services/RunBootstrap.js"
import { RunCompletion } from "../services/RunCompletion.js"
import type { PlanRequest, ResumeRequest, StartRequest } from "../services/RunEngine.js"
import { RunPreparation } from "../services/RunPreparation.js"
import { RunStore } from "../services/RunStore.js"
import { StageExecution } from "../services/StageExecution.js"
import { inCodeProblem } from "./AppPipelines.js"
import { makeAdmission } from "./internal/admission.js"
import { checkChildrenIdle, checkResumeTarget, checkToken, inputOfRecorded, pipelineOfRun, readRecorded, resumedManifest, resumePlan } from "./internal/resumeChecks.js"
import { makeRunHandle } from "./internal/runHandle.js"
import { markCancelled } from "./internal/runCancellation.js"
import { makeTakeover } from "./internal/takeover.js"
import { type ChildDeps, settleUnrecordedChildren } from "./internal/unrecordedChildren.js"
import { isoNow } from "../domain/Time.js"

/** CFG-9, D-4: the pipeline a request names (or the default) and its plan with the target, checked. */
const pipelineAndPlan = (data: PipelineCatalogData, request: PlanRequest, envTarget: string | undefined) =>
  Effect.gen(function*() {
    const resolved: ResolvedPipeline | PipelineNotFound = request.pipeline === undefined
      ? resolvePipeline(data, request.pipelineId)
      : { pipeline: request.pipeline, source: "inline" }
    if (resolved instanceof PipelineNotFound) return yield* resolved
    const nested = checkNestedPipelines(data, resolved.pipeline)
    if (nested !== undefined) return yield* nested
    const flagTarget = request.target?.trim()
    const plan = buildPlan(resolved.pipeline, flagTarget !== undefined && flagTarget.length > 0 ? flagTarget : envTarget)
    if (plan instanceof UnknownTarget) return yield* plan
    // B-2: a new run has run nothing, so a target on a graph may not need anything.
    const target = targetedStageId(plan)
    const excluded = target === undefined ? undefined : targetExclusions(resolved.pipeline.stages, target, () => false)
    if (excluded !== undefined) return yield* excluded
    return { resolved, plan }
  })

/** The request's text and yes/no fields (the ids are checked where they are parsed, with their own messages). */
const textFields = ["pipelineId", "target", "parentRunId", "prompt", "token", "actor", "reason"] as const
const flagFields = ["failFast", "cache"] as const

/**
 * What an embedder's request holds besides names, checked as the CLI's flags and the config file are
 * (D-1: bad input writes nothing): the TypeScript types say as much, JavaScript callers and casts
 * get past them. A run would otherwise start nothing at concurrency 0 and be recorded succeeded.
 */
const requestProblem = (request: StartRequest | ResumeRequest): InvalidFile | undefined => {
  const shown = (value: unknown) => oneLine(typeof value === "string" ? JSON.stringify(value) : String(value))
  const issues = [
    ...textFields.flatMap((field) => {
      const value: unknown = Reflect.get(request, field)
      return value === undefined || typeof value === "string" ? [] : [`${field}: must be a string, not ${shown(value)}`]
    }),
    ...flagFields.flatMap((field) => {
      const value: unknown = Reflect.get(request, field)
      return value === undefined || typeof value === "boolean" ? [] : [`${field}: must be true or false, not ${shown(value)}`]
    }),
    ...(request.concurrency === undefined || (Number.isInteger(request.concurrency) && request.concurrency >= 1)
      ? []
      : [`concurrency: must be a positive integer (stages at once), not ${shown(request.concurrency)}`]),
    ...(request.executionMode === undefined || Schema.is(ExecutionMode)(request.executionMode)
      ? []
      : [`executionMode: must be "mcp" or "cloud", not ${shown(request.executionMode)}`]),
    ...(request.approvalPolicy === undefined || Schema.is(ApprovalPolicy)(request.approvalPolicy)
      ? []
      : [`approvalPolicy: must be "never", "on-request" or "auto", not ${shown(request.approvalPolicy)}`])
  ]
  if (issues.length > 0) return new InvalidFile({ path: "the run request", issues })
  return "pipeline" in request && request.pipeline !== undefined ? inCodeProblem([request.pipeline]) : undefined
}

const failOn = (problem: InvalidFile | undefined) => (problem === undefined ? Effect.void : Effect.fail(problem))

/** The run's prompt (`--prompt-file`) kept as prompt.md; a blank one is not kept. */
const keepPrompt = (run: ActiveRun, prompt: string | undefined) =>
  prompt !== undefined && prompt.trim().length > 0 ? run.files.writePrompt(prompt) : Effect.void

/**
 * D-7: takes the run over and opens it, unless a child run it would settle is being run on its own; the
 * child runs a crash left unrecorded are adopted and settled too (RUN-7). The folders its stages write
 * in are made again, should they have been cleaned up since (the stage logs and error files).
 */
const takeOverRun = (
  deps: ChildDeps & { readonly takeOver: ReturnType<typeof makeTakeover>["takeOver"] },
  layout: RunLayout,
  recorded: CliManifest,
  pipeline: PipelineDefinition,
  layoutOf: (runId: string) => RunLayout
) =>
  Effect.gen(function*() {
    yield* checkChildrenIdle(deps, layout, recorded, layoutOf)
    yield* deps.takeOver(layout, layoutOf)
    const runFiles = yield* deps.store.open(layout)
    yield* Effect.forEach([layout.commandsDir, layout.errorsDir], (folder) => deps.files.makeDirectory(folder), { discard: true })
    yield* settleUnrecordedChildren(deps, runFiles, pipeline, layoutOf)
    return runFiles
  })

export const RunPreparationLive = Layer.effect(
  RunPreparation,
  Effect.gen(function*() {
    const config = yield* OrchestratorConfig
    const catalog = yield* PipelineCatalog
    const instructions = yield* Instructions
    const promptPacks = yield* PromptPacks
    const store = yield* RunStore
    const path = yield* Path.Path
    const bootstrapper = yield* RunBootstrap
    const execution = yield* StageExecution
    const completion = yield* RunCompletion
    const taking = { ...makeTakeover(store, yield* Host), files: yield* Files, store, host: yield* Host }
    const { preflight } = makeAdmission(yield* ControlPlane, config.roots, path)

    /** ENV-3/ENV-4: a set MCP_RUNNER_TASK_ID must be valid even when --task overrides it. */
    const taskIdOf = (flag: string | undefined) => resolveTaskId(config.envTaskId, flag)

    /** Everything a run needs, checked before anything is written (D-1: bad input writes nothing). */
    const prepare = Effect.fn("RunPreparation.prepare")(function*(request: StartRequest) {
      yield* failOn(requestProblem(request))
      const taskId = yield* taskIdOf(request.taskId)
      const data = yield* catalog.load
      const { plan, resolved } = yield* pipelineAndPlan(data, request, config.envTargetStage)
      const resolvedInstructions = yield* instructions.resolve
      const packs = yield* promptPacks.load
      const task = yield* catalog.taskMetadata(taskId)
      const group = yield* preflight(taskId, task, resolved.pipeline)
      const tfgrpo = yield* tfgrpoContextOf({ epoch: config.tfgrpoEpoch, groupId: config.tfgrpoGroupId, groupSize: group.groupSize })
      const input: RunInput = {
        taskId,
        pipeline: resolved.pipeline,
        plan,
        catalog: data,
        parentRunId: null,
        approvalPolicy: null,
        taskSlug: task.slug,
        taskTitle: task.title,
        instructions: resolvedInstructions,
        promptPacks: packs,
        group,
        tfgrpo
      }
      return { input, source: resolved.source }
    })

    const handleOf = (run: ActiveRun) => makeRunHandle(run, execution, completion)

    const bootstrap = Effect.fn("RunPreparation.bootstrap")(function*(request: StartRequest) {
      const { input } = yield* prepare(request)
      const run = yield* bootstrapper.create({
        ...input,
        parentRunId: request.parentRunId ?? null,
        schedule: { concurrency: request.concurrency, failFast: request.failFast },
        approvalPolicy: request.approvalPolicy ?? null,
        // TFG-4: each pack is recorded with the task's top experiences of its domain.
        promptPacks: yield* bootstrapper.attachExperiences(input.taskId, input.promptPacks)
      })
      return yield* keepPrompt(run, request.prompt).pipe(Effect.zipRight(handleOf(run)), Effect.onInterrupt(() => markCancelled(run.files)))
    })

    const reopen = Effect.fn("RunPreparation.reopen")(function*(request: ResumeRequest) {
      yield* failOn(requestProblem(request))
      const taskId = yield* taskIdOf(request.taskId)
      const layout = makeRunLayout(path, config.roots, taskId, yield* parseRunId(request.runId))
      const layoutOf = (childRunId: string) => makeRunLayout(path, config.roots, taskId, childRunId)
      const recorded = yield* readRecorded(store, layout, layoutOf)
      const data = yield* catalog.load
      const pipeline = yield* pipelineOfRun(data, recorded)
      yield* checkToken(request, recorded, request.token === undefined ? yield* store.readResumeToken(layout) : undefined)
      const { plan, target } = yield* resumePlan(pipeline, request, recorded, config.envTargetStage)
      yield* checkResumeTarget(pipeline, target === undefined ? undefined : targetedStageId(plan), recorded)
      // All succeeded, no target: nothing would re-run, so nothing is recorded (issue 16 item 22).
      if (recorded.status === "succeeded" && target === undefined) return { _tag: "AlreadySucceeded", layout } as const
      const taskMeta = yield* catalog.taskMetadata(taskId)
      // CP-3: without TFGRPO_GROUP_SIZE now, the group size the run recorded still holds.
      const group = yield* preflight(taskId, { slug: recorded.task_slug, title: taskMeta.title }, pipeline, recorded.tfgrpo?.group_size)
      const tfgrpo = yield* tfgrpoContextOf(
        { epoch: config.tfgrpoEpoch, groupId: config.tfgrpoGroupId, groupSize: group.groupSize },
        recorded.tfgrpo
      )
      const runFiles = yield* takeOverRun(taking, layout, recorded, pipeline, layoutOf)
      const now = yield* isoNow
      yield* runFiles.update((m) => resumedManifest(m, { request, now, planTargetId: plan.targetId, tfgrpo }), { force: true })
      yield* runFiles.writeHeartbeatFile(now)
      yield* Effect.logInfo(`Run ${recorded.run_id} resumed: pipeline ${pipeline.id}, task ${recorded.task_id}`)
      // RUN-9: RUN-1 again from the control-plane step, on the same run.
      const schedule = { concurrency: request.concurrency, failFast: request.failFast }
      const input = inputOfRecorded(recorded, { taskId, pipeline, plan, catalog: data, taskTitle: taskMeta.title, group, tfgrpo, schedule })
      const run = yield* bootstrapper.adopt(runFiles, input, target === undefined ? undefined : targetedStageId(plan))
      return { _tag: "Resumed", run: yield* handleOf(run) } as const
    })

    return RunPreparation.of({
      plan: (request) =>
        prepare(request).pipe(
          Effect.map(({ input, source }) => ({ taskId: input.taskId, pipeline: input.pipeline, source, plan: input.plan }))
        ),
      bootstrap,
      reopen
    })
  })
)
