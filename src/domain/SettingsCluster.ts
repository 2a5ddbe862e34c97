/**
 * The `cluster` section of the settings (see Settings.ts, which re-exports it: import it from
 * there): the cluster that runs `cloud` stages. Apart only to keep Settings.ts a readable size.
 */
import { Config, Duration, Either, Option } from "effect"
import { type Format, InvalidSetting, parsed, trimmedText } from "./SettingsKinds.js"

/** A duration as Effect writes one: `5 seconds`, `500 millis`, `2 minutes`. */
const duration: Format<Duration.Duration> = {
  expected: "a duration such as \"5 seconds\" or \"500 millis\"",
  parse: (value) => {
    const decoded = Duration.decodeUnknown(value)
    return Option.isSome(decoded) && Duration.greaterThan(decoded.value, Duration.zero) ? decoded.value : undefined
  }
}

/**
 * The shard lock expiry: at least a second. A runner renews its locks every third of it; under a
 * second it renews every few ms, loses its locks meanwhile and takes half a core doing so.
 */
const lockExpiry: Format<Duration.Duration> = {
  expected: "a duration of at least 1 second, such as \"5 seconds\"",
  parse: (value) => {
    const decoded = duration.parse(value)
    return decoded !== undefined && Duration.greaterThanOrEqualTo(decoded, Duration.seconds(1)) ? decoded : undefined
  }
}

const postgresUrl: Format<string> = {
  expected: "a PostgreSQL URL (postgres://user:password@host:port/database)",
  parse: (value) =>
    Either.match(Either.try(() => new URL(value)), {
      onLeft: () => undefined,
      onRight: (url) => (url.protocol === "postgres:" || url.protocol === "postgresql:" ? value : undefined)
    })
}

export const clusterDatabaseVariable = "CODEX_CLUSTER_DATABASE_URL"
export const clusterLockExpiryVariable = "CODEX_CLUSTER_LOCK_EXPIRY"
export const clusterStopGraceVariable = "CODEX_CLUSTER_STOP_GRACE"

/** How a `--database-url` flag (or the variable) is checked: the same sentence for both. */
export const parseClusterDatabaseUrl = (name: string, value: string): Either.Either<string, InvalidSetting> => {
  const url = postgresUrl.parse(value.trim())
  return url === undefined
    ? Either.left(new InvalidSetting({ variable: name, detail: `${name}=${JSON.stringify(value)} is not ${postgresUrl.expected}.` }))
    : Either.right(url)
}

/**
 * The database URL variable as given (trimmed; unset or blank: None), not yet checked: `runner`
 * takes it when no `--database-url` is given, and checks it naming the variable.
 */
export const clusterDatabaseGiven = trimmedText(clusterDatabaseVariable)

/**
 * What a runner reads besides its database URL (which its `--database-url` may give instead): the
 * shard lock expiry that bounds how long a dead runner's stages wait before another runner takes
 * them (default the cluster's 35 s), and the stop grace.
 */
const runnerSettings = {
  lockExpiry: parsed(clusterLockExpiryVariable, lockExpiry, "35 seconds"),
  /** How long a stopping runner waits for its stages to finish or go back before it exits anyway. */
  stopGrace: Config.map(parsed(clusterStopGraceVariable, duration, "30 seconds"), Option.getOrElse(() => Duration.seconds(30)))
}
export const clusterRunnerSection = Config.all(runnerSettings)

/**
 * `cluster` (DECISIONS B-3, issue 18): the PostgreSQL database of the cluster that runs `cloud`
 * stages (unset: no cloud executor, stages fall back to local), and the runner's section.
 * Decoded when the engine is loaded.
 */
export const clusterSection = Config.all({ databaseUrl: parsed(clusterDatabaseVariable, postgresUrl), ...runnerSettings })
export type ClusterSection = Config.Config.Success<typeof clusterSection>
