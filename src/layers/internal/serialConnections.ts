/**
 * Reserved SQL connections that run one statement at a time (issue 18). The cluster's SQL runner
 * storage (@effect/cluster 0.60) keeps its shard-lock work on one reserved connection and issues
 * statements on it from concurrent fibers (refreshing, acquiring and releasing locks); node-postgres
 * queues them itself but prints a DeprecationWarning for each overlap ("Calling client.query() when
 * the client is already executing a query"), which a runner wrote on stderr. Queued here instead,
 * in the same order, the driver never sees an overlap. Pooled (unreserved) statements are untouched.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { Connection } from "@effect/sql/SqlConnection"
import { Effect } from "effect"

export const serialConnection = (connection: Connection): Effect.Effect<Connection> =>
  Effect.map(Effect.makeSemaphore(1), (lock): Connection => ({
    execute: (sql, params, transformRows) => lock.withPermits(1)(connection.execute(sql, params, transformRows)),
    executeRaw: (sql, params) => lock.withPermits(1)(connection.executeRaw(sql, params)),
    executeValues: (sql, params) => lock.withPermits(1)(connection.executeValues(sql, params)),
    executeUnprepared: (sql, params, transformRows) => lock.withPermits(1)(connection.executeUnprepared(sql, params, transformRows)),
    // A stream holds the connection while it is read; the runner storage does not stream.
    executeStream: (sql, params, transformRows) => connection.executeStream(sql, params, transformRows)
  }))

/**
 * The client with `reserve` giving serialized connections (and so does the client
 * `withoutTransforms` returns, which is what the runner storage uses). Everything else is the client's own.
 */
export const withSerialReservations = (client: SqlClient.SqlClient): SqlClient.SqlClient =>
  new Proxy(client, {
    get: (target, property, receiver) => {
      if (property === "reserve") return Effect.flatMap(target.reserve, serialConnection)
      if (property === "withoutTransforms") return () => withSerialReservations(target.withoutTransforms())
      return Reflect.get(target, property, receiver)
    }
  })
