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
 * The run's own files could not be written (issue 16 item 21): the error is said first, naming the
 * file, then the running stages and the run are marked `failed` if the disk still takes that write.
 */
export const markFileFailure = (files: RunFiles, error: FileAccessError) =>
  Effect.gen(function*() {
    yield* Effect.logError(error.message)
    const now = yield* isoNow
    yield* files.update((m) => failedOnFileError(m, error.message, now), { force: true })
  }).pipe(Effect.catchAll((again) => Effect.logError(`The run's failure could not be recorded either: ${again.message}`)))
