import { type Chunk, Context, type Effect, Schema } from "effect"
import { shortened } from "../domain/OneLine.js"

export interface ProcessSpec {
  /** Run through `/bin/sh -c` (CFG-3), with stdin closed. */
  readonly command: string
  readonly cwd: string
  /** Added to the parent environment; these win (ENV-5). */
  readonly env: Readonly<Record<string, string>>
}

/** How a process ended: its exit code, or the signal that killed it. */
export interface ProcessExit {
  readonly exitCode: number | null
  readonly signal: string | null
}

/**
 * What the caller does while the process runs. The runner calls one handler at a time: `onStart`
 * first, then `onOutput` as output arrives, each call holding what one pipe had buffered (one or
 * more reads). The pipes are read from the moment the process starts, whatever the handlers do.
 */
export interface ProcessHandlers<E> {
  /** The process's pid, which is also its process group. */
  readonly onStart: (pid: number) => Effect.Effect<void, E>
  readonly onOutput: (stream: "stdout" | "stderr", chunks: Chunk.Chunk<Uint8Array>) => Effect.Effect<void, E>
}

/**
 * The process could not be started at all (bad cwd, no shell): RUN-5, not a failed stage exit. With
 * `started`, it did start but its end cannot be known (a remote attempt whose results stopped
 * coming): no exit code either, so it is recorded the same way.
 */
export class ProcessSpawnError extends Schema.TaggedError<ProcessSpawnError>()("ProcessSpawnError", {
  command: Schema.String,
  cwd: Schema.String,
  reason: Schema.String,
  cause: Schema.Defect,
  started: Schema.optional(Schema.Boolean)
}) {
  override get message() {
    // A long command's head only (a 3 MB command was echoed whole into each error line); the manifest keeps it.
    return this.started === true
      ? `"${shortened(this.command)}" in ${this.cwd} ended without a result: ${this.reason}`
      : `Could not start "${shortened(this.command)}" in ${this.cwd}: ${this.reason}`
  }
}

/**
 * Runs one command as a process. A handler that takes its time holds back the reading of the pipes
 * (backpressure), so writing each chunk before returning keeps memory flat. Interrupting `run`
 * (timeout, Ctrl-C) kills the whole process group.
 */
export class ProcessRunner extends Context.Tag("orchestrator/ProcessRunner")<
  ProcessRunner,
  {
    readonly run: <E>(spec: ProcessSpec, handlers: ProcessHandlers<E>) => Effect.Effect<ProcessExit, ProcessSpawnError | E>
  }
>() {}
