/**
 * Whether a PostgreSQL database answers: connect and `SELECT 1`, within 10 s. The driver is loaded
 * here, on first use, so commands that never probe a database do not evaluate it.
 */
import { Duration, Effect, Redacted } from "effect"
import { oneLine } from "../../domain/OneLine.js"

/** Succeeds when the database answered; fails with why not, in one line. */
export const probeDatabase = (url: string): Effect.Effect<void, string> =>
  Effect.gen(function*() {
    const pg = yield* Effect.promise(() => import("@effect/sql-pg/PgClient"))
    yield* Effect.flatMap(pg.PgClient, (sql) => sql`SELECT 1`).pipe(
      Effect.provide(pg.layer({ url: Redacted.make(url), connectTimeout: Duration.seconds(5), applicationName: "codex-orchestrator doctor" }))
    )
  }).pipe(
    Effect.timeoutFail({ duration: Duration.seconds(10), onTimeout: () => "no answer within 10 seconds" }),
    Effect.mapError((error) => (typeof error === "string" ? error : oneLine(error.message)))
  )
