/**
 * The engine for the commands that plan or run pipelines, loaded on first use: in the bundle the
 * dynamic import keeps its modules (the TaskManager, executors, control plane, learning, cloud sync)
 * from being evaluated by commands that do not need them, which is most of a `status`'s start-up.
 * With a cluster database configured (CODEX_CLUSTER_DATABASE_URL), `cloud` stages go to the cluster:
 * its client is loaded and connected here (an unreachable database is bad input, exit 2), and only then
 * (not for `plan`, which runs nothing).
 */
import { Effect, Layer, Option } from "effect"
import { clusterSettings, PlanningOnly } from "./clusterSettings.js"

/** The production engine (App.engineLayer, with the cluster's executor when a database is configured), its modules loaded when a command first needs it. */
export const engine = Layer.unwrapScoped(
  Effect.gen(function*() {
    const app = yield* Effect.promise(() => import("../layers/App.js"))
    const cluster = yield* clusterSettings
    if (Option.isNone(cluster.databaseUrl) || (yield* PlanningOnly)) return app.engineLayer()
    const { clusterExecutorLayer } = yield* Effect.promise(() => import("../layers/ClusterLive.js"))
    const { HostLive } = yield* Effect.promise(() => import("../layers/Host.js"))
    const { ProcessRunnerLive } = yield* Effect.promise(() => import("../layers/ProcessRunner.js"))
    const executor = yield* Layer.build(
      clusterExecutorLayer({ databaseUrl: cluster.databaseUrl.value, lockExpiry: cluster.lockExpiry }).pipe(
        Layer.provide(ProcessRunnerLive.pipe(Layer.provide(HostLive)))
      )
    )
    return app.engineLayer({ cloudExecutor: Layer.succeedContext(executor) })
  })
)
