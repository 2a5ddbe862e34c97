/**
 * What the attempts of one command stage run with and leave behind (stageAttempts.ts): the
 * context, the state its attempts share (the latest attempt's output tails and stdout observer, the
 * counts), and how that state starts over.
 */
import type { Effect } from "effect"
import type { ToolCallStatus } from "../../domain/Events.js"
import type { FileAccessError } from "../../domain/FileErrors.js"
import type { CommandStage } from "../../domain/Pipeline.js"
import { makeStdoutObserver, type StdoutObserver } from "../../domain/Tfgrpo.js"
import type { ExecutionEvent, ExecutorService } from "../../services/Executor.js"
import type { StageGroups } from "../../services/RunBootstrap.js"
import type { RunFiles } from "../../services/RunStore.js"
import { makeOutputTail, type OutputTail, tailLimitBytes } from "./outputTail.js"
import type { makeStageGuard } from "./privacyGuard.js"
import type { RedactionEvents } from "./runEvents.js"

/** What the attempts of one stage run with. */
export interface AttemptContext {
  readonly files: RunFiles
  readonly executor: ExecutorService
  readonly stage: CommandStage
  /** 1-based, as in the manifest and the log file name. */
  readonly index: number
  /** How many stages the run has, for progress lines. */
  readonly of: number
  readonly logPath: string
  readonly cwd: string
  readonly env: Readonly<Record<string, string>>
  readonly guard: ReturnType<typeof makeStageGuard>
  /** The executor's idempotency key of an attempt. */
  readonly keyOf: (attempt: number) => string
  readonly ids: { readonly correlationId: string; readonly sessionId: string; readonly persisted: boolean }
  /** TFG-2: count stdout words as they stream. */
  readonly observing: boolean
  /** LOG-1: each chunk's text again as a `command:stdout|stderr` line. */
  readonly emitCommandStreams: boolean
  readonly stageGroups: StageGroups
  /** `delayMs`: a retry's wait before the next attempt. */
  readonly toolCall: (status: ToolCallStatus, attempt: number, message: string, delayMs?: number) => Effect.Effect<void>
  /** Sees each attempt's Started and Exited events (a remote executor's runner is recorded from them). */
  readonly observe: (attempt: number, event: ExecutionEvent) => Effect.Effect<void, FileAccessError>
  /** EVT-2 log events: the output as it is written to the stage log. */
  readonly output: (stream: "stdout" | "stderr", bytes: Uint8Array) => Effect.Effect<void>
  /** `privacy:redacted` events, from the guard's counts. */
  readonly redactions: RedactionEvents
}

/** What the attempts leave behind: the latest attempt's tails and observer, the counts. */
export interface AttemptState {
  attempts: number
  frames: number
  stdoutTail: OutputTail
  stderrTail: OutputTail
  stdoutObserver: StdoutObserver | undefined
}

export const initialAttemptState = (): AttemptState => ({
  attempts: 0,
  frames: 0,
  stdoutTail: makeOutputTail(),
  stderrTail: makeOutputTail(),
  stdoutObserver: undefined
})

export const truncated = (tail: OutputTail) => tail.totalBytes() > tailLimitBytes

/**
 * New tails and observer: as an attempt begins, and when a remote attempt is delivered again (its
 * runner lost), so the summary is the output of the delivery that ended it; the log keeps them all.
 */
export const freshTails = (ctx: AttemptContext, state: AttemptState) =>
  Object.assign(state, {
    stdoutTail: makeOutputTail(),
    stderrTail: makeOutputTail(),
    stdoutObserver: ctx.observing ? makeStdoutObserver() : undefined
  })
