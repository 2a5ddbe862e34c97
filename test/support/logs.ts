/** Capturing what an effect logs, for tests that check warnings. */
import { Effect, Logger, LogLevel } from "effect"

/** Runs `effect` with a logger that keeps `[level, message]` of everything it logs; returns both. */
export const withLogs = <A, E, R>(effect: Effect.Effect<A, E, R>) => {
  const logged: Array<readonly [string, string]> = []
  const logger = Logger.make(({ logLevel, message }) => {
    logged.push([logLevel.label, Array.isArray(message) ? message.map(String).join(" ") : String(message)])
  })
  return effect.pipe(
    Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
    Logger.withMinimumLogLevel(LogLevel.All),
    Effect.map((value) => [value, logged] as const)
  )
}
