import { Context, type Effect, type Scope } from "effect"
import type { FileAccessError, InvalidFile } from "../domain/FileErrors.js"
import type { CliManifest, ErrorFile, PrivacyDecision, RunOwner } from "../domain/Manifest.js"
import type { RunNotFound } from "../domain/RunErrors.js"
import type { RunLayout } from "../domain/RunLayout.js"
import type { ChunkLine, RunLogEvent } from "../domain/RunLog.js"
import type { RunSummary } from "../domain/RunSummary.js"

/** Appends events to one stage's `commands/<NN>-<slug>.ndjson`; open for the stage's lifetime. */
export interface StageLogWriter {
  readonly append: (...events: ReadonlyArray<RunLogEvent>) => Effect.Effect<void, FileAccessError>
  /**
   * The output hot path: one `exec:chunk` line, encoded from the bytes without intermediate strings.
   * A character cut by a chunk's end waits for the next chunk of its stream; `final` marks a stream's
   * last chunk, after which nothing waits.
   */
  readonly appendChunk: (meta: ChunkLine, bytes: Uint8Array, final?: boolean) => Effect.Effect<void, FileAccessError>
  /** Whether a stream's last chunk ended inside a character (its bytes wait for a next chunk or a `final` one). */
  readonly carrying: (stream: "stdout" | "stderr") => boolean
}

/**
 * One run's files. It owns the manifest: every change goes through `update`, one at a time, so
 * heartbeats and stage writes never interleave. Manifest writes are atomic (DECISIONS D-6); writes
 * not marked `force` are coalesced to at most one per heartbeat interval (SPEC RUN-8).
 */
export interface RunFiles {
  readonly layout: RunLayout
  readonly manifest: Effect.Effect<CliManifest>
  readonly update: (
    change: (manifest: CliManifest) => CliManifest,
    options?: { readonly force?: boolean }
  ) => Effect.Effect<CliManifest, FileAccessError>
  /** Writes the manifest now if a coalesced change is still pending. */
  readonly flush: Effect.Effect<void, FileAccessError>
  readonly writeHeartbeatFile: (timestamp: string) => Effect.Effect<void, FileAccessError>
  /** Appends privacy-guard findings to `privacy-decisions.ndjson` (PRIV-4). */
  readonly appendPrivacyDecisions: (decisions: ReadonlyArray<PrivacyDecision>) => Effect.Effect<void, FileAccessError>
  /** Records this process as the run's writer (D-7). */
  readonly writeOwner: (owner: RunOwner) => Effect.Effect<void, FileAccessError>
  /** Appends events to `runner.ndjson` in one write. */
  readonly appendRunnerLog: (...events: ReadonlyArray<RunLogEvent>) => Effect.Effect<void, FileAccessError>
  readonly openStageLog: (path: string) => Effect.Effect<StageLogWriter, FileAccessError, Scope.Scope>
  readonly writeErrorFile: (path: string, content: ErrorFile) => Effect.Effect<void, FileAccessError>
  readonly writeRunSummary: (summary: RunSummary) => Effect.Effect<void, FileAccessError>
  /** Keeps the prompt the run was started with in `prompt.md` (privacy rules apply, D-13). */
  readonly writePrompt: (prompt: string) => Effect.Effect<void, FileAccessError>
  /**
   * Makes the run folder (with `commands/` and `errors/`) again when it has gone: moved or deleted
   * while the run was in progress. True when it had gone; the folder as it is otherwise.
   */
  readonly restoreFolder: Effect.Effect<boolean, FileAccessError>
}

/** Creates run folders (SPEC LAY-1..3) and hands out the run's files. */
export class RunStore extends Context.Tag("orchestrator/RunStore")<
  RunStore,
  {
    /** LAY-2 bootstrap: folders, the `queued` manifest, `.resume-token`, `.heartbeat`, compatibility pointers. */
    readonly create: (layout: RunLayout, manifest: CliManifest) => Effect.Effect<RunFiles, FileAccessError>
    /** Takes over an existing run (resume): its manifest as it is on disk. */
    readonly open: (layout: RunLayout) => Effect.Effect<RunFiles, RunNotFound | InvalidFile | FileAccessError>
    /** Reads a run's manifest without taking it over (status never writes). */
    readonly read: (layout: RunLayout) => Effect.Effect<CliManifest, RunNotFound | InvalidFile | FileAccessError>
    /** The run folder's `.resume-token`, trimmed; undefined when the file is missing. */
    readonly readResumeToken: (layout: RunLayout) => Effect.Effect<string | undefined, FileAccessError>
    /** The run's recorded owner; undefined when missing or unreadable (an old or foreign run). */
    readonly readOwner: (layout: RunLayout) => Effect.Effect<RunOwner | undefined, FileAccessError>
    /**
     * Claims the right to take a run over from `previous` (its recorded owner, or none) for
     * `claimant`. Exactly one caller wins per previous owner, even when two resume at the same
     * moment; the others get false. A claim whose claimant died before recording itself as the
     * owner (a resume killed during its takeover) does not block the run: it is dead when
     * `isAlive` says so of its claimant, or when it is older than a takeover takes (a minute), and
     * then exactly one caller claims after it.
     */
    readonly claimTakeover: (
      layout: RunLayout,
      previous: RunOwner | undefined,
      claimant: RunOwner,
      isAlive: (claimant: RunOwner) => Effect.Effect<boolean>
    ) => Effect.Effect<boolean, FileAccessError>
  }
>() {}
