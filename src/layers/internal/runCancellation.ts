/**
 * How a run that stops early is recorded, in every phase: an interruption records it `cancelled`
 * (D-8); its own files failing to be written (a full disk) records it `failed` as far as it can.
 */
import { Effect } from "effect"
import type { FileAccessError } from "../../domain/FileErrors.js"
import { cancelledManifest, failedOnFileError } from "../../domain/Manifest.js"
import { isoNow } from "../../domain/Time.js"
import type { RunFiles } from "../../services/RunStore.js"

/**
 * Records the run `cancelled` (and the stage it was in); a run that already ended is left as it is. A
 * write that fails is logged: the interruption goes on either way.
 */
export const markCancelled = (files: RunFiles) =>
  Effect.gen(function*() {
    const now = yield* isoNow
    yield* files.update((m) => cancelledManifest(m, now), { force: true })
  }).pipe(Effect.catchAll((error) => Effect.logError(`Could not record the cancellation: ${error.message}`)))

/**
 * The run's own files could not be written (issue 16 items 16 and 21): the error is said first, naming
 * the file, or the run folder when it has gone (moved or deleted mid-run: it is made again at its
 * path, so the run's record is not lost with it). Then the running stages get an error file and are
 * marked `failed` with the run, as far as the disk still takes those writes.
 */
export const markFileFailure = (
  files: RunFiles,
  error: FileAccessError,
  /** False when the error goes on to the edge, which says it: only a restored folder is said here then. */
  options: { readonly sayError: boolean } = { sayError: true }
) =>
  Effect.gen(function*() {
    const restored = yield* Effect.orElseSucceed(files.restoreFolder, () => false)
    const reason = restored
      ? `The run folder ${files.layout.relative(files.layout.runDir)} was moved or deleted while the run was in ` +
        `progress; it is made again there, with the run marked failed (${error.message})`
      : error.message
    if (options.sayError || restored) yield* Effect.logError(reason)
    const now = yield* isoNow
    const manifest = yield* files.manifest
    const errorFiles = yield* Effect.forEach(
      manifest.commands.filter((entry) => entry.status === "running" && entry.kind === "command"),
      (entry) => {
        const path = files.layout.errorFile(entry.index, entry.id)
        return files.writeErrorFile(path, {
          run_id: manifest.run_id,
          task_id: manifest.task_id,
          command_index: entry.index,
          command_id: entry.id,
          command: entry.command ?? "",
          reason: "command-error",
          details: { exit_code: null, sandbox_state: "sandboxed", stderr: "", error: reason },
          created_at: now
        }).pipe(Effect.as([[entry.id, files.layout.relative(path)] as const]), Effect.orElseSucceed(() => []))
      }
    )
    const errorFileOf = new Map(errorFiles.flat())
    yield* files.update((m) =>
      failedOnFileError(
        { ...m, commands: m.commands.map((c) => ({ ...c, error_file: errorFileOf.get(c.id) ?? c.error_file })) },
        reason,
        now
      ), { force: true })
  }).pipe(Effect.catchAll((again) => Effect.logError(`The run's failure could not be recorded either: ${again.message}`)))
