/**
 * Child runs a crash left unrecorded (RUN-7, RUN-9). A nested stage's child run is created (its folder
 * and a `queued` manifest naming its parent) before the parent's entry records its `sub_run_id`; a kill -9
 * in between leaves a child the parent's manifest does not name, `queued` for good, and a resume would
 * start a second one beside it. After the takeover, resume finds such children in the task's folder by
 * their `parent_run_id` and pipeline (unrecordedChildren says which qualify), records the newest on the
 * running nested entry of its pipeline (when exactly one entry can be its), and settles each with the
 * takeover's own `settleChild` (as a recorded child): the stage then runs again in a new child run.
 */
import { Clock, Effect, Either } from "effect"
import { parseRunId } from "../../domain/Ids.js"
import { type CliManifest, hasFreshHeartbeat, isTerminal } from "../../domain/Manifest.js"
import type { PipelineDefinition } from "../../domain/Pipeline.js"
import type { RunLayout } from "../../domain/RunLayout.js"
import type { Files } from "../../services/Files.js"
import type { Host } from "../../services/Host.js"
import type { RunFiles, RunStore } from "../../services/RunStore.js"
import { patchEntry } from "./entries.js"
import { livenessOf, mayBeAlive } from "./holderLiveness.js"

/** The positions of the nested stages a crash interrupted before they recorded their child, by pipeline id. */
const waitingEntries = (manifest: CliManifest, pipeline: PipelineDefinition) => {
  const byPipeline = new Map<string, Array<number>>()
  manifest.commands.forEach((entry, position) => {
    const stage = pipeline.stages[position]
    if (entry.status !== "running" || entry.sub_run_id !== null || stage?.kind !== "subpipeline") return
    byPipeline.set(stage.pipeline, [...(byPipeline.get(stage.pipeline) ?? []), position])
  })
  return byPipeline
}

/** What settling unrecorded children reads and writes with. */
export interface ChildDeps {
  readonly files: Files["Type"]
  readonly store: RunStore["Type"]
  readonly host: Host["Type"]
  /** The takeover's settling of a child run (internal/takeover.ts): its orphans stopped, recorded cancelled. */
  readonly settleChild: (layoutOf: (runId: string) => RunLayout, parentRunId: string) => (runId: string) => Effect.Effect<void>
}

/**
 * Whether a run may still be running in another process: its heartbeat is fresh and its owner may be
 * alive (D-7, as the takeover judges the run itself). A child the crash left was the crashed process's.
 */
const mayBeRunning = (deps: ChildDeps, layout: RunLayout, run: CliManifest, nowMs: number) =>
  Effect.gen(function*() {
    if (!hasFreshHeartbeat(run, nowMs)) return false
    const owner = yield* Effect.orElseSucceed(deps.store.readOwner(layout), () => undefined)
    return owner !== undefined && mayBeAlive(yield* livenessOf(deps.host, owner))
  })

/**
 * The runs of the task's folder that a crash may have left unrecorded by `manifest`'s run: they name it
 * as `parent_run_id`, are in no entry or `child_runs`, are not finished, run the pipeline of one of the
 * `waiting` nested stages and were made after it started, and are not running in another process (a
 * run started with `--parent-run` names its parent too).
 */
const unrecordedChildren = (
  deps: ChildDeps,
  manifest: CliManifest,
  waiting: ReadonlyMap<string, { readonly since: string }>,
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
        const stage = waiting.get(child.pipeline_id)
        if (child.parent_run_id !== manifest.run_id || isTerminal(child.status) || stage === undefined) return []
        if (child.started_at < stage.since) return []
        return (yield* mayBeRunning(deps, layoutOf(name), child, nowMs)) ? [] : [child]
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
    if (waiting.size === 0) return []
    const since = new Map([...waiting].map(([pipelineId, positions]) => [pipelineId, {
      since: positions.map((p) => manifest.commands[p]?.started_at ?? "").sort()[0] ?? ""
    }]))
    const children = yield* unrecordedChildren(deps, manifest, since, layoutOf)
    for (const [pipelineId, positions] of waiting) {
      const newest = children.filter((c) => c.pipeline_id === pipelineId).at(-1)
      const [position] = positions
      // Two nested stages of one pipeline interrupted side by side: which child is whose is not recorded.
      if (newest === undefined || position === undefined || positions.length > 1) continue
      yield* files.update(patchEntry(position, { sub_run_id: newest.run_id }), { force: true })
    }
    yield* Effect.forEach(children, (child) =>
      Effect.zipRight(
        Effect.logWarning(`Child run ${child.run_id} was created just before the crash and not yet recorded by its parent: adopted`),
        deps.settleChild(layoutOf, manifest.run_id)(child.run_id)
      ), { discard: true })
    return children.map((c) => c.run_id)
  })
