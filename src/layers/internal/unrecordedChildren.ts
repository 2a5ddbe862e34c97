/**
 * Child runs a crash left unrecorded (RUN-7, RUN-9). A nested stage's child run is created (its folder
 * and a `queued` manifest naming its parent) before the parent's entry records its `sub_run_id`; a kill -9
 * in between leaves a child the parent's manifest does not name, `queued` for good, and a resume would
 * start a second one beside it. After the takeover, resume finds such children in the task's folder by
 * their `parent_run_id`, records each on the running nested entry of its pipeline (when exactly one
 * entry can be its), and records it `cancelled`, as the takeover does a recorded child: the stage then
 * runs again in a new child run.
 */
import { Clock, Effect, Either } from "effect"
import { parseRunId } from "../../domain/Ids.js"
import { cancelledManifest, type CliManifest, isTerminal } from "../../domain/Manifest.js"
import type { PipelineDefinition } from "../../domain/Pipeline.js"
import type { RunLayout } from "../../domain/RunLayout.js"
import { iso } from "../../domain/Time.js"
import type { Files } from "../../services/Files.js"
import type { RunFiles, RunStore } from "../../services/RunStore.js"
import { patchEntry } from "./entries.js"

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

/** The runs of the task's folder that name `manifest`'s run as parent, are not finished and are not recorded in it. */
const unrecordedChildren = (
  deps: { readonly files: Files["Type"]; readonly store: RunStore["Type"] },
  manifest: CliManifest,
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
    const read = yield* Effect.forEach(names, (name) =>
      // A folder without a readable manifest is no child this resume can settle.
      deps.store.read(layoutOf(name)).pipe(Effect.option))
    return read.flatMap((child) =>
      child._tag === "Some" && child.value.parent_run_id === manifest.run_id && !isTerminal(child.value.status)
        ? [child.value]
        : []
    ).sort((a, b) => a.started_at.localeCompare(b.started_at) || a.run_id.localeCompare(b.run_id))
  })

/**
 * Adopts and settles the children of the run `files` holds (taken over by this process) that a crash left
 * unrecorded; returns their run ids. A child that cannot be written is reported and left as it is.
 */
export const settleUnrecordedChildren = (
  deps: { readonly files: Files["Type"]; readonly store: RunStore["Type"] },
  files: RunFiles,
  pipeline: PipelineDefinition,
  layoutOf: (runId: string) => RunLayout
) =>
  Effect.gen(function*() {
    const manifest = yield* files.manifest
    const waiting = waitingEntries(manifest, pipeline)
    if (waiting.size === 0) return []
    const children = yield* unrecordedChildren(deps, manifest, layoutOf)
    for (const [pipelineId, positions] of waiting) {
      const newest = children.filter((c) => c.pipeline_id === pipelineId).at(-1)
      const [position] = positions
      // Two nested stages of one pipeline interrupted side by side: which child is whose is not recorded.
      if (newest === undefined || position === undefined || positions.length > 1) continue
      yield* files.update(patchEntry(position, { sub_run_id: newest.run_id }), { force: true })
    }
    yield* Effect.forEach(children, (child) =>
      Effect.gen(function*() {
        const childFiles = yield* deps.store.open(layoutOf(child.run_id))
        const now = iso(yield* Clock.currentTimeMillis)
        yield* childFiles.update((m) => cancelledManifest(m, now), { force: true })
        yield* Effect.logWarning(
          `Child run ${child.run_id} was created just before the crash and not yet recorded by its parent: adopted and recorded cancelled; its nested stage runs again`
        )
      }).pipe(Effect.catchAll((error) => Effect.logWarning(`Child run ${child.run_id} left as it is: ${error.message}`))), { discard: true })
    return children.map((c) => c.run_id)
  })
