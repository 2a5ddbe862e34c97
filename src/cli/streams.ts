/**
 * Writing to stdout and stderr from the CLI's edge: each call hands Node one whole piece of text
 * (so a JSON line is never torn by another writer) and waits while the pipe is full, so a reader
 * that is slow (a pager, a supervising agent) slows only the writer, never the run.
 */
import { Effect } from "effect"

/** The streams whose reader went away (`| head`, a closed pipe): EPIPE, or any other write error. */
const closed = new WeakSet<NodeJS.WriteStream>()
/** Per stream, the writes waiting for `drain`, which a closed stream never emits. */
const waiting = new WeakMap<NodeJS.WriteStream, Set<() => void>>()

/**
 * A reader that stops reading (`exec --jsonl | head -3`) must not kill a run half-way: Node reports
 * the closed pipe as an `error` event, which crashes the process when nobody listens, leaving the
 * run `in_progress` and its stage running. From the first error on, what is left to print on that
 * stream is dropped and the run goes on to its end, recorded as usual (exit code unchanged). Called
 * once by the CLI's edge.
 */
export const dropOutputWhenClosed = (...streams: ReadonlyArray<NodeJS.WriteStream>): void => {
  for (const stream of streams) {
    stream.on("error", () => {
      closed.add(stream)
      const blocked = waiting.get(stream)
      waiting.delete(stream)
      blocked?.forEach((resume) => resume())
    })
  }
}

const writeTo = (stream: NodeJS.WriteStream) => (text: string | Uint8Array) =>
  Effect.async<void>((resume) => {
    if (closed.has(stream) || stream.destroyed || stream.write(text)) return resume(Effect.void)
    const blocked = waiting.get(stream) ?? new Set<() => void>()
    waiting.set(stream, blocked)
    const done = () => {
      blocked.delete(done)
      stream.off("drain", done)
      resume(Effect.void)
    }
    blocked.add(done)
    stream.once("drain", done)
  })

export const writeStdout = writeTo(process.stdout)

/** Bytes as a child process printed them (`review`'s codex), on stdout or stderr, dropped once the reader has gone. */
export const writeBytes = (target: "stdout" | "stderr", bytes: Uint8Array) => writeTo(target === "stdout" ? process.stdout : process.stderr)(bytes)

/** Whether the last text followed output (`--follow`) wrote on stderr left a line open (no newline at its end). */
let stderrLineOpen = false

export const writeStderr = (text: string) =>
  Effect.zipRight(Effect.sync(() => void (text.length > 0 && (stderrLineOpen = !text.endsWith("\n")))), writeTo(process.stderr)(text))

/**
 * A line of our own for stderr (a progress line, an error): after followed output whose last line was
 * left open, it starts on a line of its own instead of running on from the stage's text.
 */
export const stderrLine = (line: string): string => {
  const text = `${stderrLineOpen ? "\n" : ""}${line}\n`
  stderrLineOpen = false
  return text
}

/** Whether stdout's reader went away (a closed pipe: `status --watch | head -1`), as the last write found. */
export const stdoutClosed: Effect.Effect<boolean> = Effect.sync(() => closed.has(process.stdout) || process.stdout.destroyed)

/** Whether stdout is a terminal (a person reads it) rather than a pipe or a file (a program does). */
export const stdoutIsTerminal = (): boolean => process.stdout.isTTY === true
