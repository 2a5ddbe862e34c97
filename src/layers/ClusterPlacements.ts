/**
 * The placement records of remote attempts (issue 18): in the cluster's PostgreSQL beside its
 * messages (every orchestrator of the cluster reaches the same database), or in memory for unit tests.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Duration, Effect, Layer, Ref, Schedule } from "effect"
import { ClusterPlacementError, ClusterPlacements } from "../services/ClusterPlacements.js"

/** One state in memory (shared by the executors of a test, as the database is by orchestrators). */
export const ClusterPlacementsMemory = Layer.effect(
  ClusterPlacements,
  Effect.map(Ref.make<ReadonlyMap<string, string>>(new Map()), (records) =>
    ClusterPlacements.of({
      place: (key, expected, next) =>
        Ref.modify(records, (all) => {
          const recorded = all.get(key)
          const after = recorded === undefined || recorded === expected ? next : recorded
          return [after, new Map(all).set(key, after)]
        })
    }))
)

const table = "codex_cluster_placements"
/** Records older than this are removed when a process opens the storage: their runs are long over. */
const retention = "7 days"

const failure = (reason: string) => (cause: { readonly message: string }) =>
  new ClusterPlacementError({ reason: `${reason}: ${cause.message}`, cause })

/** On the SqlClient in context (the cluster's PostgreSQL): makes its table, prunes old records. */
export const ClusterPlacementsSql = Layer.effect(
  ClusterPlacements,
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // Two processes starting together both create the table; the loser finds it made on its next try.
    yield* sql.unsafe(
      `CREATE TABLE IF NOT EXISTS ${table} (idempotency_key text PRIMARY KEY, entity_id text NOT NULL, ` +
        "created_at timestamptz NOT NULL DEFAULT now())"
    ).pipe(Effect.retry(Schedule.spaced(Duration.millis(200)).pipe(Schedule.intersect(Schedule.recurs(5)))))
    yield* sql.unsafe(`DELETE FROM ${table} WHERE created_at < now() - interval '${retention}'`)
    return ClusterPlacements.of({
      // One statement, atomic against another orchestrator placing the same key: the row is
      // inserted, moved from `expected`, or left as it is, and what it says afterwards returned.
      place: (key, expected, next) =>
        sql<{ readonly entity_id: string }>`INSERT INTO ${sql(table)} (idempotency_key, entity_id) VALUES (${key}, ${next})
          ON CONFLICT (idempotency_key) DO UPDATE SET entity_id = CASE
            WHEN ${sql(table)}.entity_id = ${expected ?? ""} THEN EXCLUDED.entity_id ELSE ${sql(table)}.entity_id END
          RETURNING entity_id`.pipe(
          Effect.map((rows) => rows[0]?.entity_id ?? next),
          Effect.mapError(failure("recording where an attempt goes failed"))
        )
    })
  }).pipe(Effect.mapError(failure("the placement table could not be made")))
)
