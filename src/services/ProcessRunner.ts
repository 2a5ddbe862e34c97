import { Context, Schema, type Stream } from "effect"

export interface ProcessSpec {
  /** Run through `sh -c` (CFG-3), with stdin closed. */
  readonly command: string
  readonly cwd: string
  /** Added to the parent environment; these win (ENV-5). */
  readonly env: Readonly<Record<string, string>>
}

/** What a running process reports: output chunks as they arrive, then exactly one Exit. */
export type ProcessEvent =
  | { readonly _tag: "Output"; readonly stream: "stdout" | "stderr"; readonly bytes: Uint8Array }
  | { readonly _tag: "Exit"; readonly exitCode: number | null; readonly signal: string | null }

/** The process could not be started at all (bad cwd, no shell): RUN-5, not a failed stage exit. */
export class ProcessSpawnError extends Schema.TaggedError<ProcessSpawnError>()("ProcessSpawnError", {
  command: Schema.String,
  cwd: Schema.String,
  reason: Schema.String,
  cause: Schema.Defect
}) {
  override get message() {
    return `Could not start "${this.command}" in ${this.cwd}: ${this.reason}`
  }
}

/**
 * Runs one command as a process and streams its events. Pulling applies backpressure to the pipes,
 * so a consumer that writes each chunk before pulling the next keeps memory flat. Closing the
 * stream's scope early (timeout, interruption) kills the whole process group.
 */
export class ProcessRunner extends Context.Tag("orchestrator/ProcessRunner")<
  ProcessRunner,
  {
    readonly run: (spec: ProcessSpec) => Stream.Stream<ProcessEvent, ProcessSpawnError>
  }
>() {}
