import { type Chunk, Context, type Effect, type Stream } from "effect"
import type { ProcessExit, ProcessSpawnError } from "./ProcessRunner.js"

/** One attempt of one stage, as an executor sees it. */
export interface ExecutionRequest {
  /**
   * Unique per run, stage, resume and attempt: a remote executor that receives the same key twice (a
   * retried request after a lost answer) runs the attempt once. `cli-command:<run>:<stage>:attempt-<n>`,
   * with `:resume-<k>` before the attempt after the k-th resume.
   */
  readonly idempotencyKey: string
  readonly runId: string
  readonly stageId: string
  readonly attempt: number
  /** Run through `sh -c` (CFG-3), with stdin closed. */
  readonly command: string
  readonly cwd: string
  readonly env: Readonly<Record<string, string>>
  /** The labels a runner must have (the stage's `runsOn`); a local executor ignores them. */
  readonly runsOn?: ReadonlyArray<string> | undefined
}

/** Where a remote executor ran an attempt: the runner's address and its host. */
export interface RemoteRunner {
  readonly runner: string
  readonly host: string
}

/** What an executor reports while a stage runs; `Exited` is always the last event. */
export type ExecutionEvent =
  /** `remote`: the runner that started it (a redelivered attempt starts again, on another runner). */
  | { readonly _tag: "Started"; readonly pid: number | undefined; readonly remote?: RemoteRunner | undefined }
  | { readonly _tag: "Output"; readonly stream: "stdout" | "stderr"; readonly chunks: Chunk.Chunk<Uint8Array> }
  | { readonly _tag: "Heartbeat"; readonly at: number }
  /**
   * `remote`: the runner whose result was stored for the attempt's idempotency key; `keptWorktree`:
   * the worktree that runner kept after the attempt failed (`runner --keep-failed`), a path on its host.
   */
  | {
    readonly _tag: "Exited"
    readonly exit: ProcessExit
    readonly remote?: RemoteRunner | undefined
    readonly keptWorktree?: string | undefined
  }

/** An executor (the `Executor` and `CloudExecutor` tags share this shape): runs one attempt of a stage and reports its events. */
export interface ExecutorService {
  /** Names the executor in logs and manifests: `local`, or a remote executor's name. */
  readonly name: string
  /**
   * Runs the attempt and streams its events. The stream is pulled: an executor does not read further
   * output until the consumer has taken what it sent (flat memory). Interrupting the consumer
   * cancels the attempt (the local executor kills the process group).
   */
  readonly execute: (request: ExecutionRequest) => Stream.Stream<ExecutionEvent, ProcessSpawnError>
  /**
   * The same attempt with the events handed to `onEvent`, one call at a time, in order; returns how
   * it ended. Equivalent to running `execute` through `onEvent`; an executor may implement it more
   * cheaply (the local one does: no stream machinery on the output path).
   */
  readonly run: <E>(
    request: ExecutionRequest,
    onEvent: (event: ExecutionEvent) => Effect.Effect<void, E>
  ) => Effect.Effect<ProcessExit, ProcessSpawnError | E>
}

/** The `mcp` executor: runs stages on this machine (SPEC MODE-1; the local executor is the default). */
export class Executor extends Context.Tag("orchestrator/Executor")<Executor, ExecutorService>() {}

/**
 * The `cloud` executor (DECISIONS B-3), optional: when no layer provides it, `cloud` runs use the
 * local executor and record `cloud_fallback_reason`.
 */
export class CloudExecutor extends Context.Tag("orchestrator/CloudExecutor")<CloudExecutor, ExecutorService>() {}
