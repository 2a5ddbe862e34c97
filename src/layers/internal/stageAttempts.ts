/**
 * The process work of one command stage (SPEC RUN-4, LOG-1, LOG-2, EXE-3, EXE-4, DECISIONS B-1, D-11):
 * every attempt's output streamed into the stage's ndjson log as it arrives (after the privacy
 * guard), bounded tails kept in memory, retries on the stage's Schedule, and how the last attempt
 * ended. Recording the outcome in the manifest is stageOutcome.ts's; the context and state the
 * attempts share, stageAttemptContext.ts's; writing the logs, stageIo.ts's; a long attempt's
 * progress line, stageProgress.ts's.
 */
import { Chunk, Clock, Duration, Effect, Either, Fiber } from "effect"
import { concatBytes } from "../../domain/Bytes.js"
import type { FileAccessError } from "../../domain/FileErrors.js"
import type { CliManifest } from "../../domain/Manifest.js"
import { isRetryableOutcome, retryDelayMs, retrySchedule } from "../../domain/Retry.js"
import { attemptStatus, commandEntryStatus, recordedExitCode } from "../../domain/StageSummary.js"
import { iso } from "../../domain/Time.js"
import type { ExecutionEvent } from "../../services/Executor.js"
import { ProcessSpawnError } from "../../services/ProcessRunner.js"
import { attemptSpan, traceParentEnv } from "./runSpans.js"
import { type AttemptContext, type AttemptState, freshTails } from "./stageAttemptContext.js"
import { makeStageIo, type StageIo } from "./stageIo.js"
import type { Finish } from "./stageOutcome.js"
import { stillRunning } from "./stageProgress.js"

export { type AttemptContext, type AttemptState, initialAttemptState, truncated } from "./stageAttemptContext.js"

/** The stage's `timeoutMs` passed before its attempt ended. */
class StageTimedOut {
  readonly _tag = "StageTimedOut"
}

/** An attempt that failed in a way worth retrying; carries it so the last one can be recorded. */
class RetryableAttempt {
  readonly _tag = "RetryableAttempt"
  constructor(readonly outcome: Finish) {}
}

/** Runs the attempt's process, handing its output to the log as it arrives; `timeout` when it overran. */
const consume = (ctx: AttemptContext, io: StageIo, state: AttemptState, attempt: number, startedMs: number) =>
  Effect.gen(function*() {
    // The pid is recorded while the stage runs rather than before its output is handled: a short
    // stage should not wait for that write. It is joined before the attempt ends, and the group left
    // out of the owner record's next write.
    let recording: Fiber.RuntimeFiber<void, FileAccessError> | undefined
    let group: number | undefined
    // Each handler call holds what a pipe had buffered when it was read: one log line for it instead
    // of one per read, so many small lines do not each cost an envelope (D-11).
    const onOutput = (stream: "stdout" | "stderr", chunks: Chunk.Chunk<Uint8Array>) => {
      // One buffer for the call: the tail, the observer and the guard each take it once, not read by read.
      const bytes = concatBytes(chunks)
      const tail = stream === "stdout" ? state.stdoutTail : state.stderrTail
      tail.push(bytes)
      if (stream === "stdout") state.stdoutObserver?.push(bytes)
      const released = ctx.guard.release(stream, bytes)
      return released.write === undefined ? Effect.void : io.emit(attempt, stream, released.write, released.check)
    }
    // A remote attempt delivered again (its runner lost): the summary starts over; the log keeps all.
    let deliveries = 0
    const onEvent = (event: ExecutionEvent): Effect.Effect<void, FileAccessError> => {
      switch (event._tag) {
        case "Started":
          if (event.remote !== undefined && ++deliveries > 1) freshTails(ctx, state)
          return Effect.zipRight(
            ctx.observe(attempt, event),
            event.pid === undefined ? Effect.void : Effect.map(Effect.forkDaemon(ctx.stageGroups.record(event.pid)), (fiber) => {
              recording = fiber
              group = event.pid
            })
          )
        case "Output":
          return onOutput(event.stream, event.chunks)
        case "Exited":
          return ctx.observe(attempt, event)
        case "Heartbeat":
          // The run's own heartbeat is the engine's.
          return Effect.void
      }
    }
    const running = Effect.either(ctx.executor.run({
      idempotencyKey: ctx.keyOf(attempt),
      runId: ctx.files.layout.runId,
      stageId: ctx.stage.id,
      attempt,
      command: ctx.stage.command,
      cwd: ctx.cwd,
      env: { ...ctx.env, ...(yield* traceParentEnv) },
      runsOn: ctx.stage.runsOn
    }, onEvent).pipe(
      // Its timeoutMs stops a stage even where the caller cannot be interrupted (an app's entity
      // handler), and the `still running` line beside it is stopped: it never ends by itself.
      Effect.interruptible,
      Effect.raceFirst(Effect.interruptible(stillRunning(`[${ctx.index}/${ctx.of}] ${ctx.stage.id}`, startedMs))),
      // Node throws some spawn failures (a cwd that is a file: ENOTDIR) instead of reporting them; the
      // stage could not start all the same, and is recorded failed with its error file, not left running.
      Effect.catchAllDefect((defect) =>
        Effect.fail(
          new ProcessSpawnError({
            command: ctx.stage.command,
            cwd: ctx.cwd,
            reason: defect instanceof Error ? defect.message : String(defect),
            cause: defect
          })
        )
      )
    ))
    const result = ctx.stage.timeoutMs === undefined ? yield* running : yield* running.pipe(
      Effect.timeoutFail({ duration: Duration.millis(ctx.stage.timeoutMs), onTimeout: () => new StageTimedOut() }),
      Effect.either,
      Effect.map(Either.match({ onLeft: () => "timeout" as const, onRight: (inner) => inner }))
    )
    if (recording !== undefined) yield* Fiber.join(recording)
    if (group !== undefined) yield* ctx.stageGroups.forget(group)
    return result
  })

/** One attempt: its begin event, the process, the held-back output, its end event. */
const attemptOnce = (ctx: AttemptContext, io: StageIo, state: AttemptState, attempt: number) =>
  Effect.gen(function*() {
    state.attempts = attempt
    freshTails(ctx, state)
    const attemptStartMs = yield* Clock.currentTimeMillis
    yield* io.both({
      type: "exec:begin",
      correlation_id: ctx.ids.correlationId,
      attempt,
      command: ctx.stage.command,
      args: [],
      cwd: ctx.cwd,
      session_id: ctx.ids.sessionId,
      sandbox_state: "sandboxed",
      persisted: ctx.ids.persisted,
      timestamp: iso(attemptStartMs),
      index: ctx.index
    })
    yield* ctx.toolCall("started", attempt, ctx.guard.shown(ctx.stage.command))
    const result = yield* consume(ctx, io, state, attempt, attemptStartMs)
    // Enforce mode held back an unfinished last line; it goes to the log and to `log` events now.
    for (const [stream, rest] of ctx.guard.flush()) {
      yield* io.emit(attempt, stream, new TextEncoder().encode(rest), { text: rest, from: 0 })
    }
    for (const stream of ["stdout", "stderr"] as const) if (io.carrying(stream)) yield* io.endStream(attempt, stream)
    const outcome: Finish = result === "timeout"
      ? { _tag: "TimedOut", timeoutMs: ctx.stage.timeoutMs ?? 0 }
      : Either.isLeft(result)
      ? result.left._tag === "ProcessSpawnError"
        ? { _tag: "SpawnFailed", error: result.left }
        : yield* Effect.fail(result.left)
      : { _tag: "Exited", ...result.right }
    const endMs = yield* Clock.currentTimeMillis
    const { exitCode, signal } = exitOf(outcome)
    yield* io.hold(
      ...(outcome._tag === "SpawnFailed"
        ? [{ type: "command:error" as const, message: outcome.error.message, timestamp: iso(endMs), index: ctx.index }]
        : []),
      {
        type: "exec:end",
        correlation_id: ctx.ids.correlationId,
        attempt,
        exit_code: exitCode,
        signal,
        duration_ms: endMs - attemptStartMs,
        status: attemptStatus(exitCode, ctx.stage.skipExitCode),
        timestamp: iso(endMs),
        index: ctx.index
      }
    )
    return outcome
  })

/** The exit code and signal a finish records (a timed-out process group got SIGTERM). */
export const exitOf = (finish: Finish) => ({
  exitCode: finish._tag === "Exited" ? recordedExitCode(finish.exitCode, finish.signal) : null,
  signal: finish._tag === "Exited" ? finish.signal : finish._tag === "TimedOut" ? "SIGTERM" : null
})

/**
 * B-1: a retryable failure with attempts left is announced (exec:retry), then the Schedule built
 * from the same policy waits before the next attempt.
 */
const withRetries = (ctx: AttemptContext, io: StageIo, once: (attempt: number) => Effect.Effect<Finish, FileAccessError>) => {
  const policy = ctx.stage.retry
  if (policy === undefined) return once(1)
  let next = 0
  const announce = (outcome: Finish, reason: string, delayMs = retryDelayMs(policy, next)) =>
    Effect.flatMap(Clock.currentTimeMillis, (ms) =>
      io.both({
        type: "exec:retry",
        correlation_id: ctx.ids.correlationId,
        attempt: next,
        delay_ms: delayMs,
        sandbox_state: "sandboxed",
        error: reason,
        timestamp: iso(ms),
        index: ctx.index
      })).pipe(
        Effect.zipRight(ctx.toolCall("retry", next, reason, delayMs)),
        Effect.zipRight(Effect.logWarning(
          `[${ctx.index}/${ctx.of}] ${ctx.stage.id} ${reason}; attempt ${next + 1} of ${policy.attempts} in ${delayMs} ms`
        )),
        Effect.zipRight(Effect.fail(new RetryableAttempt(outcome)))
      )
  return Effect.suspend(() => {
    next += 1
    return next > 1
      ? Effect.zipRight(ctx.files.update(entryAttempts(ctx.index - 1, next), { force: true }), once(next))
      : once(next)
  }).pipe(
    Effect.flatMap((outcome): Effect.Effect<Finish, FileAccessError | RetryableAttempt> => {
      if (outcome._tag === "NotApproved") return Effect.succeed(outcome)
      const exit = outcome._tag === "Exited" ? { _tag: "Exited" as const, exitCode: exitOf(outcome).exitCode ?? 0 } : outcome
      const notApplicable = exit._tag === "Exited" && exit.exitCode === ctx.stage.skipExitCode
      if (notApplicable || !isRetryableOutcome(policy, exit) || next >= policy.attempts) return Effect.succeed(outcome)
      const reason = outcome._tag === "TimedOut"
        ? `timed out after ${outcome.timeoutMs} ms`
        : `exited with code ${exit._tag === "Exited" ? exit.exitCode : "?"}`
      return announce(outcome, reason)
    }),
    Effect.retry({ schedule: retrySchedule(policy), while: (error) => error instanceof RetryableAttempt }),
    Effect.catchIf((error) => error instanceof RetryableAttempt, (error) => Effect.succeed(error.outcome))
  )
}

const entryAttempts = (position: number, attempts: number) => (m: CliManifest): CliManifest => ({
  ...m,
  commands: m.commands.map((entry, i) => (i === position ? { ...entry, attempts } : entry))
})

/** Every attempt of the stage, from `command:start` to `command:end`; returns how the last one ended. */
export const runAttempts = (ctx: AttemptContext, state: AttemptState, startedMs: number): Effect.Effect<Finish, FileAccessError> =>
  Effect.scoped(Effect.gen(function*() {
    const stageLog = yield* ctx.files.openStageLog(ctx.logPath)
    const io = makeStageIo(ctx, stageLog, state)
    yield* io.hold({ type: "command:start", command: ctx.stage.command, timestamp: iso(yield* Clock.currentTimeMillis), index: ctx.index })
    const outcome = yield* withRetries(ctx, io, (attempt) =>
      attemptOnce(ctx, io, state, attempt).pipe(attemptSpan(ctx.stage.id, attempt, (finish) => exitOf(finish).exitCode))).pipe(
        Effect.onInterrupt(() => Effect.ignore(io.flush))
      )
    const endMs = yield* Clock.currentTimeMillis
    const { exitCode, signal } = exitOf(outcome)
    yield* Effect.zipRight(
      ctx.redactions.settle,
      io.both({ type: "command:end", exit_code: exitCode, signal, duration_ms: endMs - startedMs, timestamp: iso(endMs), index: ctx.index })
    ).pipe(Effect.onInterrupt(() => Effect.ignore(io.flush)))
    yield* ctx.toolCall(
      commandEntryStatus(exitCode, ctx.stage),
      state.attempts,
      outcome._tag === "TimedOut"
        ? `timed out after ${outcome.timeoutMs} ms`
        : outcome._tag === "SpawnFailed"
        ? outcome.error.message
        : `exited with code ${exitCode ?? "?"}${signal === null ? "" : ` (${signal})`}`
    )
    return outcome
  }))
