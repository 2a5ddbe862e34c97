import { Path } from "@effect/platform"
import { Files } from "../services/Files.js"
import { Clock, Effect, Layer, Ref } from "effect"
import type { CliManifest, CommandEntry } from "../domain/Manifest.js"
import type { CommandStage } from "../domain/Pipeline.js"
import { shortened } from "../domain/OneLine.js"
import type { PrivacyMode } from "../domain/Privacy.js"
import type { Roots, RunLayout } from "../domain/RunLayout.js"
import { CommandStageRunner } from "../services/CommandStageRunner.js"
import { EventBus } from "../services/EventBus.js"
import type { ExecutorService } from "../services/Executor.js"
import { OrchestratorConfig } from "../services/OrchestratorConfig.js"
import { Prompter } from "../services/Prompter.js"
import type { ActiveRun } from "../services/RunBootstrap.js"
import { makeApprovalGate } from "./internal/approvals.js"
import { Entropy } from "../services/Entropy.js"
import { clearResuming, patchEntry, withoutCacheOutcome } from "./internal/entries.js"
import { makeStageGuard } from "./internal/privacyGuard.js"
import { recordRemote } from "./internal/remoteRecord.js"
import { makeRunEvents } from "./internal/runEvents.js"
import { initialAttemptState, runAttempts, truncated } from "./internal/stageAttempts.js"
import { type Finish, recordOutcome } from "./internal/stageOutcome.js"
import { stageRecordsOf } from "./internal/stageRecords.js"
import { makeSectionAdopter } from "./internal/stageSections.js"
import { stageCaching } from "./internal/stageCaching.js"
import { StageCache } from "../services/StageCache.js"
import { iso } from "../domain/Time.js"

/**
 * The executor's idempotency key of one attempt. A resume starts attempts at 1 again, so the number of
 * resumes so far is part of the key: a remote executor must run a resumed attempt, not answer it from
 * the attempt of the same number before the crash.
 */
export const attemptKey = (runId: string, stageId: string, resumes: number, attempt: number) =>
  resumes === 0
    ? `cli-command:${runId}:${stageId}:attempt-${attempt}`
    : `cli-command:${runId}:${stageId}:resume-${resumes}:attempt-${attempt}`

/**
 * The keys of a stage's attempts in this (possibly resumed) run. A stage a crashed orchestrator left
 * `running` on a remote executor is still that executor's to finish (issue 18): the first attempt of
 * the resumed stage reuses the interrupted attempt's key, so a result stored meanwhile is taken (with
 * its stored output) and an attempt still running is awaited, never run twice. A stage cancelled or
 * failed before the resume runs again under new keys.
 */
export const attemptKeys = (runId: string, resumes: number, stageId: string, entry: CommandEntry | undefined) => {
  const interrupted = entry?.status === "running" ? entry.remote : undefined
  return (attempt: number) =>
    attempt === 1 && interrupted !== undefined ? interrupted.idempotency_key : attemptKey(runId, stageId, resumes, attempt)
}

/** What a stage's process sees besides its own `env` (which wins). */
const stageEnv = (roots: Roots, manifest: CliManifest, layout: RunLayout, extra: Readonly<Record<string, string>> | undefined) => ({
  CODEX_ORCHESTRATOR_TASK_ID: manifest.task_id,
  CODEX_ORCHESTRATOR_RUN_ID: manifest.run_id,
  CODEX_ORCHESTRATOR_PIPELINE_ID: manifest.pipeline_id,
  CODEX_ORCHESTRATOR_MANIFEST_PATH: layout.manifest,
  CODEX_ORCHESTRATOR_RUN_DIR: layout.runDir,
  CODEX_ORCHESTRATOR_RUNS_DIR: roots.runsRoot,
  CODEX_ORCHESTRATOR_OUT_DIR: roots.outRoot,
  CODEX_ORCHESTRATOR_REPO_ROOT: roots.repoRoot,
  // D-20: a CLI call inside a stage lands in the run's task, whatever the parent's environment said.
  MCP_RUNNER_TASK_ID: manifest.task_id,
  ...extra
})

/** D-14: a stage refused approval is recorded without running. */
const notApproved = (privacyMode: PrivacyMode, run: ActiveRun, stage: CommandStage, position: number, decision: Finish) =>
  Effect.flatMap(Clock.currentTimeMillis, (at) =>
    recordOutcome({ files: run.files, stage, index: position + 1, privacyMode: privacyMode }, decision, {
      patchEntry: (patch) => patchEntry(position, patch),
      stdout: "",
      stderr: "",
      stdoutTruncated: false,
      stderrTruncated: false,
      startedMs: at,
      attempts: 0
    }))

/**
 * The entry goes `running` (its log path recorded), and the run is no longer `resuming` (D-7). The
 * command and title are the stage's as it runs now: a resumed run's stage may have been fixed since.
 */
const markRunning = (run: ActiveRun, stage: CommandStage, position: number, startedMs: number, logPath: string) =>
  run.files.update((m) => ({
    ...patchEntry(position, {
      command: stage.command,
      title: stage.title,
      status: "running",
      started_at: iso(startedMs),
      completed_at: null,
      exit_code: null,
      summary: null,
      log_path: run.files.layout.relative(logPath),
      ...(stage.retry === undefined ? {} : { attempts: 1 })
    })(withoutCacheOutcome(position)(m)),
    ...clearResuming(m)
  }), { force: true })

export const CommandStageRunnerLive = Layer.effect(
  CommandStageRunner,
  Effect.gen(function*() {
    const entropy = yield* Entropy
    const config = yield* OrchestratorConfig
    const path = yield* Path.Path
    const events = makeRunEvents(yield* EventBus, config.privacyMode)
    const approve = yield* makeApprovalGate(yield* Prompter)
    const adoptSections = makeSectionAdopter(yield* Files, path)
    const cache = yield* StageCache

    const run = Effect.fn("CommandStageRunner.run")(function*(
      active: ActiveRun,
      stage: CommandStage,
      position: number,
      executor: ExecutorService
    ) {
      const { files } = active
      const { layout } = files
      const index = position + 1
      const manifest = yield* files.manifest
      const logPath = layout.stageLog(index, stage.id)
      // EXE-3: a stage's own session id, persisted when it asks to be (persist or reuse); else ephemeral.
      const ids = {
        correlationId: yield* entropy.uuid,
        sessionId: stage.session?.id ?? (yield* entropy.uuid),
        persisted: stage.session?.id !== undefined && (stage.session.persist === true || stage.session.reuse === true),
        handleId: yield* entropy.uuid
      }
      // PRIV-4: every finding names the handle of the stage execution it was found in.
      const guard = makeStageGuard(config.privacyMode, stage.id, ids.handleId)
      let approvalSource = "not-required"
      if (stage.approvalRequired === true) {
        const decision = yield* approve(files, active.input.pipeline.id, stage)
        approvalSource = decision.source
        if (!decision.granted) return yield* notApproved(config.privacyMode, active, stage, position, { _tag: "NotApproved", decision })
      }

      const startedMs = yield* Clock.currentTimeMillis
      yield* markRunning(active, stage, position, startedMs, logPath)
      yield* events.stage(files, position, "started")
      yield* Effect.logInfo(`[${index}/${manifest.commands.length}] ${stage.id}: ${guard.shown(shortened(stage.command))}`)

      const createdAt = iso(yield* Clock.currentTimeMillis)
      const cwd = stage.cwd === undefined ? config.roots.repoRoot : path.resolve(stage.cwd)
      const state = initialAttemptState()
      const keyOf = attemptKeys(manifest.run_id, manifest.resume_events.length, stage.id, manifest.commands[position])
      // B-5: a cache hit replays the stage's recorded output instead of running it.
      const caching = yield* stageCaching(cache, { stage, manifest, cwd, logPath })
      const finish = yield* runAttempts({
        files,
        executor: caching.executor(executor),
        stage,
        index,
        of: manifest.commands.length,
        logPath,
        cwd,
        env: stageEnv(config.roots, manifest, layout, stage.env),
        guard,
        keyOf,
        ids,
        observing: manifest.tfgrpo !== undefined && manifest.tfgrpo !== null,
        emitCommandStreams: config.emitCommandStreams,
        stageGroups: active.stageGroups,
        observe: recordRemote(files, position, executor.name, keyOf, events.runner(manifest, stage.id, index, executor.name)),
        toolCall: events.toolCall(manifest, stage.id, index),
        output: events.output(manifest, stage.id, index),
        redactions: events.redactions(manifest, stage.id, index, guard.caught)
      }, state, startedMs)

      const cached = yield* caching.after(finish, state.attempts)
      // DES-3: what the stage left for the manifest, adopted before the stage's outcome is written.
      yield* adoptSections(files)
      const finishedMs = yield* Clock.currentTimeMillis
      const records = stageRecordsOf(
        { manifest, stage, index, cwd, ids, approvalSource, createdAt, startedMs, finishedMs },
        finish,
        state
      )
      // TFG-3: the first stdout lines of the stage's last attempt, for the run's experience.
      const observer = state.stdoutObserver
      if (observer !== undefined) {
        const head = observer.head()
        yield* Ref.update(active.stdoutHeads, (all) => new Map(all).set(position, head))
      }
      return yield* recordOutcome({ files, stage, index, privacyMode: config.privacyMode }, finish, {
        records: { handle: records.handle, toolRun: records.toolRun },
        ...(records.toolMetric === undefined ? {} : { toolMetric: records.toolMetric }),
        patchEntry: (patch) => patchEntry(position, cached === undefined ? patch : { ...patch, cache: cached }),
        stdout: state.stdoutTail.text(),
        stderr: state.stderrTail.text(),
        stdoutTruncated: truncated(state.stdoutTail),
        stderrTruncated: truncated(state.stderrTail),
        startedMs,
        attempts: state.attempts,
        privacy: (m) => guard.mergeInto(m.privacy, layout.relative(layout.privacyLog)),
        privacyDecisions: guard.decisions()
      })
    })

    return CommandStageRunner.of({ run })
  })
)
