/**
 * The stage loop as a graph scheduler (DECISIONS B-2, SPEC RUN-3): every due stage starts once its
 * needs are done, at most `limit` at a time, never two holding the same lock. A failure in a graph
 * skips exactly its dependents (`needs <id> (failed)`) while independent branches go on; with
 * fail-fast it cancels the stages still running. A serial pipeline (no `needs`) keeps RUN-3 exactly:
 * one stage after the other, the first blocking failure stops the run, later stages stay pending.
 * Stages run in fibers of a FiberSet, so an interrupted run interrupts (and waits for) all of them.
 */
import { Effect, Exit, Fiber, FiberSet, Queue } from "effect"
import type { FileAccessError } from "../../domain/FileErrors.js"
import type { CommandEntry } from "../../domain/Manifest.js"
import type { Stage } from "../../domain/Pipeline.js"
import { blockedStages, dependenciesOf, isGraph, isSkippedForNeeds, type NodeState, startable } from "../../domain/StageGraph.js"
import type { StageVerdict } from "../../services/CommandStageRunner.js"
import type { ActiveRun } from "../../services/RunBootstrap.js"
import { patchEntry } from "./entries.js"
import { isoNow } from "../../domain/Time.js"

export interface GraphRun {
  readonly run: ActiveRun
  /** At most this many stages of this run at once. */
  readonly limit: number
  /** The first failure cancels the running stages (their entries `cancelled`). */
  readonly failFast: boolean
  /** Runs the stage at a position, start to outcome in the manifest. */
  readonly runStage: (position: number) => Effect.Effect<StageVerdict, FileAccessError>
  /** After a stage's outcome (or skip) is in the manifest: its stage:completed event. */
  readonly completed: (position: number) => Effect.Effect<void, FileAccessError>
  /** After a stage stopped its branch (or the run): the run:error event. */
  readonly failed: (position: number) => Effect.Effect<void, FileAccessError>
}

/** RUN-3.2 with B-2: what a stage starts as; a stage skipped only for a failed need runs again on resume. */
const initialState = (run: ActiveRun, stage: Stage, entry: CommandEntry | undefined): NodeState => {
  if (run.target !== undefined) return stage.id === run.target ? "waiting" : "ok"
  if (entry?.status === "succeeded") return "ok"
  if (entry?.status === "skipped" && !isSkippedForNeeds(entry.summary)) return "ok"
  return "waiting"
}

/** B-2: a stage that can never start because a need did not succeed is recorded skipped, with the reason. */
const recordSkipped = (graph: GraphRun, skipped: ReadonlyArray<{ readonly position: number; readonly reason: string }>) =>
  Effect.gen(function*() {
    if (skipped.length === 0) return
    const now = yield* isoNow
    yield* graph.run.files.update((m) =>
      skipped.reduce(
        (acc, { position, reason }) =>
          patchEntry(position, { status: "skipped", summary: reason, started_at: null, completed_at: now })(acc),
        m
      ), { force: true })
    for (const { position, reason } of skipped) {
      yield* Effect.logWarning(`[${position + 1}/${graph.run.input.pipeline.stages.length}] ${graph.run.input.pipeline.stages[position]?.id} skipped: ${reason}`)
      yield* graph.completed(position)
    }
  })

/** B-2 fail-fast: the stages still running are interrupted (process groups killed) and recorded cancelled. */
const cancelRunning = (graph: GraphRun, running: Map<number, Fiber.RuntimeFiber<void>>, cause: string) =>
  Effect.gen(function*() {
    const positions = [...running.keys()]
    yield* Fiber.interruptAll(running.values())
    running.clear()
    if (positions.length === 0) return
    const now = yield* isoNow
    yield* graph.run.files.update((m) =>
      positions.reduce(
        (acc, position) =>
          acc.commands[position]?.status === "running"
            ? patchEntry(position, { status: "cancelled", completed_at: now, summary: `Cancelled: ${cause} failed (fail-fast).` })(acc)
            : acc,
        m
      ), { force: true })
    for (const position of positions) yield* graph.completed(position)
  })

/** Runs every due stage of the run's pipeline as its graph allows; returns when nothing more can start. */
export const runStageGraph = (graph: GraphRun) =>
  Effect.gen(function*() {
    const { run } = graph
    const stages = run.input.pipeline.stages
    const deps = dependenciesOf(stages)
    const serial = !isGraph(stages)
    const manifest = yield* run.files.manifest
    const state = stages.map((stage, p) => initialState(run, stage, manifest.commands[p]))
    const fibers = yield* FiberSet.make<void>()
    const done = yield* Queue.unbounded<{ readonly position: number; readonly exit: Exit.Exit<StageVerdict, FileAccessError> }>()
    const running = new Map<number, Fiber.RuntimeFiber<void>>()

    while (true) {
      const starting = startable(stages, deps, state, graph.limit - running.size)
      for (const position of starting) {
        state[position] = "running"
        const fiber = yield* FiberSet.run(
          fibers,
          graph.runStage(position).pipe(Effect.exit, Effect.flatMap((exit) => Queue.offer(done, { position, exit })))
        )
        running.set(position, fiber)
      }
      if (starting.length > 0 && !serial) {
        yield* Effect.logInfo(`Running: ${[...running.keys()].map((p) => stages[p]?.id).join(", ")}`)
      }
      if (running.size === 0) return
      const { exit, position } = yield* Queue.take(done)
      if (!running.delete(position)) continue
      // An I/O error of the run's files ends the run; the FiberSet's scope interrupts the others.
      const verdict = yield* exit
      yield* graph.completed(position)
      if (verdict === "continue") {
        state[position] = "ok"
        continue
      }
      state[position] = "failed"
      yield* graph.failed(position)
      if (serial) return
      if (graph.failFast) return yield* cancelRunning(graph, running, stages[position]?.id ?? "a stage")
      const blocked = blockedStages(stages, deps, state)
      for (const { position: p } of blocked) state[p] = "skipped"
      yield* recordSkipped(graph, blocked)
    }
  }).pipe(Effect.scoped)
