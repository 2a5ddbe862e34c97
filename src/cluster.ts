/**
 * codex-orchestrator's distributed `cloud` executor (DECISIONS B-3, issue 18), as the subpath
 * `codex-orchestrator/cluster`: apart from the main entry, so that an app that does not use it never
 * loads @effect/cluster, @effect/rpc, @effect/sql and @effect/sql-pg (optional peer dependencies).
 */

/** The executor over a cluster client: `ClusterExecutorLive`, to pass as `makeAppLayer({ cloudExecutor })`. */
export * as ClusterExecutor from "./layers/ClusterExecutor.js"
/** The cluster on PostgreSQL: `clusterExecutorLayer(connection)`, `clusterClientLayer`, `clusterRunnerLayer`. */
export * as ClusterLive from "./layers/ClusterLive.js"
/** What travels to runners and how labels route stages (`groupOf`, `groupsServedBy`). */
export * as Cluster from "./domain/Cluster.js"
