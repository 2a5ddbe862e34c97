/** D-8 for every phase of a run: an interruption records the run `cancelled` unless it has ended. */
import { Effect } from "effect"
import { cancelledManifest } from "../../domain/Manifest.js"
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
