import { Context, type Effect, Schema } from "effect"
import type { StageLogEntry } from "../domain/Cluster.js"

/** The attempts' output storage failed (the database went away, a row did not decode). */
export class AttemptOutputError extends Schema.TaggedError<AttemptOutputError>()("AttemptOutputError", {
  reason: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message() {
    return `attempt output storage: ${this.reason}`
  }
}

/**
 * What remote attempts print, kept beside the cluster's messages (issue 18): a runner appends an
 * attempt's events under its idempotency key, numbered from 1; the orchestrator reads them back
 * from any number on. Stored rather than streamed, so nothing is lost when the orchestrator reads
 * late, from another process, or after a resume.
 */
export class AttemptOutput extends Context.Tag("orchestrator/AttemptOutput")<
  AttemptOutput,
  {
    /** The highest sequence number stored for `key` (0: none): where a redelivered attempt continues. */
    readonly last: (key: string) => Effect.Effect<number, AttemptOutputError>
    /** Stores entries of `key`; their numbers are the caller's (one writer an attempt). */
    readonly append: (key: string, entries: ReadonlyArray<StageLogEntry>) => Effect.Effect<void, AttemptOutputError>
    /** The entries of `key` numbered above `after`, in order. */
    readonly read: (key: string, after: number) => Effect.Effect<ReadonlyArray<StageLogEntry>, AttemptOutputError>
  }
>() {}
