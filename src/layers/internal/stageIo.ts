/**
 * Where an attempt's events and output go (stageAttempts.ts): the stage's ndjson log and the run's
 * runner log, written together, with exec:chunk sequences that continue across attempts (EXE-4).
 */
import { Clock, Effect } from "effect"
import type { RunLogEvent } from "../../domain/RunLog.js"
import { iso } from "../../domain/Time.js"
import type { StageLogWriter } from "../../services/RunStore.js"
import type { AttemptContext, AttemptState } from "./stageAttemptContext.js"

/** What the privacy guard inspects of a chunk: the text released, from where it is new. */
export type GuardCheck = { readonly text: string; readonly from: number }

/** The stage log and the runner log, written together; exec:chunk sequences continue across attempts (EXE-4). */
export const makeStageIo = (ctx: AttemptContext, stageLog: StageLogWriter, state: AttemptState) => {
  let sequence = 0
  // One decoder a stream, so a character split across chunks arrives whole in command:stdout|stderr.
  const streamDecoders = { stdout: new TextDecoder(), stderr: new TextDecoder() }
  // Events recorded but not yet written: they go out with the next write (`command:start` with the
  // first `exec:begin`, an `exec:end` with what follows it), so a stage costs two appends to each
  // log instead of four. The lines and their order are the same.
  let held: ReadonlyArray<RunLogEvent> = []
  const countFrames = (events: ReadonlyArray<RunLogEvent>) => {
    state.frames += events.filter((event) => event.type.startsWith("exec:")).length
  }
  const hold = (...events: ReadonlyArray<RunLogEvent>) =>
    Effect.sync(() => {
      countFrames(events)
      held = [...held, ...events]
    })
  const both = (...events: ReadonlyArray<RunLogEvent>) =>
    Effect.suspend(() => {
      countFrames(events)
      const all = [...held, ...events]
      held = []
      return all.length === 0
        ? Effect.void
        : Effect.all([ctx.files.appendRunnerLog(...all), stageLog.append(...all)], { concurrency: 2, discard: true })
    })
  /** Writes what is held (an attempt interrupted after its `exec:end` still records it). */
  const flush = both()
  const writeChunk = (attempt: number, stream: "stdout" | "stderr", bytes: Uint8Array, check: GuardCheck, final = false) => {
    sequence += 1
    state.frames += 1
    const current = sequence
    return Effect.flatMap(Clock.currentTimeMillis, (ms) => {
      const timestamp = iso(ms)
      ctx.guard.inspect(check, current, timestamp)
      const meta = { correlationId: ctx.ids.correlationId, attempt, stream, sequence: current, timestamp, index: ctx.index }
      const chunk = stageLog.appendChunk(meta, bytes, final).pipe(Effect.zipLeft(ctx.redactions.seen(ms)))
      if (!ctx.emitCommandStreams) return chunk
      const data = streamDecoders[stream].decode(bytes, { stream: true })
      return Effect.zipRight(chunk, stageLog.append({ type: `command:${stream}`, data, timestamp, index: ctx.index }))
    })
  }
  /** Written and published: what the guard released. */
  const emit = (attempt: number, stream: "stdout" | "stderr", bytes: Uint8Array, check: GuardCheck) =>
    Effect.zipRight(writeChunk(attempt, stream, bytes, check), ctx.output(stream, bytes))
  // A stream's output that ended inside a character: its bytes go to the log as escapes (LOG-1).
  const endStream = (attempt: number, stream: "stdout" | "stderr") =>
    writeChunk(attempt, stream, new Uint8Array(0), { text: "", from: 0 }, true)
  return { both, carrying: stageLog.carrying, emit, endStream, flush, hold }
}

export type StageIo = ReturnType<typeof makeStageIo>
