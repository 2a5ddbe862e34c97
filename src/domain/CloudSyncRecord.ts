/**
 * What a cloud sync leaves in the run folder for `status` (SYNC). Apart from the rest of the cloud
 * sync domain (src/domain/CloudSync.ts re-exports it) so that `status` loads only this schema.
 */
import { Schema } from "effect"

/** How an error appears in audit lines and sync records: its tag and message, never a stack or fields. */
export const ErrorSummary = Schema.Struct({ name: Schema.String, message: Schema.String })
export type ErrorSummary = typeof ErrorSummary.Type

export const summarizeError = (error: { readonly _tag: string; readonly message: string }): ErrorSummary => ({
  name: error._tag,
  message: error.message
})

/**
 * `<runsRoot>/<taskId>/cli/<runId>/cloud-sync.json`: whether and when the run reached the cloud,
 * for `status`. `attempts` counts uploads (0 when the manifest could not be read).
 */
export const CloudSyncRecord = Schema.Union(
  Schema.Struct({
    status: Schema.Literal("synced"),
    synced_at: Schema.String,
    remote_id: Schema.optional(Schema.String),
    attempts: Schema.Number
  }),
  Schema.Struct({
    status: Schema.Literal("failed"),
    failed_at: Schema.String,
    attempts: Schema.Number,
    error: ErrorSummary
  })
)
export type CloudSyncRecord = typeof CloudSyncRecord.Type
