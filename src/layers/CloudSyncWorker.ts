import { Effect, Layer, Option } from "effect"
import { CloudSync } from "../services/CloudSync.js"
import { EventBus } from "../services/EventBus.js"

/**
 * SYNC-3: uploads every completed run, for as long as the layer lives. It is an EventBus handler,
 * so `settled` (which the CLI waits for) covers the upload; a failed upload is the sync's own
 * warning and audit line, never the run's failure. Nothing subscribes while sync is off.
 */
export const CloudSyncWorkerLive = Layer.scopedDiscard(
  Effect.gen(function*() {
    const sync = yield* CloudSync
    if (Option.isNone(sync.settings)) return
    const bus = yield* EventBus
    yield* bus.on("run:completed", (event) =>
      sync.syncRun({ taskId: event.taskId, runId: event.runId, summary: event.summary }).pipe(
        Effect.tap((outcome) =>
          outcome._tag === "Synced"
            ? Effect.logInfo(`Run ${event.runId} synced to the cloud${outcome.remoteId === undefined ? "" : ` (${outcome.remoteId})`}.`)
            : Effect.void
        )
      ))
  })
)
