import { Context, type Effect, type Scope } from "effect"
import type { FileAccessError } from "../domain/FileErrors.js"
import type { CliManifest, ErrorFile } from "../domain/Manifest.js"
import type { RunLayout } from "../domain/RunLayout.js"
import type { RunLogEvent } from "../domain/RunLog.js"
import type { RunSummary } from "../domain/RunSummary.js"

/** Appends lines to one stage's `commands/<NN>-<slug>.ndjson`; open for the stage's lifetime. */
export interface StageLogWriter {
  readonly append: (text: string) => Effect.Effect<void, FileAccessError>
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
  readonly appendRunnerLog: (event: RunLogEvent) => Effect.Effect<void, FileAccessError>
  readonly openStageLog: (path: string) => Effect.Effect<StageLogWriter, FileAccessError, Scope.Scope>
  readonly writeErrorFile: (path: string, content: ErrorFile) => Effect.Effect<void, FileAccessError>
  readonly writeRunSummary: (summary: RunSummary) => Effect.Effect<void, FileAccessError>
}

/** Creates run folders (SPEC LAY-1..3) and hands out the run's files. */
export class RunStore extends Context.Tag("orchestrator/RunStore")<
  RunStore,
  {
    /** LAY-2 bootstrap: folders, the `queued` manifest, `.resume-token`, `.heartbeat`, compatibility pointers. */
    readonly create: (layout: RunLayout, manifest: CliManifest) => Effect.Effect<RunFiles, FileAccessError>
  }
>() {}
