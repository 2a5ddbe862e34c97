/**
 * Uploads finished runs to Codex Cloud (SPEC SYNC-2..4). Enabled by `CODEX_CLOUD_SYNC`; when it is
 * off, `syncRun` does nothing and reports `Disabled`.
 */
import { Context, type Effect, type Option } from "effect"
import type { CloudSyncRecord, CloudSyncSettings, SyncOutcome } from "../domain/CloudSync.js"
import type { FileAccessError, InvalidFile } from "../domain/FileErrors.js"
import type { InvalidId } from "../domain/Ids.js"

export interface SyncRequest {
  readonly taskId: string
  readonly runId: string
  /** The run summary as emitted on `run:completed` (enriched fields pass through). */
  readonly summary: unknown
}

export class CloudSync extends Context.Tag("orchestrator/CloudSync")<
  CloudSync,
  {
    /** None when cloud sync is off. */
    readonly settings: Option.Option<CloudSyncSettings>
    /**
     * Reads `<runsRoot>/<taskId>/<runId>/manifest.json`, uploads it with the summary, and leaves an
     * audit trail and the run's `cloud-sync.json`. Never fails: a failed upload is audited, logged
     * as a warning and reported in the outcome, and the run's own result stands.
     */
    readonly syncRun: (request: SyncRequest) => Effect.Effect<SyncOutcome>
    /** The run's `cloud-sync.json`, or none when the run was never synced (or sync is off). */
    readonly readSyncRecord: (
      taskId: string,
      runId: string
    ) => Effect.Effect<Option.Option<CloudSyncRecord>, InvalidId | InvalidFile | FileAccessError>
  }
>() {}
