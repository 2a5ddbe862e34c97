/**
 * The cluster in memory for unit tests: one runner (Sharding on the cluster's memory storages, no
 * network, no database) serving the stage entity for `labels`, over the given ProcessRunner, and the
 * attempts' output in memory (shared by the runner and the executor).
 */
import * as MessageStorage from "@effect/cluster/MessageStorage"
import * as RunnerHealth from "@effect/cluster/RunnerHealth"
import * as Runners from "@effect/cluster/Runners"
import * as RunnerStorage from "@effect/cluster/RunnerStorage"
import * as Sharding from "@effect/cluster/Sharding"
import * as ShardingConfig from "@effect/cluster/ShardingConfig"
import { Effect, Layer } from "effect"
import { groupsServedBy } from "../../src/domain/Cluster.js"
import { AttemptOutputMemory } from "../../src/layers/AttemptOutput.js"
import { stageEntityLayer } from "../../src/layers/internal/stageHandlers.js"

export const memoryCluster = (labels: ReadonlyArray<string>) => {
  const groups = [...groupsServedBy(labels)]
  const config = ShardingConfig.layer({
    availableShardGroups: groups,
    assignedShardGroups: groups,
    shardsPerGroup: 8,
    refreshAssignmentsInterval: "50 millis",
    entityMessagePollInterval: "50 millis",
    simulateRemoteSerialization: true
  })
  const sharding = Sharding.layer.pipe(
    Layer.provideMerge(Runners.layerNoop),
    Layer.provideMerge(MessageStorage.layerMemory),
    Layer.provideMerge(RunnerStorage.layerMemory),
    Layer.provide(RunnerHealth.layerNoop),
    Layer.provideMerge(config)
  )
  const handlers = stageEntityLayer({
    runner: "memory:1",
    host: "memory-host",
    capacity: 2,
    prepare: (request) =>
      Effect.succeed({ spec: { command: request.command, cwd: request.cwd, env: request.env }, release: () => Effect.void })
  })
  return Layer.provideMerge(handlers, Layer.merge(sharding, AttemptOutputMemory))
}
