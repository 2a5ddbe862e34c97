import { Context, type Effect, Schema } from "effect"

/** The placement records could not be read or written (the database went away). */
export class ClusterPlacementError extends Schema.TaggedError<ClusterPlacementError>()("ClusterPlacementError", {
  reason: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message() {
    return `cluster placement records: ${this.reason}`
  }
}

/**
 * Where each remote attempt was sent (issue 18): the entity id of its idempotency key, kept beside
 * the cluster's messages and written before the message is sent. The executor chooses a runner with
 * a free slot, and so an entity id, at send time; a resumed run (or a second orchestrator with the
 * same key) reads the id back here and meets the stored message and its result, never a new run.
 */
export class ClusterPlacements extends Context.Tag("orchestrator/ClusterPlacements")<
  ClusterPlacements,
  {
    /**
     * Records `next` as the entity of `key` when nothing is recorded, or when `expected` is (the
     * attempt was refused there and moves on); otherwise leaves the record alone. Returns the entity
     * id recorded afterwards: where the attempt is to be sent.
     */
    readonly place: (key: string, expected: string | null, next: string) => Effect.Effect<string, ClusterPlacementError>
  }
>() {}
