/**
 * Where remote attempts' output is kept (issue 18): in the cluster's PostgreSQL beside its messages
 * (runners and the orchestrator reach the same database), or in memory for unit tests.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Duration, Effect, Layer, Ref, Schedule, Schema } from "effect"
import { StageEvent, type StageLogEntry } from "../domain/Cluster.js"
import { AttemptOutput, AttemptOutputError } from "../services/AttemptOutput.js"

/** One runner's and one client's state in memory (with the cluster's memory storages in tests). */
export const AttemptOutputMemory = Layer.effect(
  AttemptOutput,
  Effect.map(Ref.make<ReadonlyMap<string, ReadonlyArray<StageLogEntry>>>(new Map()), (store) => {
    const entriesOf = (key: string) => Effect.map(Ref.get(store), (all) => all.get(key) ?? [])
    return AttemptOutput.of({
      last: (key) => Effect.map(entriesOf(key), (entries) => entries[entries.length - 1]?.seq ?? 0),
      append: (key, entries) => Ref.update(store, (all) => new Map([...all, [key, [...(all.get(key) ?? []), ...entries]]])),
      read: (key, after) => Effect.map(entriesOf(key), (entries) => entries.filter((entry) => entry.seq > after))
    })
  })
)

const table = "codex_attempt_output"
/** Rows older than this are removed when a process opens the storage: their runs are long over. */
const retention = "7 days"
/** At most this many rows a read, so a long backlog is read in pieces. */
const readLimit = 500

const StoredRow = Schema.Struct({ seq: Schema.Number, event: Schema.parseJson(StageEvent) })
const decodeRows = Schema.decodeUnknown(Schema.Array(StoredRow))
const encodeEvent = Schema.encode(Schema.parseJson(StageEvent))

const failure = (reason: string) => (cause: { readonly message: string }) =>
  new AttemptOutputError({ reason: `${reason}: ${cause.message}`, cause })

/** On the SqlClient in context (the cluster's PostgreSQL): makes its table, prunes old rows. */
export const AttemptOutputSql = Layer.effect(
  AttemptOutput,
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // Two processes starting together both create the table; the loser finds it made on its next try.
    yield* sql.unsafe(
      `CREATE TABLE IF NOT EXISTS ${table} (idempotency_key text NOT NULL, seq integer NOT NULL, event text NOT NULL, ` +
        "created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (idempotency_key, seq))"
    ).pipe(Effect.retry(Schedule.spaced(Duration.millis(200)).pipe(Schedule.intersect(Schedule.recurs(5)))))
    yield* sql.unsafe(`DELETE FROM ${table} WHERE created_at < now() - interval '${retention}'`)
    return AttemptOutput.of({
      last: (key) =>
        sql<{ readonly last: number }>`SELECT coalesce(max(seq), 0) AS last FROM ${sql(table)} WHERE idempotency_key = ${key}`.pipe(
          Effect.map((rows) => rows[0]?.last ?? 0),
          Effect.mapError(failure("reading the last sequence number failed"))
        ),
      append: (key, entries) =>
        entries.length === 0 ? Effect.void : Effect.forEach(entries, (entry) =>
          Effect.map(encodeEvent(entry.event), (event) => ({ idempotency_key: key, seq: entry.seq, event }))).pipe(
          Effect.flatMap((rows) => sql`INSERT INTO ${sql(table)} ${sql.insert(rows)}`),
          Effect.asVoid,
          Effect.mapError(failure("storing output failed"))
        ),
      read: (key, after) =>
        sql`SELECT seq, event FROM ${sql(table)} WHERE idempotency_key = ${key} AND seq > ${after} ORDER BY seq LIMIT ${readLimit}`.pipe(
          Effect.flatMap(decodeRows),
          Effect.mapError(failure("reading output failed"))
        )
    })
  }).pipe(Effect.mapError(failure("the output table could not be made")))
)
