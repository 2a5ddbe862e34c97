/**
 * Child runs a crash left unrecorded (RUN-7, RUN-9). A nested stage's child run is created (its folder
 * and a `queued` manifest naming its parent and, as `parent_stage_id`, the stage) before the parent's
 * entry records its `sub_run_id`; a kill -9 in between leaves a child the parent's manifest does not
 * name, `queued` for good, and a resume would start a second one beside it. After the takeover, resume
 * finds such children in the task's folder by their `parent_run_id` (unrecordedChildren says which
 * qualify), records the newest of each running nested entry's own on that entry, and settles each with
 * the takeover's own `settleChild` (as a recorded child): the stage then runs again in a new child run.
 * A child names its stage, so two nested stages of one pipeline interrupted side by side each get their
 * own back; a child of an earlier version (no `parent_stage_id`) goes by its pipeline, and is recorded
 * only when exactly one interrupted entry runs that pipeline.
 */
import { Clock, Effect, Either } from "effect"
import { parseRunId } from "../../domain/Ids.js"
import { type CliManifest, isTerminal } from "../../domain/Manifest.js"
import type { PipelineDefinition } from "../../domain/Pipeline.js"
import type { RunLayout } from "../../domain/RunLayout.js"
import type { Files } from "../../services/Files.js"
import type { Host } from "../../services/Host.js"
import type { RunFiles, RunStore } from "../../services/RunStore.js"
import { patchEntry } from "./entries.js"
import type { ResumeInProgress, RunStillActive } from "../../domain/RunErrors.js"
import { liveOwnerOf } from "./holderLiveness.js"
import type { ChildOrigin } from "./takeover.js"

/** A nested stage a crash interrupted before it recorded its child: where, which stage, since when. */
interface Waiting {
  readonly position: number
  readonly stageId: string
  readonly pipelineId: string
  readonly since: string
}

/** The nested stages a crash interrupted before they recorded their child. */
const waitingEntries = (manifest: CliManifest, pipeline: PipelineDefinition): ReadonlyArray<Waiting> =>
  manifest.commands.flatMap((entry, position) => {
    const stage = pipeline.stages[position]
    if (entry.status !== "running" || entry.sub_run_id !== null || stage?.kind !== "subpipeline") return []
    return [{ position, stageId: stage.id, pipelineId: stage.pipeline, since: entry.started_at ?? "" }]
  })

/**
 * The interrupted entries `child` may be the child of: the one its `parent_stage_id` names (none when
 * that stage is not waiting), else, for a child of an earlier version, every one of its pipeline.
 */
const entriesOf = (waiting: ReadonlyArray<Waiting>, child: CliManifest) =>
  waiting.filter((w) =>
    w.pipelineId === child.pipeline_id && (child.parent_stage_id === undefined || w.stageId === child.parent_stage_id)
  )

/** What settling unrecorded children reads and writes with. */
export interface ChildDeps {
  readonly files: Files["Type"]
  readonly store: RunStore["Type"]
  readonly host: Host["Type"]
  /** The takeover's settling of a child run (internal/takeover.ts): its orphans stopped, recorded cancelled. */
  readonly settleChild: (
    layoutOf: (runId: string) => RunLayout
  ) => (origin: ChildOrigin) => (runId: string) => Effect.Effect<void, RunStillActive | ResumeInProgress>
}

/**
 * The runs of the task's folder that a crash may have left unrecorded by `manifest`'s run: they name it
 * as `parent_run_id`, are in no entry or `child_runs`, are not finished, belong to one of the `waiting`
 * nested stages (entriesOf) and were made after it started, and are not running in another process (a
 * run started with `--parent-run` names its parent too).
 */
const unrecordedChildren = (
  deps: ChildDeps,
  manifest: CliManifest,
  waiting: ReadonlyArray<Waiting>,
  layoutOf: (runId: string) => RunLayout
) =>
  Effect.gen(function*() {
    const recorded = new Set([
      manifest.run_id,
      ...manifest.commands.flatMap((c) => (c.sub_run_id === null ? [] : [c.sub_run_id])),
      ...manifest.child_runs.map((c) => c.run_id)
    ])
    const names = (yield* deps.files.list(layoutOf(manifest.run_id).cliDir))
      .filter((name) => !recorded.has(name) && Either.isRight(parseRunId(name)))
    const nowMs = yield* Clock.currentTimeMillis
    const found = yield* Effect.forEach(names, (name) =>
      Effect.gen(function*() {
        // A folder without a readable manifest is no child this resume can settle.
        const read = yield* Effect.option(deps.store.read(layoutOf(name)))
        if (read._tag === "None") return []
        const child = read.value
        if (child.parent_run_id !== manifest.run_id || isTerminal(child.status)) return []
        const since = entriesOf(waiting, child).map((w) => w.since).sort()[0]
        if (since === undefined || child.started_at < since) return []
        // Not running in another process (D-7): a child the crash left was the crashed process's.
        return (yield* liveOwnerOf(deps, layoutOf(name), child, nowMs)) === undefined ? [child] : []
      }))
    return found.flat().sort((a, b) => a.started_at.localeCompare(b.started_at) || a.run_id.localeCompare(b.run_id))
  })

/**
 * Adopts and settles the children of the run `files` holds (taken over by this process) that a crash left
 * unrecorded; returns their run ids. A child that cannot be written is reported and left as it is.
 */
export const settleUnrecordedChildren = (
  deps: ChildDeps,
  files: RunFiles,
  pipeline: PipelineDefinition,
  layoutOf: (runId: string) => RunLayout
) =>
  Effect.gen(function*() {
    const manifest = yield* files.manifest
    const waiting = waitingEntries(manifest, pipeline)
    if (waiting.length === 0) return []
    const children = yield* unrecordedChildren(deps, manifest, waiting, layoutOf)
    for (const entry of waiting) {
      // Its own children: those naming it, and an earlier version's of its pipeline when no other
      // interrupted entry runs that pipeline (which of the two made it is not recorded).
      const newest = children.filter((c) => {
        const candidates = entriesOf(waiting, c)
        return candidates.length === 1 && candidates[0]?.stageId === entry.stageId
      }).at(-1)
      if (newest === undefined) continue
      yield* files.update(patchEntry(entry.position, { sub_run_id: newest.run_id }), { force: true })
    }
    // The run's recorded owner is still the crashed orchestrator's: this process records itself later.
    const crashed = yield* Effect.orElseSucceed(deps.store.readOwner(files.layout), () => undefined)
    yield* Effect.forEach(children, (child) =>
      Effect.zipRight(
        Effect.logWarning(`Child run ${child.run_id} was created just before the crash and not yet recorded by its parent: adopted`),
        deps.settleChild(layoutOf)({
          resumedRunId: manifest.run_id,
          crashed,
          parentRunId: manifest.run_id,
          stageId: entriesOf(waiting, child)[0]?.stageId ?? child.parent_stage_id ?? "(unknown)"
        })(child.run_id)
      ), { discard: true })
    return children.map((c) => c.run_id)
  })
