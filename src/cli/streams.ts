/**
 * Writing to stdout and stderr from the CLI's edge: each call hands Node one whole piece of text
 * (so a JSON line is never torn by another writer) and waits while the pipe is full, so a reader
 * that is slow (a pager, a supervising agent) slows only the writer, never the run.
 */
import { Effect } from "effect"

const writeTo = (stream: NodeJS.WriteStream) => (text: string) =>
  Effect.async<void>((resume) => {
    if (stream.write(text)) resume(Effect.void)
    else stream.once("drain", () => resume(Effect.void))
  })

export const writeStdout = writeTo(process.stdout)
export const writeStderr = writeTo(process.stderr)

/** Whether stdout is a terminal (a person reads it) rather than a pipe or a file (a program does). */
export const stdoutIsTerminal = (): boolean => process.stdout.isTTY === true
