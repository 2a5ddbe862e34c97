/**
 * What a resume checks before it takes a run over (SPEC RUN-9, DECISIONS D-7): the pipeline still
 * has the recorded stages and the recorded `needs` (B-2), the resume token matches, and the plan (with a new `--target`, the
 * recorded one, or the default) resolves.
 */
import { Clock, Effect, Either, Option } from "effect"
import { InvalidFile } from "../../domain/FileErrors.js"
import { idMessage, idProblem, parseRunId, parseTaskId } from "../../domain/Ids.js"
import { type CliManifest, heartbeatAgeMs, isTerminal } from "../../domain/Manifest.js"
import {
  checkNestedPipelines,
  findPipeline,
  type PipelineCatalogData,
  type PipelineDefinition,
  PipelineNotFound,
  resolvePipeline
} from "../../domain/Pipeline.js"
import { buildPlan, UnknownTarget } from "../../domain/Plan.js"
import { execPipelineId } from "../../domain/ExecPipeline.js"
import { ExecRunNotResumable, PipelineChanged, ResumeTokenMismatch, RunStillActive } from "../../domain/RunErrors.js"
import type { RunLayout } from "../../domain/RunLayout.js"
import { needsChanges, targetExclusions } from "../../domain/StageGraph.js"
import { resumedTfgrpoSection, type TfgrpoContext } from "../../domain/Tfgrpo.js"
import type { RunInput } from "../../services/RunBootstrap.js"
import type { ResumeRequest } from "../../services/RunEngine.js"
import type { Host } from "../../services/Host.js"
import type { RunStore } from "../../services/RunStore.js"
import { liveOwnerOf } from "./holderLiveness.js"

/** The folder an id names, and how `resume` is told which one. */
const idFolders = { task_id: { folder: "task folder", flag: "--task", label: "task" }, run_id: { folder: "run folder", flag: "--run", label: "run" } } as const

/**
 * How to resume a run whose folder no longer has the name its manifest records (renamed): rename the
 * folder back, or record the folder's name. A recorded id that is no valid id is never offered as a name.
 */
const renameFix = (field: keyof typeof idFolders, recorded: string, own: string, manifest: string) => {
  const { flag, folder, label } = idFolders[field]
  const problem = label === "task" ? Either.isLeft(parseTaskId(recorded)) : Either.isLeft(parseRunId(recorded))
  const back = problem ? "" : `rename it back to ${recorded} and resume with ${flag} ${recorded}, or `
  return `If the ${folder} was renamed, ${back}set ${JSON.stringify(field)} to ${JSON.stringify(own)} in ${manifest}.`
}

/**
 * The ids the manifest records name folders (the task's metrics and state, a child run's folder), so
 * they must be the run's own: a manifest edited by hand, copied from another run's folder, or left in a
 * renamed folder is refused (exit 2, nothing written) rather than followed, e.g. out of the runs root.
 */
export const recordedIdsProblem = (layout: RunLayout, recorded: CliManifest): InvalidFile | undefined => {
  const manifest = layout.relative(layout.manifest)
  const mismatches = ([["task_id", recorded.task_id, layout.taskId], ["run_id", recorded.run_id, layout.runId]] as const)
    .filter(([, value, own]) => value !== own)
  const issues = [
    ...mismatches.map(([field, value, own]) =>
      `${field}: is ${JSON.stringify(value)}, not ${JSON.stringify(own)} (the name of its ${idFolders[field].folder})`
    ),
    ...recorded.commands.flatMap((c, i) => {
      const problem = c.sub_run_id === null ? undefined : idProblem(c.sub_run_id)
      return problem === undefined || c.sub_run_id === null ? [] : [`commands.${i}.sub_run_id: ${idMessage("run", c.sub_run_id, problem)}`]
    })
  ]
  const hint = mismatches.length === 0
    ? "Was it edited, or copied from another run's folder? Put the run's own ids back, or start a new run."
    : [
      "resume follows only a manifest whose ids are its folders' names (its ids name the folders it writes).",
      ...mismatches.map(([field, value, own]) => renameFix(field, value, own, manifest))
    ].join(" ")
  return issues.length === 0 ? undefined : new InvalidFile({ path: manifest, issues, hint })
}

/** Why the run `entry` names is not that entry's child, or undefined when it is (RUN-7). */
const notItsChild = (recorded: CliManifest, entry: CliManifest["commands"][number], child: CliManifest) => {
  if (child.parent_run_id !== recorded.run_id) {
    return `which is no child of this run (its parent_run_id is ${JSON.stringify(child.parent_run_id)})`
  }
  // A child of an earlier version records no stage.
  return child.parent_stage_id === undefined || child.parent_stage_id === entry.id
    ? undefined
    : `the child of this run's stage ${JSON.stringify(child.parent_stage_id)} (its parent_stage_id), not of ${JSON.stringify(entry.id)}`
}

/**
 * The child runs the takeover will stop and record cancelled (the running nested stages'), refused when
 * one is no child of this run or of that stage: a hand edit or a copied folder would have resume stop
 * another run's (or stage's) child. A child that cannot be read is the takeover's to report.
 */
const foreignChildren = (store: RunStore["Type"], layout: RunLayout, recorded: CliManifest, layoutOf: (runId: string) => RunLayout) =>
  Effect.map(
    Effect.forEach(recorded.commands, (c, i) =>
      c.status !== "running" || c.kind !== "subpipeline" || c.sub_run_id === null
        ? Effect.succeed([])
        : Effect.map(Effect.option(store.read(layoutOf(c.sub_run_id))), (child) => {
          const problem = child._tag === "Some" ? notItsChild(recorded, c, child.value) : undefined
          return problem === undefined ? [] : [`commands.${i}.sub_run_id: names run ${c.sub_run_id}, ${problem}`]
        })),
    (issues) =>
      issues.flat().length === 0 ? undefined : new InvalidFile({
        path: layout.relative(layout.manifest),
        issues: issues.flat(),
        hint: "Was it edited, or copied from another run's folder? Put the run's own child back (or null), or start a new run."
      })
  )

/**
 * The run's manifest, refused when its ids are not the run's own (recordedIdsProblem) or a running
 * nested stage names a run that is not its child; `layoutOf` gives another run of the task's folder.
 */
export const readRecorded = (store: RunStore["Type"], layout: RunLayout, layoutOf: (runId: string) => RunLayout) =>
  Effect.gen(function*() {
    const recorded = yield* store.read(layout)
    const problem = recordedIdsProblem(layout, recorded) ?? (yield* foreignChildren(store, layout, recorded, layoutOf))
    return problem === undefined ? recorded : yield* problem
  })

/**
 * D-7 for the child runs the takeover would settle (the running nested stages', and theirs in turn):
 * one resumed on its own by another process that lives (a fresh heartbeat, an owner alive that is not
 * the run's own orchestrator, which the takeover judges) is refused before anything is written. The
 * takeover would stop its stage and record it cancelled while its resumer still writes it.
 */
export const checkChildrenIdle = (
  deps: { readonly store: RunStore["Type"]; readonly host: Host["Type"] },
  layout: RunLayout,
  recorded: CliManifest,
  layoutOf: (runId: string) => RunLayout
) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const seen = new Set([recorded.run_id])
    // Level by level, as the takeover settles them: only a run that names its parent is its child.
    let level: ReadonlyArray<CliManifest> = [recorded]
    while (level.length > 0) {
      const next: Array<CliManifest> = []
      for (const run of level) {
        for (const entry of run.commands) {
          if (entry.status !== "running" || entry.kind !== "subpipeline" || entry.sub_run_id === null || seen.has(entry.sub_run_id)) continue
          seen.add(entry.sub_run_id)
          const child = yield* Effect.option(deps.store.read(layoutOf(entry.sub_run_id)))
          if (Option.isNone(child) || isTerminal(child.value.status) || child.value.parent_run_id !== run.run_id) continue
          const owner = yield* liveOwnerOf(deps, layoutOf(entry.sub_run_id), child.value, now)
          // The run's own orchestrator ran the child: the takeover judges it.
          const runOwner = owner === undefined ? undefined : yield* Effect.orElseSucceed(deps.store.readOwner(layout), () => undefined)
          if (owner !== undefined && !(owner.pid === runOwner?.pid && owner.host === runOwner.host)) {
            return yield* new RunStillActive({
              runId: entry.sub_run_id,
              pid: owner.pid,
              host: owner.host,
              heartbeatAgeSeconds: Math.round(heartbeatAgeMs(child.value, now) / 1000),
              childOf: { runId: recorded.run_id, stageId: entry.id, ...(run === recorded ? {} : { parentRunId: run.run_id }) }
            })
          }
          next.push(child.value)
        }
      }
      level = next
    }
  })

/** The recorded run's pipeline as the catalog has it now; refused when its stages changed. */
export const pipelineOfRun = (data: PipelineCatalogData, recorded: CliManifest) =>
  Effect.gen(function*() {
    const found = findPipeline(data, recorded.pipeline_id)
    if (found === undefined) {
      if (recorded.pipeline_id === execPipelineId) {
        return yield* new ExecRunNotResumable({ runId: recorded.run_id, taskId: recorded.task_id, command: recorded.commands[0]?.command ?? null })
      }
      const missing = resolvePipeline(data, recorded.pipeline_id)
      // The user named a run, not this pipeline: say where the name comes from.
      if (missing instanceof PipelineNotFound) {
        return yield* new PipelineNotFound({ ...missing, referencedBy: `run ${recorded.run_id}, which resume runs again` })
      }
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
    // An entry records its stage's kind (a command, or a child run): the same id of another kind
    // would run as the other while its entry says what it was.
    const kindChanged = pipeline.stages.flatMap((stage, i) => {
      const was = recorded.commands[i]?.kind
      return was === undefined || was === stage.kind ? [] : [`${stage.id}: ${was} -> ${stage.kind}`]
    })
    if (kindChanged.length > 0) {
      return yield* new PipelineChanged({ runId: recorded.run_id, pipelineId: pipeline.id, recorded: recordedIds, current: currentIds, kindChanged })
    }
    const needsChanged = needsChanges(pipeline.stages, recorded.commands.map((c) => c.needs))
    if (needsChanged.length > 0) {
      return yield* new PipelineChanged({
        runId: recorded.run_id,
        pipelineId: pipeline.id,
        recorded: recordedIds,
        current: currentIds,
        needsChanged
      })
    }
    const nested = checkNestedPipelines(data, pipeline)
    if (nested !== undefined) return yield* nested
    return pipeline
  })

/** B-2: a `--target` given now on a graph may not exclude a need that has not succeeded in the run. */
export const checkResumeTarget = (pipeline: PipelineDefinition, targetId: string | undefined, recorded: CliManifest) => {
  const excluded = targetId === undefined
    ? undefined
    : targetExclusions(pipeline.stages, targetId, (p) => recorded.commands[p]?.status === "succeeded")
  return excluded === undefined ? Effect.void : Effect.fail(excluded)
}

/** D-7: with --token it must match; without, the folder's .resume-token must. */
export const checkToken = (request: ResumeRequest, recorded: CliManifest, fileToken: string | undefined) =>
  request.token !== undefined
    ? request.token.trim() === recorded.resume_token
      ? Effect.void
      : Effect.fail(new ResumeTokenMismatch({ runId: recorded.run_id, source: "flag" }))
    : fileToken === recorded.resume_token
    ? Effect.void
    : Effect.fail(new ResumeTokenMismatch({ runId: recorded.run_id, source: fileToken === undefined ? "missing" : "file" }))

/**
 * The plan of the resumed run: a target given now must exist; a stale recorded one falls back to
 * the default plan. Returns the plan and the target the user gave now, if any.
 */
export const resumePlan = (
  pipeline: Parameters<typeof buildPlan>[0],
  request: ResumeRequest,
  recorded: CliManifest,
  envTarget: string | undefined
) =>
  Effect.gen(function*() {
    const flagTarget = request.target?.trim()
    const target = flagTarget !== undefined && flagTarget.length > 0 ? flagTarget : undefined
    const plan = buildPlan(pipeline, target ?? recorded.plan_target_id ?? envTarget)
    if (plan instanceof UnknownTarget && target !== undefined) return yield* plan
    const resolved = plan instanceof UnknownTarget ? buildPlan(pipeline, undefined) : plan
    if (resolved instanceof UnknownTarget) return yield* resolved
    return { plan: resolved, target }
  })

/** RUN-9: the manifest of a run being resumed: in progress again, `resuming` (D-7), one more resume event. */
export const resumedManifest = (
  m: CliManifest,
  resume: {
    readonly request: ResumeRequest
    readonly now: string
    readonly planTargetId: string | null
    readonly tfgrpo: TfgrpoContext | undefined
  }
): CliManifest => {
  const { guardrail_status: _dropped, ...rest } = m
  const { now, request } = resume
  return {
    ...rest,
    status: "in_progress",
    status_detail: "resuming",
    heartbeat_at: now,
    approval_policy: request.approvalPolicy ?? m.approval_policy,
    completed_at: null,
    metrics_recorded: false,
    plan_target_id: resume.planTargetId,
    summary: null,
    // No context means none was recorded either (tfgrpoContextOf keeps a recorded one).
    tfgrpo: resume.tfgrpo === undefined ? null : resumedTfgrpoSection(m.tfgrpo, resume.tfgrpo),
    resume_events: [...m.resume_events, {
      timestamp: now,
      actor: request.actor ?? "cli",
      reason: request.reason ?? "manual-resume",
      outcome: "accepted",
      detail: `previous status: ${m.status}${m.status_detail === null ? "" : ` (${m.status_detail})`}`
    }]
  }
}

/** What a resumed run runs with: the recorded task, instructions and packs, with the pipeline as it is now. */
export const inputOfRecorded = (
  recorded: CliManifest,
  now: Pick<RunInput, "taskId" | "pipeline" | "plan" | "catalog" | "taskTitle" | "group" | "tfgrpo" | "schedule">
): RunInput => ({
  ...now,
  parentRunId: recorded.parent_run_id,
  ...(recorded.parent_stage_id === undefined ? {} : { parentStageId: recorded.parent_stage_id }),
  approvalPolicy: recorded.approval_policy,
  taskSlug: recorded.task_slug,
  instructions: { hash: recorded.instructions_hash, sources: recorded.instructions_sources },
  promptPacks: recorded.prompt_packs ?? []
})
