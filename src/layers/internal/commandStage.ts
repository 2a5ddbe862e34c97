/**
 * One command stage of a run (SPEC RUN-4..6, LOG-1, LOG-2, DECISIONS D-8, D-11): marks the entry
 * running, streams every output chunk into the stage's ndjson log as it arrives, keeps only bounded
 * tails in memory, and records the outcome in the manifest (and an error file when it failed).
 */
import { Chunk, Clock, Duration, Effect, Either, Fiber } from "effect"
import type { FileAccessError } from "../../domain/FileErrors.js"
import type { CliManifest, CommandEntry, HandleRecord, ToolRun } from "../../domain/Manifest.js"
import type { PrivacyMode } from "../../domain/Privacy.js"
import type { ApprovalDecision } from "../../domain/Approval.js"
import type { CommandStage } from "../../domain/Pipeline.js"
import type { RunLogEvent } from "../../domain/RunLog.js"
import { isRetryableOutcome, retryDelayMs, retrySchedule } from "../../domain/Retry.js"
import { recordedExitCode } from "../../domain/StageSummary.js"
import { costUsdOf, makeStdoutObserver, type StdoutObserver, type ToolMetric } from "../../domain/Tfgrpo.js"
import type { ExecutorService } from "../../services/Executor.js"
import type { RunFiles } from "../../services/RunStore.js"
import { randomUuid } from "./entropy.js"
import { makeOutputTail } from "./outputTail.js"
import { makeStageGuard } from "./privacyGuard.js"
import { type Finish, recordOutcome } from "./stageOutcome.js"

export interface CommandStageContext {
  readonly files: RunFiles
  /** The local executor, or the cloud one (DECISIONS B-3). */
  readonly executor: ExecutorService
  readonly stage: CommandStage
  /** 1-based, as in the manifest and the log file name. */
  readonly index: number
  readonly cwd: string
  readonly env: Readonly<Record<string, string>>
  /** D-14: decides (and records) whether a stage with `approvalRequired` may run. */
  readonly approve: (stage: CommandStage) => Effect.Effect<ApprovalDecision, FileAccessError>
  readonly privacyMode: PrivacyMode
  /** Records the stage's process group, so that a takeover after a crash can stop it. */
  readonly recordProcess: (pid: number) => Effect.Effect<void, FileAccessError>
  /** Runs once the entry is recorded `running` (EVT-2: the stage:started event follows that write). */
  readonly onStarted: Effect.Effect<void>
  /** EVT-2 tool:call: an attempt started, will be retried, or the stage's process work ended. */
  readonly onToolCall: (status: ToolCallStatus, attempt: number, message: string) => Effect.Effect<void>
  /** EVT-2 log: the output as it is written to the stage log (after the privacy guard). */
  readonly onOutput?: ((stream: "stdout" | "stderr", bytes: Uint8Array) => Effect.Effect<void>) | undefined
  /** TFG-3: the first stdout lines of the stage's last attempt, when the run is a TF-GRPO run. */
  readonly onStdoutHead?: ((lines: ReadonlyArray<string>) => Effect.Effect<void>) | undefined
}

export type ToolCallStatus = "started" | "retry" | "succeeded" | "failed"

/** Whether the run goes on after this stage. */
export type StageVerdict = "continue" | "stop"

const iso = (ms: number) => new Date(ms).toISOString()

/** D-7: `resuming` lasts until the first re-run stage starts. */
export const clearResuming = (m: CliManifest): Pick<CliManifest, "status_detail"> => ({
  status_detail: m.status_detail === "resuming" ? null : m.status_detail
})

const concatBytes = (parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  if (parts.length === 1 && parts[0] !== undefined) return parts[0]
  const joined = new Uint8Array(parts.reduce((total, part) => total + part.length, 0))
  let offset = 0
  for (const part of parts) {
    joined.set(part, offset)
    offset += part.length
  }
  return joined
}

class StageTimedOut {
  readonly _tag = "StageTimedOut"
}

export const runCommandStage = (ctx: CommandStageContext): Effect.Effect<StageVerdict, FileAccessError> =>
  Effect.gen(function*() {
    const { files, index, stage } = ctx
    const { layout } = files
    const manifest = yield* files.manifest
    const logPath = layout.stageLog(index, stage.id)
    const position = index - 1
    const guard = makeStageGuard(ctx.privacyMode, stage.id)
    const patchEntry = (patch: Partial<CommandEntry>) => (m: CliManifest): CliManifest => ({
      ...m,
      commands: m.commands.map((entry, i) => (i === position ? { ...entry, ...patch } : entry))
    })

    let approvalSource: string = "not-required"
    if (stage.approvalRequired === true) {
      const decision = yield* ctx.approve(stage)
      approvalSource = decision.source
      if (!decision.granted) {
        const at = yield* Clock.currentTimeMillis
        return yield* recordOutcome(ctx, { _tag: "NotApproved", decision }, {
          patchEntry,
          stdout: "",
          stderr: "",
          stdoutTruncated: false,
          stderrTruncated: false,
          startedMs: at,
          attempts: 0
        })
      }
    }

    const startedMs = yield* Clock.currentTimeMillis
    yield* files.update(
      (m) => ({
        ...patchEntry({
          status: "running",
          started_at: iso(startedMs),
          completed_at: null,
          exit_code: null,
          summary: null,
          log_path: layout.relative(logPath),
          ...(stage.retry === undefined ? {} : { attempts: 1 })
        })(m),
        ...clearResuming(m)
      }),
      { force: true }
    )
    yield* ctx.onStarted
    yield* Effect.logInfo(`[${index}/${manifest.commands.length}] ${stage.id}: ${guard.shown(stage.command)}`)

    const correlationId = yield* randomUuid
    // EXE-3: a stage's own session id, persisted when it asks to be (persist or reuse); else ephemeral.
    const sessionId = stage.session?.id ?? (yield* randomUuid)
    const persisted = stage.session?.id !== undefined && (stage.session.persist === true || stage.session.reuse === true)
    const handleId = yield* randomUuid
    const createdAt = iso(yield* Clock.currentTimeMillis)
    let frames = 0
    const policy = stage.retry
    // The tails of the latest attempt: its output is what the summary and the error file describe.
    let stdoutTail = makeOutputTail()
    let stderrTail = makeOutputTail()
    // TFG-2: a TF-GRPO run counts the words of stdout as it streams (of the latest attempt, like the tails).
    const observing = manifest.tfgrpo !== undefined && manifest.tfgrpo !== null
    let stdoutObserver: StdoutObserver | undefined
    let attempts = 0

    const finish: Finish = yield* Effect.scoped(Effect.gen(function*() {
      const stageLog = yield* files.openStageLog(logPath)
      const both = (...events: ReadonlyArray<RunLogEvent>) => {
        frames += events.filter((event) => event.type.startsWith("exec:")).length
        return Effect.all([files.appendRunnerLog(...events), stageLog.append(...events)], { concurrency: 2, discard: true })
      }
      const stamp = Effect.map(Clock.currentTimeMillis, iso)
      yield* both({ type: "command:start", command: stage.command, timestamp: yield* stamp, index })

      // exec:chunk sequences continue across attempts (EXE-4).
      let sequence = 0
      const writeChunk = (
        attempt: number,
        stream: "stdout" | "stderr",
        bytes: Uint8Array,
        check: { readonly text: string; readonly from: number }
      ) => {
        sequence += 1
        frames += 1
        const current = sequence
        return Effect.flatMap(stamp, (timestamp) => {
          guard.inspect(check, current, timestamp)
          return stageLog.appendChunk({ correlationId, attempt, stream, sequence: current, timestamp, index }, bytes)
        })
      }
      const attemptOnce = (attempt: number) =>
        Effect.gen(function*() {
          attempts = attempt
          stdoutTail = makeOutputTail()
          stderrTail = makeOutputTail()
          stdoutObserver = observing ? makeStdoutObserver() : undefined
          if (policy !== undefined && attempt > 1) yield* files.update(patchEntry({ attempts: attempt }), { force: true })
          const attemptStartMs = yield* Clock.currentTimeMillis
          yield* both({
            type: "exec:begin",
            correlation_id: correlationId,
            attempt,
            command: stage.command,
            args: [],
            cwd: ctx.cwd,
            session_id: sessionId,
            sandbox_state: "sandboxed",
            persisted,
            timestamp: iso(attemptStartMs),
            index
          })
          yield* ctx.onToolCall("started", attempt, guard.shown(stage.command))

          // The pid is recorded while the stage runs rather than before its output is handled: a short
          // stage should not wait for that write. It is joined before the attempt ends.
          let recording: Fiber.RuntimeFiber<void, FileAccessError> | undefined
          // Each handler call holds what a pipe had buffered when it was read (more while a write was in
          // progress): one log line for it instead of one per read, so many small lines do not each
          // cost an envelope (D-11).
          const onOutput = (stream: "stdout" | "stderr", chunks: Chunk.Chunk<Uint8Array>) => {
            const tail = stream === "stdout" ? stdoutTail : stderrTail
            const observer = stream === "stdout" ? stdoutObserver : undefined
            for (const bytes of chunks) {
              tail.push(bytes)
              observer?.push(bytes)
            }
            const released = guard.release(stream, concatBytes(Chunk.toReadonlyArray(chunks)))
            if (released.write === undefined) return Effect.void
            const written = writeChunk(attempt, stream, released.write, released.check)
            return ctx.onOutput === undefined ? written : Effect.zipRight(written, ctx.onOutput(stream, released.write))
          }
          const consume = ctx.executor.run(
            {
              idempotencyKey: attemptKey(manifest.run_id, stage.id, manifest.resume_events.length, attempt),
              runId: manifest.run_id,
              stageId: stage.id,
              attempt,
              command: stage.command,
              cwd: ctx.cwd,
              env: ctx.env
            },
            (event): Effect.Effect<void, FileAccessError> => {
              switch (event._tag) {
                case "Started":
                  return event.pid === undefined ? Effect.void : Effect.map(Effect.forkDaemon(ctx.recordProcess(event.pid)), (fiber) => {
                    recording = fiber
                  })
                case "Output":
                  return onOutput(event.stream, event.chunks)
                case "Heartbeat":
                case "Exited":
                  // The run's own heartbeat is the engine's; the exit is what `run` returns.
                  return Effect.void
              }
            }
          )

          const bounded = stage.timeoutMs === undefined
            ? Effect.either(consume)
            : Effect.either(consume).pipe(
              Effect.timeoutFail({ duration: Duration.millis(stage.timeoutMs), onTimeout: () => new StageTimedOut() }),
              Effect.either,
              Effect.map(Either.match({ onLeft: () => "timeout" as const, onRight: (inner) => inner }))
            )
          const result = yield* bounded
          if (recording !== undefined) yield* Fiber.join(recording)
          // Enforce mode held back an unfinished last line; it goes to the log and to `log` events now.
          for (const [stream, rest] of guard.flush()) {
            const bytes = new TextEncoder().encode(rest)
            yield* writeChunk(attempt, stream, bytes, { text: rest, from: 0 })
            if (ctx.onOutput !== undefined) yield* ctx.onOutput(stream, bytes)
          }
          const outcome: Finish = result === "timeout"
            ? { _tag: "TimedOut", timeoutMs: stage.timeoutMs ?? 0 }
            : Either.isLeft(result)
            ? result.left._tag === "ProcessSpawnError"
              ? { _tag: "SpawnFailed", error: result.left }
              : yield* Effect.fail(result.left)
            : { _tag: "Exited", ...result.right }

          const endMs = yield* Clock.currentTimeMillis
          const exitCode = outcome._tag === "Exited" ? recordedExitCode(outcome.exitCode, outcome.signal) : null
          const signal = outcome._tag === "Exited" ? outcome.signal : outcome._tag === "TimedOut" ? "SIGTERM" : null
          yield* both(
            ...(outcome._tag === "SpawnFailed"
              ? [{ type: "command:error" as const, message: outcome.error.message, timestamp: iso(endMs), index }]
              : []),
            {
              type: "exec:end",
              correlation_id: correlationId,
              attempt,
              exit_code: exitCode,
              signal,
              duration_ms: endMs - attemptStartMs,
              status: exitCode === 0 ? "succeeded" : "failed",
              timestamp: iso(endMs),
              index
            }
          )
          return outcome
        })

      // B-1: a retryable failure with attempts left is announced (exec:retry), then the Schedule built
      // from the same policy waits before the next attempt.
      const attemptWithRetries = (() => {
        if (policy === undefined) return attemptOnce(1)
        let next = 0
        return Effect.suspend(() => attemptOnce(++next)).pipe(
          Effect.flatMap((outcome) => {
            const exit = outcome._tag === "Exited"
              ? { _tag: "Exited" as const, exitCode: recordedExitCode(outcome.exitCode, outcome.signal) }
              : outcome
            if (!isRetryableOutcome(policy, exit) || next >= policy.attempts) return Effect.succeed(outcome)
            const reason = outcome._tag === "TimedOut"
              ? `timed out after ${outcome.timeoutMs} ms`
              : `exited with code ${exit._tag === "Exited" ? exit.exitCode : "?"}`
            return Effect.flatMap(stamp, (timestamp) =>
              both({
                type: "exec:retry",
                correlation_id: correlationId,
                attempt: next,
                delay_ms: retryDelayMs(policy, next),
                sandbox_state: "sandboxed",
                error: reason,
                timestamp,
                index
              })).pipe(
                Effect.zipRight(ctx.onToolCall("retry", next, reason)),
                Effect.zipRight(Effect.logWarning(
                  `[${index}/${manifest.commands.length}] ${stage.id} ${reason}; attempt ${next + 1} of ${policy.attempts} in ${
                    retryDelayMs(policy, next)
                  } ms`
                )),
                Effect.zipRight(Effect.fail(new RetryableAttempt({ outcome })))
              )
          }),
          Effect.retry({ schedule: retrySchedule(policy), while: (error) => error instanceof RetryableAttempt }),
          Effect.catchIf((error) => error instanceof RetryableAttempt, (error) => Effect.succeed(error.outcome))
        )
      })()

      const outcome = yield* attemptWithRetries
      const endMs = yield* Clock.currentTimeMillis
      const exitCode = outcome._tag === "Exited" ? recordedExitCode(outcome.exitCode, outcome.signal) : null
      const signal = outcome._tag === "Exited" ? outcome.signal : outcome._tag === "TimedOut" ? "SIGTERM" : null
      yield* both({ type: "command:end", exit_code: exitCode, signal, duration_ms: endMs - startedMs, timestamp: iso(endMs), index })
      yield* ctx.onToolCall(
        exitCode === 0 ? "succeeded" : "failed",
        attempts,
        outcome._tag === "TimedOut"
          ? `timed out after ${outcome.timeoutMs} ms`
          : outcome._tag === "SpawnFailed"
          ? outcome.error.message
          : `exited with code ${exitCode ?? "?"}${signal === null ? "" : ` (${signal})`}`
      )
      return outcome
    }))

    // EXE-6 and RET-2: the stage's handle (its exec events as frames) and its tool-run record.
    const finishedAt = iso(yield* Clock.currentTimeMillis)
    const finalExit = finish._tag === "Exited" ? recordedExitCode(finish.exitCode, finish.signal) : null
    const handle: HandleRecord = {
      handle_id: handleId,
      correlation_id: correlationId,
      stage_id: stage.id,
      pipeline_id: manifest.pipeline_id,
      status: "closed",
      frame_count: frames,
      latest_sequence: frames,
      created_at: createdAt,
      metadata: { run_id: manifest.run_id }
    }
    const toolRun: ToolRun = {
      id: `cli-command:${manifest.run_id}:${stage.id}:${startedMs}`,
      tool: "cli:command",
      description: stage.title,
      approvalSource,
      retryCount: Math.max(0, attempts - 1),
      attemptCount: attempts,
      sandboxState: finalExit === 0 ? "sandboxed" : "failed",
      status: finalExit === 0 ? "succeeded" : "failed",
      startedAt: iso(startedMs),
      completedAt: finishedAt,
      metadata: {
        stageId: stage.id,
        pipelineId: manifest.pipeline_id,
        runId: manifest.run_id,
        commandIndex: index,
        exec: {
          command: stage.command,
          args: [],
          cwd: ctx.cwd,
          sessionId,
          persisted,
          correlationId,
          handleId,
          exitCode: finalExit,
          signal: finish._tag === "Exited" ? finish.signal : finish._tag === "TimedOut" ? "SIGTERM" : null
        }
      }
    }

    // TFG-2: the stage as a tool call of the TF-GRPO run.
    const toolMetric: ToolMetric | undefined = stdoutObserver === undefined ? undefined : {
      tool: stage.id,
      tokens: stdoutObserver.tokens(),
      costUsd: costUsdOf(stdoutObserver.tokens()),
      latencyMs: Math.max(0, Date.parse(finishedAt) - startedMs),
      attempts,
      status: toolRun.status,
      sandboxState: toolRun.sandboxState
    }
    if (stdoutObserver !== undefined && ctx.onStdoutHead !== undefined) yield* ctx.onStdoutHead(stdoutObserver.head())

    return yield* recordOutcome(ctx, finish, {
      records: { handle, toolRun },
      ...(toolMetric === undefined ? {} : { toolMetric }),
      patchEntry,
      stdout: stdoutTail.text(),
      stderr: stderrTail.text(),
      stdoutTruncated: stdoutTail.totalBytes() > 64 * 1024,
      stderrTruncated: stderrTail.totalBytes() > 64 * 1024,
      startedMs,
      attempts,
      privacy: (m) => guard.mergeInto(m.privacy, layout.relative(layout.privacyLog)),
      privacyDecisions: guard.decisions()
    })
  })

/** An attempt that failed in a way worth retrying; carries it so the last one can be recorded. */
class RetryableAttempt {
  readonly _tag = "RetryableAttempt"
  constructor(readonly props: { readonly outcome: Finish }) {}
  get outcome() {
    return this.props.outcome
  }
}

/**
 * The executor's idempotency key of one attempt. A resume starts attempts at 1 again, so the number of
 * resumes so far is part of the key: a remote executor must run a resumed attempt, not answer it from
 * the attempt of the same number before the crash.
 */
export const attemptKey = (runId: string, stageId: string, resumes: number, attempt: number) =>
  resumes === 0
    ? `cli-command:${runId}:${stageId}:attempt-${attempt}`
    : `cli-command:${runId}:${stageId}:resume-${resumes}:attempt-${attempt}`
