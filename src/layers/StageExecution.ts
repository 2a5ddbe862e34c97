import { type Duration, Effect, Layer, Option, Schedule } from "effect"
import type { ExecutionMode } from "../domain/ExecutionMode.js"
import type { Stage } from "../domain/Pipeline.js"
import { finalizedManifest, settleInterrupted } from "../domain/Manifest.js"
import { summarizeRun } from "../domain/RunSummary.js"
import { isGraph } from "../domain/StageGraph.js"
import { CommandStageRunner } from "../services/CommandStageRunner.js"
import { EventBus } from "../services/EventBus.js"
import { CloudExecutor, Executor } from "../services/Executor.js"
import { Host } from "../services/Host.js"
import { OrchestratorConfig } from "../services/OrchestratorConfig.js"
import { type ActiveRun, RunBootstrap } from "../services/RunBootstrap.js"
import { RunCompletion } from "../services/RunCompletion.js"
import type { RunFiles } from "../services/RunStore.js"
import { StageExecution } from "../services/StageExecution.js"
import { TaskStateStore } from "../services/TaskStateStore.js"
import { runStageGraph } from "./internal/graphScheduler.js"
import { type RunChild, runNestedStage } from "./internal/nestedStage.js"
import { makeRunEvents, type RunEvents } from "./internal/runEvents.js"
import { persistRun } from "./internal/persistRun.js"
import { runSpan, stageSpan } from "./internal/runSpans.js"
import { markCancelled, markFileFailure } from "./internal/runCancellation.js"
import { isoNow } from "../domain/Time.js"

const cloudFallbackReason = "no cloud executor is configured; the run executed locally"

/**
 * RUN-8: heartbeat_at and `.heartbeat` every interval. The manifest write is forced: coalesced, it
 * waited for the next beat whenever another write came less than an interval before, and `stale`
 * (D-9) is judged from it. It is atomic but not fsynced (D-6: it settles nothing).
 */
const heartbeat = (files: RunFiles, interval: Duration.Duration) =>
  isoNow.pipe(
    Effect.flatMap((now) =>
      files.update((m) => ({ ...m, heartbeat_at: now }), { force: true }).pipe(Effect.zipRight(files.writeHeartbeatFile(now)))
    ),
    Effect.catchAll((error) => Effect.logWarning(`Heartbeat not recorded: ${error.message}`)),
    Effect.repeat(Schedule.spaced(interval)),
    Effect.delay(interval)
  )

/** The run goes `in_progress` (D-4: with a target, every other stage is recorded skipped up front). */
const begin = (events: RunEvents, run: ActiveRun, mode: ExecutionMode, fallback: string | undefined) =>
  Effect.gen(function*() {
    const { files, target } = run
    const now = yield* isoNow
    const started = yield* files.update((recorded) => {
      // A resume with a target: a stage the crashed run left running is settled, not left running.
      const m = target !== undefined && !run.markUntargeted ? settleInterrupted(recorded, target, now) : recorded
      return {
        ...m,
        status: "in_progress",
        heartbeat_at: now,
        execution_mode: mode,
        cloud_fallback_reason: fallback ?? null,
        commands: target === undefined || !run.markUntargeted ? m.commands : m.commands.map((c) =>
          c.id === target ? c : { ...c, status: "skipped" as const, summary: "not targeted" }
        )
      }
    }, { force: true })
    yield* files.writeHeartbeatFile(now)
    yield* events.runStarted(started, files.layout, now)
  })

export const StageExecutionLive = Layer.effect(
  StageExecution,
  Effect.gen(function*() {
    const config = yield* OrchestratorConfig
    const localExecutor = yield* Executor
    const cloudExecutor = yield* Effect.serviceOption(CloudExecutor)
    const commandStages = yield* CommandStageRunner
    const persist = persistRun(yield* TaskStateStore)
    const bootstrap = yield* RunBootstrap
    const completion = yield* RunCompletion
    const events = makeRunEvents(yield* EventBus, config.privacyMode)
    const { cpus } = yield* Host

    /** B-3: `cloud` runs on the cloud executor when one is provided, else locally. */
    const executorFor = (mode: ExecutionMode) =>
      mode === "cloud" && Option.isSome(cloudExecutor) ? cloudExecutor.value : localExecutor

    /** D-23: a stage runs where its own mode says; the run's mode is the default for stages that do not say. */
    const modeOf = (stage: Stage, runMode: ExecutionMode): ExecutionMode => stage.executionMode ?? runMode

    /** B-3: why stages that want `cloud` run locally (no cloud executor), naming them when only some want it. */
    const fallbackOf = (run: ActiveRun, runMode: ExecutionMode) => {
      if (Option.isSome(cloudExecutor)) return undefined
      if (runMode === "cloud") return cloudFallbackReason
      const wanting = run.input.pipeline.stages.filter((stage) => stage.kind === "command" && modeOf(stage, runMode) === "cloud")
      return wanting.length === 0
        ? undefined
        : `${cloudFallbackReason} (stages ${wanting.map((stage) => stage.id).join(", ")} asked for cloud)`
    }

    /** B-2: at most this many stages of the run at once: the flag, the pipeline's, else CPUs for a graph, 1 serial. */
    const limitOf = (run: ActiveRun) =>
      run.input.schedule?.concurrency ?? run.input.pipeline.concurrency ?? (isGraph(run.input.pipeline.stages) ? cpus : 1)

    /**
     * RUN-3 with B-2: every due stage, as the graph allows. Command stages take a permit of `tree`,
     * shared with nested runs, so the limit holds across the whole run tree (a nested stage holds none).
     */
    const stages = (run: ActiveRun, mode: ExecutionMode, tree: Effect.Semaphore) => {
      /** RUN-7: a child run, start to finish, summarized by the CLI's agents' rules (TM-6). */
      const runChild: RunChild = (parent, child) =>
        Effect.gen(function*() {
          const created = yield* bootstrap.create({ ...parent.input, pipeline: child.pipeline, plan: child.plan, parentRunId: child.parentRunId, parentStageId: child.parentStageId })
          yield* child.created(created.files.layout.runId)
          const executed = yield* executeIn(created, "mcp", tree)
          const completed = yield* completion.complete(created, summarizeRun(executed.manifest, child.plan, yield* isoNow), {
            learnFrom: false
          })
          // PER-1 for the child too: its runs.json entry and summary manifest, as for any run of the task.
          yield* persist(completed.summary)
          return completed
        })
      return runStageGraph({
        run,
        limit: limitOf(run),
        failFast: run.input.schedule?.failFast === true || run.input.pipeline.failFast === true,
        runStage: (position) => {
          const stage = run.input.pipeline.stages[position]
          if (stage === undefined) return Effect.dieMessage(`no stage at position ${position}`)
          const executor = executorFor(modeOf(stage, mode))
          return (stage.kind === "command"
            ? tree.withPermits(1)(commandStages.run(run, stage, position, executor))
            : runNestedStage({ events, runChild }, run, stage, position)).pipe(stageSpan(run, stage, position, executor.name))
        },
        completed: (position) => events.stage(run.files, position, "completed"),
        failed: (position) => events.runError(run.files, position)
      })
    }

    const executeIn = (run: ActiveRun, mode: ExecutionMode, tree: Effect.Semaphore | undefined) =>
      Effect.gen(function*() {
        const { files } = run
        const fallback = fallbackOf(run, mode)
        if (fallback !== undefined) yield* Effect.logWarning(`Execution mode cloud: ${fallback}.`)
        const permits = tree ?? (yield* Effect.makeSemaphore(limitOf(run)))
        yield* Effect.gen(function*() {
          yield* begin(events, run, mode, fallback)
          // Interruptible where the caller is not: else closing the scope would wait for it for ever.
          yield* Effect.forkScoped(Effect.interruptible(heartbeat(files, config.heartbeatInterval)))
          yield* stages(run, mode, permits)
        }).pipe(
          Effect.scoped,
          Effect.onInterrupt(() => markCancelled(files)),
          Effect.tapError((error) => markFileFailure(files, error))
        )
        // RUN-3 step 3: final status, guardrails and summary lines (MAN-5, RUN-12).
        const now = yield* isoNow
        const done = yield* files.update((m) => finalizedManifest(m, now), { force: true })
        yield* files.writeHeartbeatFile(now)
        yield* Effect.logInfo(`Run ${done.run_id} ${done.status}: ${done.artifact_root}/manifest.json`)
        return { manifest: done, layout: files.layout, mode, cloudFallbackReason: fallback }
      }).pipe(runSpan(run))

    const execute = Effect.fn("StageExecution.execute")(function*(run: ActiveRun, mode: ExecutionMode) {
      return yield* executeIn(run, mode, undefined)
    })

    return StageExecution.of({ execute })
  })
)
