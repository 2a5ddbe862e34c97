/**
 * Child runs a crash left unrecorded (RUN-7, RUN-9), matched to the nested stage that made them by
 * their `parent_stage_id`: two nested stages of one pipeline running side by side (a stage graph) each
 * get their own child back, and a child naming another stage is not adopted for this one. Children of
 * earlier versions (no `parent_stage_id`) are matched by pipeline as before. On in-memory layers; the
 * takeover's settling is a recorder here.
 */
import { Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Ref, TestClock } from "effect"
import type { CliManifest, CommandEntry } from "../../src/domain/Manifest.js"
import { makeRunLayout } from "../../src/domain/RunLayout.js"
import { HostMemory } from "../../src/layers/Host.js"
import { settleUnrecordedChildren } from "../../src/layers/internal/unrecordedChildren.js"
import { RunStoreMemory } from "../../src/layers/RunStore.js"
import { Files } from "../../src/services/Files.js"
import { Host } from "../../src/services/Host.js"
import { RunStore } from "../../src/services/RunStore.js"
import { commandEntry, queuedManifest } from "../support/manifests.js"
import { at, commandStage, nestedStage, pipeline } from "../support/pipelines.js"

const roots = { repoRoot: "/repo", runsRoot: "/repo/.runs", outRoot: "/repo/out" }
const parentId = "1970-01-01T00-00-00-000Z-deadbeef"
const childId = (n: number) => `1970-01-01T00-00-0${n}-000Z-c0ffee0${n}`

const layers = Layer.mergeAll(RunStoreMemory(), HostMemory(), Path.layer)

const layoutOf = (path: Path.Path) => (runId: string) => makeRunLayout(path, roots, "0101", runId)

const nestedEntry = (index: number, id: string, status: CommandEntry["status"], graph = true): CommandEntry => ({
  ...commandEntry(index, id, "", status, at(0)),
  command: null,
  kind: "subpipeline",
  ...(graph ? { needs: [] } : {})
})

/** A run of the task as a crash left it, written through the store. */
const writeRun = (runId: string, manifest: Partial<CliManifest>) =>
  Effect.gen(function*() {
    const layout = layoutOf(yield* Path.Path)(runId)
    const base = queuedManifest(layout, "0101", runId, at(0))
    return yield* (yield* RunStore).create(layout, { ...base, commands: [], ...manifest })
  })

/** A child made by the parent's nested stage `stage` (undefined: by a version that did not record it). */
const writeChild = (n: number, stage: string | undefined) =>
  writeRun(childId(n), {
    pipeline_id: "kid",
    parent_run_id: parentId,
    started_at: at(n * 1000),
    ...(stage === undefined ? {} : { parent_stage_id: stage })
  })

/** Settles the parent's unrecorded children; returns their ids, the parent's entries and what was settled. */
const settle = (graph: ReturnType<typeof pipeline>, commands: ReadonlyArray<CommandEntry>) =>
  Effect.gen(function*() {
    const files = yield* writeRun(parentId, { status: "in_progress", pipeline_id: graph.id, commands: [...commands] })
    yield* TestClock.adjust("1 minute")
    const settled = yield* Ref.make<ReadonlyArray<string>>([])
    const deps = {
      files: yield* Files,
      store: yield* RunStore,
      host: yield* Host,
      settleChild: () => () => (runId: string) => Ref.update(settled, (all) => [...all, runId])
    }
    const adopted = yield* settleUnrecordedChildren(deps, files, graph, layoutOf(yield* Path.Path))
    const entries = (yield* files.manifest).commands
    return { adopted, subRunIds: entries.map((c) => c.sub_run_id), settled: yield* Ref.get(settled) }
  })

const sideBySide = pipeline("graph", [nestedStage("left", "kid", { needs: [] }), nestedStage("right", "kid", { needs: [] })])

describe("unrecorded child runs, matched by parent_stage_id (RUN-7, RUN-9)", () => {
  it.effect("two nested stages of one pipeline interrupted side by side: each records its own child", () =>
    Effect.gen(function*() {
      yield* writeChild(1, "right")
      yield* writeChild(2, "left")
      const { adopted, settled, subRunIds } = yield* settle(sideBySide, [nestedEntry(1, "left", "running"), nestedEntry(2, "right", "running")])
      assert.deepStrictEqual(subRunIds, [childId(2), childId(1)])
      assert.deepStrictEqual([...adopted].sort(), [childId(1), childId(2)])
      assert.deepStrictEqual([...settled].sort(), [childId(1), childId(2)])
    }).pipe(Effect.provide(layers)))

  it.effect("a child whose parent_stage_id names another stage is not adopted for this one", () =>
    Effect.gen(function*() {
      const chain = pipeline("graph", [nestedStage("left", "kid", { needs: [] }), nestedStage("right", "kid", { needs: ["left"] })])
      yield* writeChild(1, "right")
      yield* writeChild(2, "nowhere")
      const { adopted, settled, subRunIds } = yield* settle(chain, [nestedEntry(1, "left", "running"), nestedEntry(2, "right", "pending")])
      assert.deepStrictEqual(subRunIds, [null, null])
      assert.deepStrictEqual(adopted, [])
      assert.deepStrictEqual(settled, [])
    }).pipe(Effect.provide(layers)))

  it.effect("of a stage's own children, the newest is recorded; a child of an earlier version (no parent_stage_id) still matches by pipeline", () =>
    Effect.gen(function*() {
      const one = pipeline("one", [commandStage("prep", "echo a"), nestedStage("child", "kid")])
      yield* writeChild(1, "child")
      yield* writeChild(2, undefined)
      yield* writeChild(3, "child")
      const prep: CommandEntry = { ...nestedEntry(1, "prep", "succeeded", false), kind: "command", command: "echo a" }
      const { adopted, settled, subRunIds } = yield* settle(one, [prep, nestedEntry(2, "child", "running", false)])
      assert.deepStrictEqual(subRunIds, [null, childId(3)])
      assert.deepStrictEqual(adopted, [childId(1), childId(2), childId(3)])
      assert.deepStrictEqual(settled, [childId(1), childId(2), childId(3)])
    }).pipe(Effect.provide(layers)))
})
