/**
 * Capacity-aware placement of a remote attempt (issue 18). The cluster routes an entity to the
 * runner holding its shard (a hash of its id), whatever that runner's load; so an attempt is sent
 * first under the entity id of placement 0, and when that runner refuses it (RunnerBusy, at
 * capacity) under placement 1, 2, ..., each a fresh entity id that hashes to a shard of its own.
 *
 * Every placement is a persisted message whose reply is stored, a refusal included. Walking the
 * placements again in the same order (a resumed run, the same idempotency key) meets the stored
 * refusals, then the placement that took the attempt: its stored result, or its pending message,
 * whose reply the call then waits for. So an attempt never runs twice for one key, and the mapping
 * from key to entity needs no storage of its own.
 */
import { Duration, Effect, Predicate, Schedule } from "effect"
import type { RunnerBusy } from "../../domain/Cluster.js"

export interface PlacementPolicy {
  /** Placements tried; the last one waits for a slot on its runner instead of being refused. */
  readonly placements: number
  /** The pause before each new placement (a refusal the runner just made means it is full now). */
  readonly pause: Schedule.Schedule<unknown, unknown>
}

/**
 * Placements go fast at first, 20 ms apart five times: the next hash usually finds a runner with a
 * free slot, but the shards that successive placements hash to are not independent (a key's
 * placements can meet the same full runner several times in a row), and a pause that doubled from
 * the first refusal kept a burst's last stage waiting for most of a second. Then, when every runner
 * stays full, slower, doubling from 40 ms up to 1 s apart, and after 16 (about 6 s of full runners)
 * the attempt waits in line on the runner of the last one: a bounded number of stored refusals per
 * attempt, so a resumed run walks few of them.
 */
export const defaultPlacement: PlacementPolicy = {
  placements: 16,
  pause: Schedule.spaced(Duration.millis(20)).pipe(
    Schedule.intersect(Schedule.recurs(5)),
    Schedule.andThen(Schedule.exponential(Duration.millis(40)).pipe(Schedule.union(Schedule.spaced(Duration.seconds(1)))))
  )
}

const isBusy = (error: unknown): error is RunnerBusy => Predicate.isTagged(error, "RunnerBusy")

/**
 * Sends the attempt to placement 0, 1, ... until a runner takes it: `send(placement, last)` makes
 * one call, `last` saying that this placement must wait for capacity rather than refuse. Any other
 * failure ends the walk with it; a refusal at the last placement (a runner of an older version)
 * does too.
 */
export const placeAttempt = <A, E, R>(
  send: (placement: number, last: boolean) => Effect.Effect<A, E | RunnerBusy, R>,
  policy: PlacementPolicy = defaultPlacement
): Effect.Effect<A, E | RunnerBusy, R> =>
  Effect.suspend(() => {
    const last = Math.max(1, policy.placements) - 1
    let next = 0
    const once = Effect.suspend(() => {
      const placement = next
      next = Math.min(next + 1, last)
      return send(placement, placement === last)
    })
    return Effect.retry(once, {
      while: isBusy,
      schedule: policy.pause.pipe(Schedule.intersect(Schedule.recurs(last)))
    })
  })
