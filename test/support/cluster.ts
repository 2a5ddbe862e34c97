/**
 * The cluster in memory for unit tests: runners (each a Sharding on the cluster's memory storages,
 * no network, no database) serving the stage entity for `labels`, over the given ProcessRunner, and
 * the attempts' output and placement records in memory (shared by the runners and the executors). The first runner's
 * Sharding is the one in context (the executor sends through it); the others reach their messages
 * through the shared message storage, as a runner picks up a message that missed its socket.
 */
import * as MessageStorage from "@effect/cluster/MessageStorage"
import * as RunnerAddress from "@effect/cluster/RunnerAddress"
import * as RunnerHealth from "@effect/cluster/RunnerHealth"
import * as Runners from "@effect/cluster/Runners"
import * as RunnerStorage from "@effect/cluster/RunnerStorage"
import * as Sharding from "@effect/cluster/Sharding"
import * as ShardingConfig from "@effect/cluster/ShardingConfig"
import { Effect, Layer, Option } from "effect"
import { groupsServedBy } from "../../src/domain/Cluster.js"
import { AttemptOutputMemory } from "../../src/layers/AttemptOutput.js"
import { ClusterPlacementsMemory } from "../../src/layers/ClusterPlacements.js"
import { type RunnerSetup, stageEntityLayer } from "../../src/layers/internal/stageHandlers.js"

export interface MemoryClusterOptions {
  /** Runners (default 1), at ports 34431, 34432, ... of localhost, named memory:1, memory:2, ... */
  readonly runners?: number
  /** Stages at once on each runner (default 2). */
  readonly capacity?: number
  /** How a runner turns a request into its process (default: the request's command in its cwd, nothing kept). */
  readonly prepare?: RunnerSetup["prepare"]
}

const asGiven: RunnerSetup["prepare"] = (request) =>
  Effect.succeed({ spec: { command: request.command, cwd: request.cwd, env: request.env }, release: () => Effect.succeed(undefined) })

const runnerLayer = (labels: ReadonlyArray<string>, index: number, capacity: number, prepare: RunnerSetup["prepare"]) => {
  const groups = [...groupsServedBy(labels)]
  const config = ShardingConfig.layer({
    runnerAddress: Option.some(RunnerAddress.make("localhost", 34431 + index)),
    availableShardGroups: groups,
    assignedShardGroups: groups,
    // As a runner of ours: its capacity is its shard weight, which the executor's placement reads.
    runnerShardWeight: capacity,
    shardsPerGroup: 8,
    refreshAssignmentsInterval: "20 millis",
    entityMessagePollInterval: "20 millis",
    entityReplyPollInterval: "20 millis",
    simulateRemoteSerialization: true
  })
  const sharding = Sharding.layer.pipe(
    Layer.provideMerge(Runners.layerNoop),
    Layer.provide(RunnerHealth.layerNoop),
    Layer.provideMerge(config)
  )
  const handlers = stageEntityLayer({
    runner: `memory:${index + 1}`,
    host: "memory-host",
    capacity,
    prepare
  })
  return Layer.provideMerge(handlers, sharding)
}

export const memoryCluster = (labels: ReadonlyArray<string>, options: MemoryClusterOptions = {}) => {
  const capacity = options.capacity ?? 2
  // The other runners live in scopes of their own (each has its own Sharding), on the shared storages.
  const others = Array.from({ length: Math.max(0, (options.runners ?? 1) - 1) }, (_, i) =>
    Layer.scopedDiscard(Layer.build(runnerLayer(labels, i + 1, capacity, options.prepare ?? asGiven))))
  const storages = Layer.mergeAll(MessageStorage.layerMemory, RunnerStorage.layerMemory, AttemptOutputMemory, ClusterPlacementsMemory).pipe(
    Layer.provide(ShardingConfig.layer())
  )
  return Layer.mergeAll(runnerLayer(labels, 0, capacity, options.prepare ?? asGiven), ...others).pipe(Layer.provideMerge(storages))
}
