/**
 * The cluster on PostgreSQL (issue 18): the client the orchestrator's `cloud` executor sends
 * through, and the runner a `codex-orchestrator runner` process serves stages with. Both keep
 * messages and runners in the same database (SQL storage) and talk to runners over sockets.
 * Loaded only when a database URL is configured or a runner starts (src/cli/engine.ts, runner.ts).
 */
import * as RunnerHealth from "@effect/cluster/RunnerHealth"
import * as RunnerAddress from "@effect/cluster/RunnerAddress"
import * as Runners from "@effect/cluster/Runners"
import * as ShardingConfig from "@effect/cluster/ShardingConfig"
import * as SocketRunner from "@effect/cluster/SocketRunner"
import * as SqlMessageStorage from "@effect/cluster/SqlMessageStorage"
import * as SqlRunnerStorage from "@effect/cluster/SqlRunnerStorage"
import { layerClientProtocol, layerSocketServer } from "@effect/platform-node-shared/NodeClusterSocket"
import * as RpcSerialization from "@effect/rpc/RpcSerialization"
import * as SqlClient from "@effect/sql/SqlClient"
import * as PgClient from "@effect/sql-pg/PgClient"
import { Cause, Duration, Effect, Layer, Option, Redacted, Schedule } from "effect"
import { groupsServedBy } from "../domain/Cluster.js"
import { oneLine } from "../domain/OneLine.js"
import { AttemptOutputSql } from "./AttemptOutput.js"
import { ClusterPlacementsSql } from "./ClusterPlacements.js"
import { type ClusterExecutorOptions, ClusterExecutorLive } from "./ClusterExecutor.js"
import { connectionFailure } from "./internal/databaseProbe.js"
import { withSerialReservations } from "./internal/serialConnections.js"
import { makeWorkspaceSnapshots } from "./internal/workspaceSnapshot.js"
import { clusterDatabaseVariable, InvalidSetting } from "../domain/Settings.js"

/** Where the cluster keeps its state, and how long a dead runner's shards stay locked. */
export interface ClusterConnection {
  readonly databaseUrl: string
  /** Where the URL came from, named when it cannot be used (default: CODEX_CLUSTER_DATABASE_URL). */
  readonly source?: string | undefined
  readonly lockExpiry: Option.Option<Duration.Duration>
}

/**
 * Every process of one cluster must agree on these. Few shards per group: a runner serves one group
 * for each combination of its labels, and refreshes the lock of every shard it holds. Advisory
 * locks are off because their numbers come from each runner's own list of groups, which differs
 * between runners with different labels; the lock table (with its expiry) is used instead.
 */
const shardingOptions = (connection: ClusterConnection): Partial<ShardingConfig.ShardingConfig["Type"]> => ({
  shardsPerGroup: 16,
  shardLockDisableAdvisory: true,
  entityMessagePollInterval: Duration.seconds(1),
  ...Option.match(connection.lockExpiry, {
    onNone: () => ({}),
    onSome: (expiry) => ({ shardLockExpiration: expiry, shardLockRefreshInterval: Duration.divide(expiry, 3).pipe(Option.getOrElse(() => expiry)) })
  })
})

/** A URL that cannot be used, or a database that does not answer: bad configuration (exit 2), said in one line. */
const unreachable = (source: string) => (error: { readonly message: string; readonly cause?: unknown }) =>
  new InvalidSetting({
    variable: source,
    detail: `cannot reach the cluster database (${source}): ${connectionFailure(error)}. ` +
      "Check the URL and that PostgreSQL is running (`codex-orchestrator cluster db` starts one)."
  })

/**
 * The most connections an orchestrator opens to the cluster's database. Each `start` is a new
 * process with an empty pool, and its statements are short (a placement record, a message, a read
 * of an attempt's output): left at node-postgres's 10, a graph's burst of remote stages opened a
 * connection for nearly each (a backend forked and authenticated on both sides, on the stages'
 * path) where queueing on a few costs a millisecond or two. Measured on the 8 × `sleep 1` graph
 * on two runners (2 cores, 6 runs each): the stages' span 1 545 ms at 10, 1 466 ms at 4.
 */
export const clientConnections = 4

/** The database, the message, runner and attempt output storages on it, and socket transport with msgpack. */
const foundation = (
  connection: ClusterConnection,
  config: Layer.Layer<ShardingConfig.ShardingConfig>,
  maxConnections?: number
) => {
  const source = connection.source ?? clusterDatabaseVariable
  const database = PgClient.layer({
    url: Redacted.make(connection.databaseUrl),
    connectTimeout: Duration.seconds(5),
    applicationName: "codex-orchestrator",
    ...(maxConnections === undefined ? {} : { maxConnections })
  }).pipe(Layer.mapError(unreachable(source)))
  // The runner storage's shard-lock statements go one at a time on their reserved connection
  // (internal/serialConnections.ts: else node-postgres prints a DeprecationWarning on each overlap).
  // Two processes starting together both create the cluster's tables; the loser's migration dies on
  // PostgreSQL's catalog uniqueness. It finds them made on its next try.
  const runnerStorage = SqlRunnerStorage.layer.pipe(
    Layer.provide(Layer.effect(SqlClient.SqlClient, Effect.map(SqlClient.SqlClient, withSerialReservations)))
  )
  const storage = Layer.mergeAll(SqlMessageStorage.layer, runnerStorage, AttemptOutputSql, ClusterPlacementsSql).pipe(
    Layer.catchAllCause((cause) => Layer.fail(unreachable(source)({ message: oneLine(Cause.pretty(cause)) }))),
    Layer.retry(Schedule.spaced(Duration.millis(300)).pipe(Schedule.intersect(Schedule.recurs(5)))),
    Layer.provide(database),
    Layer.provide(config)
  )
  const transport = layerClientProtocol.pipe(Layer.provide(RpcSerialization.layerMsgPack))
  return Layer.mergeAll(storage, transport, config, RpcSerialization.layerMsgPack)
}

/**
 * The orchestrator's side: a client of the cluster (it serves no entity). Provides Sharding,
 * RunnerStorage, ShardingConfig, AttemptOutput and ClusterPlacements.
 */
export const clusterClientLayer = (connection: ClusterConnection) =>
  SocketRunner.layerClientOnly.pipe(
    Layer.provideMerge(
      foundation(connection, ShardingConfig.layer({ ...shardingOptions(connection), runnerAddress: Option.none() }), clientConnections)
    )
  )

/** How a runner presents itself. */
export interface RunnerOptions {
  readonly host: string
  readonly port: number
  readonly labels: ReadonlyArray<string>
  /** Stages at once: also its shard weight, which is how clients learn it (cluster/shardMap.ts). */
  readonly capacity: number
}

/**
 * The runner's socket server on `address`, listening before anything else of the runner is built:
 * an address in use (or not of this machine) is bad input said in one line (exit 2), before the
 * database is tried; upstream, it was "Open" alone.
 */
const listeningOn = (address: RunnerAddress.RunnerAddress, config: Layer.Layer<ShardingConfig.ShardingConfig>) =>
  layerSocketServer.pipe(
    Layer.provide(config),
    Layer.mapError((error) =>
      new InvalidSetting({
        variable: "--listen",
        detail: `--listen ${address.host}:${address.port}: cannot listen there (${connectionFailure({ message: "", cause: error.cause })}). ` +
          "Give the runner another --listen host:port."
      })
    )
  )

/** A runner: listens on `host:port` and holds shards of the default group and of each combination of its labels. */
export const clusterRunnerLayer = (connection: ClusterConnection, runner: RunnerOptions) => {
  const groups = [...groupsServedBy(runner.labels)]
  const address = RunnerAddress.make(runner.host, runner.port)
  const config = ShardingConfig.layer({
    ...shardingOptions(connection),
    runnerAddress: Option.some(address),
    runnerShardWeight: runner.capacity,
    runnerListenAddress: Option.some(address),
    availableShardGroups: groups,
    assignedShardGroups: groups
  })
  const health = RunnerHealth.layerPing.pipe(Layer.provide(Runners.layerRpc))
  return SocketRunner.layer.pipe(
    Layer.provide(health),
    Layer.provideMerge(foundation(connection, config)),
    Layer.provide(listeningOn(address, config))
  )
}

/**
 * CloudExecutor on a cluster client: what the orchestrator uses when a database URL is configured.
 * Requests carry the repository's workspace (origin, commit, uncommitted diff), taken with the
 * ProcessRunner.
 */
export const clusterExecutorLayer = (connection: ClusterConnection, options: ClusterExecutorOptions = {}) =>
  Layer.unwrapEffect(Effect.map(makeWorkspaceSnapshots, (workspaceOf) => ClusterExecutorLive({ workspaceOf, ...options }))).pipe(
    Layer.provide(clusterClientLayer(connection))
  )
