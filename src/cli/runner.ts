/**
 * `codex-orchestrator runner` (issue 18): serves `cloud` stages from the cluster on this machine.
 * The cluster modules are loaded by the handler (runnerServe.ts), so other commands never load them.
 */
import { Command, Options } from "@effect/cli"
import { Effect, Option, Schema } from "effect"
import { Label, maxRunnerCapacity, maxRunnerLabels } from "../domain/Cluster.js"
import { clusterDatabaseGiven, clusterDatabaseVariable, decodeSettings, parseClusterDatabaseUrl } from "../domain/Settings.js"
import { UsageError, verbose } from "./shared.js"

// The variable is read by the handler, not as this flag's fallback: an error names where the URL came from.
const databaseUrl = Options.text("database-url").pipe(
  Options.withDescription(`The cluster's PostgreSQL URL (default: $${clusterDatabaseVariable}); \`cluster db\` prints one`),
  Options.optional
)
const listen = Options.text("listen").pipe(
  Options.withDescription(
    "host:port this runner listens on and is reached at by the cluster (default: localhost:34431); with orchestrators or " +
      "runners on other machines, a name or address they reach it by"
  ),
  Options.withDefault("localhost:34431")
)
const workspaces = Options.directory("workspaces").pipe(
  Options.withDescription(
    "Where the runner keeps one clone per repository and a worktree per stage, its own (default: .codex-runner/workspaces)"
  ),
  Options.withDefault(".codex-runner/workspaces")
)
const capacity = Options.integer("capacity").pipe(
  Options.withDescription(`Stages this runner runs at once, at most ${maxRunnerCapacity} (default: the number of CPUs)`),
  Options.optional
)
const labels = Options.text("labels").pipe(
  Options.withDescription(`Capabilities, comma-separated (at most ${maxRunnerLabels}); a stage with runsOn: [labels] goes to runners that have them all`),
  Options.withDefault("")
)
const keepFailed = Options.boolean("keep-failed").pipe(
  Options.withDescription("Keep the worktree of a stage that failed (for a look); otherwise it is made as new for the next stage, or removed")
)

/** `host:port` with a port from 1 to 65535. */
const parseListen = (value: string) => {
  const match = /^(.+):(\d+)$/.exec(value.trim())
  if (match === null || match[1] === undefined) {
    return Effect.fail(new UsageError({ reason: `--listen ${value} is not host:port (for example localhost:34431).` }))
  }
  const port = Number(match[2])
  return port >= 1 && port <= 65535
    ? Effect.succeed({ host: match[1], port })
    : Effect.fail(new UsageError({ reason: `--listen ${value}: the port must be 1 to 65535 (host:port, for example localhost:34431).` }))
}

const parseLabels = (value: string) =>
  Effect.gen(function*() {
    const list = value.split(",").map((label) => label.trim()).filter((label) => label.length > 0)
    const bad = list.find((label) => !Schema.is(Label)(label))
    if (bad !== undefined) {
      return yield* new UsageError({ reason: `--labels: "${bad}" is not a label; labels are 1-32 of a-z, 0-9, _ and -.` })
    }
    if (new Set(list).size > maxRunnerLabels) {
      return yield* new UsageError({ reason: `--labels: at most ${maxRunnerLabels} labels on one runner (${list.length} given).` })
    }
    return list
  })

export const runner = Command.make(
  "runner",
  { databaseUrl, listen, workspaces, capacity, labels, keepFailed, verbose },
  (flags) =>
    Effect.gen(function*() {
      const given = Option.isSome(flags.databaseUrl)
        ? Option.some({ source: "--database-url", value: flags.databaseUrl.value })
        : Option.map(yield* decodeSettings(clusterDatabaseGiven), (value) => ({ source: clusterDatabaseVariable, value }))
      if (Option.isNone(given)) {
        return yield* new UsageError({
          reason: `runner needs the cluster's database: give --database-url or set ${clusterDatabaseVariable} ` +
            "(a PostgreSQL URL; `codex-orchestrator cluster db` starts one and prints it)."
        })
      }
      const url = yield* parseClusterDatabaseUrl(given.value.source, given.value.value)
      const address = yield* parseListen(flags.listen)
      const labelList = yield* parseLabels(flags.labels)
      const capacityOf = Option.getOrUndefined(flags.capacity)
      if (capacityOf !== undefined && capacityOf < 1) {
        return yield* new UsageError({ reason: `--capacity ${capacityOf} is not a positive integer; give 1 or more.` })
      }
      if (capacityOf !== undefined && capacityOf > maxRunnerCapacity) {
        return yield* new UsageError({
          reason: `--capacity ${capacityOf} is more than a runner takes (at most ${maxRunnerCapacity} stages at once); give 1 to ${maxRunnerCapacity}.`
        })
      }
      const { serveRunner } = yield* Effect.promise(() => import("./runnerServe.js"))
      return yield* serveRunner({
        databaseUrl: url,
        databaseSource: given.value.source,
        ...address,
        workspaces: flags.workspaces,
        capacity: capacityOf,
        labels: labelList,
        keepFailed: flags.keepFailed
      })
    })
).pipe(Command.withDescription(
  "Run cloud stages for the cluster on this machine until stopped (SIGTERM/Ctrl-C: finishes or hands back its " +
    "stages, within CODEX_CLUSTER_STOP_GRACE, default 30 seconds). Logs what it runs on stderr. A runner that dies has " +
    "its stages taken by another once its shard locks expire (CODEX_CLUSTER_LOCK_EXPIRY, default 35 seconds, the same " +
    "on runners and orchestrators). Exit 2 on bad input or an unreachable database."
))
