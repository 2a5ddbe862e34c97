/**
 * Whether a PostgreSQL database answers: connect and `SELECT 1`, within 10 s. The driver is loaded
 * here, on first use, so commands that never probe a database do not evaluate it. Also how a failed
 * connection is said, here and by the cluster's layers (ClusterLive.ts).
 */
import { Duration, Effect, Redacted } from "effect"
import { oneLine } from "../../domain/OneLine.js"

/** The message of `error`, else of each error it aggregates (Node's connect to a name of several addresses). */
const messageOf = (error: unknown): string => {
  if (!(error instanceof Error)) return ""
  if (error.message !== "") return error.message
  return error instanceof AggregateError ? error.errors.map(messageOf).filter((m) => m !== "").join("; ") : ""
}

/**
 * Why a connection failed, in one line: the SQL layer's message ("PgClient: Failed to connect")
 * and the driver's reason it wraps ("password authentication failed for user ...", "connect
 * ECONNREFUSED 127.0.0.1:5432", "database ... does not exist", "getaddrinfo ENOTFOUND host").
 */
export const connectionFailure = (error: { readonly message: string; readonly cause?: unknown }): string => {
  const reason = messageOf(error.cause)
  if (reason === "" || error.message.includes(reason)) return oneLine(error.message)
  return oneLine(error.message === "" ? reason : `${error.message}: ${reason}`)
}

/** Succeeds when the database answered; fails with why not, in one line. */
export const probeDatabase = (url: string): Effect.Effect<void, string> =>
  Effect.gen(function*() {
    const pg = yield* Effect.promise(() => import("@effect/sql-pg/PgClient"))
    yield* Effect.flatMap(pg.PgClient, (sql) => sql`SELECT 1`).pipe(
      Effect.provide(pg.layer({ url: Redacted.make(url), connectTimeout: Duration.seconds(5), applicationName: "codex-orchestrator doctor" }))
    )
  }).pipe(
    Effect.timeoutFail({ duration: Duration.seconds(10), onTimeout: () => "no answer within 10 seconds" }),
    Effect.mapError((error) => (typeof error === "string" ? error : connectionFailure(error)))
  )
