/**
 * Where a remote attempt goes (issue 18). The cluster routes an entity to the runner holding its
 * shard (a hash of its id), busy or not; so the executor picks the runner itself, the one with a
 * free slot by its own count of what it sent where (a runner's capacity is its shard weight), and
 * then an entity id whose shard that runner holds (shardMap.ts). A burst of stages spreads over the
 * runners' slots at once, with no refused message on the way.
 *
 * The id is recorded under the attempt's idempotency key before the message is sent
 * (ClusterPlacements), so a resumed run or a second orchestrator with the same key sends to the same
 * entity and meets its stored message and result: an attempt never runs twice for one key. A runner
 * may still refuse (RunnerBusy, full with other orchestrators' stages): the refusal is the stored
 * reply of that entity, and the attempt moves on to another runner, the record with it.
 */
import * as EntityId from "@effect/cluster/EntityId"
import * as RunnerStorage from "@effect/cluster/RunnerStorage"
import * as Sharding from "@effect/cluster/Sharding"
import * as ShardingConfig from "@effect/cluster/ShardingConfig"
import { Deferred, Duration, Effect, Option, Predicate, Schedule } from "effect"
import { groupOf, placementEntityId, type RunnerBusy } from "../../domain/Cluster.js"
import { ClusterPlacements } from "../../services/ClusterPlacements.js"
import type { ExecutionRequest } from "../../services/Executor.js"
import { ProcessSpawnError } from "../../services/ProcessRunner.js"
import { makeRunnerLoad } from "./runnerLoad.js"
import { entityIdOn, ownerOf, runnersOf, shardMapOf } from "./shardMap.js"

export interface PlacementPolicy {
  /** Refusals after which the attempt's next placement waits for a slot on its runner instead. */
  readonly refusals: number
  /** How long a runner that refused is taken as full (unless one of this executor's attempts there ends sooner). */
  readonly fullFor: Duration.DurationInput
  /** While every runner is full, how often the choice is made again without an attempt ending (runners may have joined). */
  readonly recheck: Duration.DurationInput
  /** How long a reading of the runners is used before the runners are read again. */
  readonly fresh: Duration.DurationInput
  /** How long a stage waits for a runner with its labels to be connected before it fails. */
  readonly routingWait: Duration.DurationInput
}

export const defaultPlacement: PlacementPolicy = {
  refusals: 16,
  fullFor: Duration.millis(500),
  recheck: Duration.seconds(1),
  fresh: Duration.seconds(3),
  routingWait: Duration.seconds(10)
}

/**
 * A remote attempt that could not start (or, `started`, whose end cannot be known), as the stage
 * sees it: the request's command and cwd, and why.
 */
export const spawnError = (request: ExecutionRequest, reason: string, cause: unknown, started = false) =>
  new ProcessSpawnError({ command: request.command, cwd: request.cwd, reason, cause, ...(started ? { started } : {}) })

const isBusy = (error: unknown): error is RunnerBusy => Predicate.isTagged(error, "RunnerBusy")

/** Why no healthy runner serves `group`, in one line naming the runners there are. */
const noRunnerReason = (runners: ReadonlyArray<readonly [{ readonly address: { readonly host: string; readonly port: number }; readonly groups: ReadonlyArray<string> }, boolean]>, group: string) => {
  const healthy = runners.filter(([, ok]) => ok).map(([runner]) => runner)
  const known = healthy.map((runner) =>
    `${runner.address.host}:${runner.address.port} [${runner.groups.length <= 1 ? "no labels" : runner.groups.filter((g) => !g.includes("+") && g !== "default").join(",")}]`
  )
  return healthy.length === 0
    ? "no runner is connected to the cluster; start one with `codex-orchestrator runner`"
    : `no runner has the labels ${group === "default" ? "(none)" : group.split("+").join(",")} (runners: ${known.join("; ")})`
}

/** The placer on the Sharding, RunnerStorage, ShardingConfig and ClusterPlacements in context; one per executor. */
export const makePlacer = (policy: PlacementPolicy = defaultPlacement) =>
  Effect.gen(function*() {
    const sharding = yield* Sharding.Sharding
    const storage = yield* RunnerStorage.RunnerStorage
    const { shardsPerGroup } = yield* ShardingConfig.ShardingConfig
    const records = yield* ClusterPlacements
    const load = yield* makeRunnerLoad(policy.fullFor)
    // One reading of the runners at a time, shared by the stages that need it while it is fresh.
    const [reading, stale] = yield* Effect.cachedInvalidateWithTTL(
      Effect.map(storage.getRunners, (runners) => ({ runners, map: shardMapOf(runners, shardsPerGroup) })),
      policy.fresh
    )

    /** The shard map with a runner for `group`; read again when stale, or while none serves it (for up to routingWait). */
    const mapFor = (request: ExecutionRequest, group: string) =>
      Effect.gen(function*() {
        const { map, runners } = yield* reading.pipe(
          Effect.mapError((error) => spawnError(request, `cluster storage failed: ${error.message}`, error))
        )
        if (runnersOf(map, group).length > 0) return map
        return yield* Effect.fail(spawnError(request, noRunnerReason(runners, group), undefined))
      }).pipe(
        Effect.tapError(() => stale),
        // A runner that is starting (or a storage read racing its registration) gets a moment.
        Effect.retry({ schedule: Schedule.spaced(Duration.millis(250)).pipe(Schedule.upTo(policy.routingWait)) })
      )

    /**
     * Takes a slot on a runner of `group`; while every one is full, waits for one of this executor's
     * attempts to end (or a refusal to lapse, or the recheck). Only the waits are interruptible
     * (`restore`): a slot taken is always handed to the caller, which releases it.
     */
    const takeSlot = (restore: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>, request: ExecutionRequest, group: string) =>
      Effect.gen(function*() {
        while (true) {
          // Taken before the load is read: an attempt ending after the read is not missed.
          const signal = yield* load.released
          const map = yield* restore(mapFor(request, group))
          const { choice, lapse } = yield* load.take(map, group, request.idempotencyKey)
          if (choice === undefined) return yield* Effect.fail(spawnError(request, `no runner serves ${group}`, undefined))
          if (choice.free) return { map, runner: choice.runner.name }
          yield* restore(Deferred.await(signal).pipe(Effect.timeoutOption(Duration.millis(Math.min(Duration.toMillis(policy.recheck), lapse)))))
        }
      })

    /**
     * Sends the attempt of `request` with `send(entityId, last)` until a runner takes it; `last` says
     * the runner is to wait for a slot rather than refuse. Any failure but a refusal ends it.
     */
    const place = <A, E, R>(
      request: ExecutionRequest,
      send: (entityId: string, last: boolean) => Effect.Effect<A, E, R>
    ): Effect.Effect<A, E | ProcessSpawnError, R> => {
      const labels = request.runsOn ?? []
      const group = groupOf(labels)
      const key = request.idempotencyKey
      const shardOf = (entityId: string) => sharding.getShardId(EntityId.make(entityId), group).id
      // The entities that refused this attempt: each keeps its refusal as the stored reply.
      const refusedAt = new Set<string>()
      // `expected`: the entity that refused the attempt last, which the record moves on from.
      const attempt = (refused: number, expected: string | null): Effect.Effect<A, E | ProcessSpawnError, R> =>
        Effect.uninterruptibleMask((restore) =>
          Effect.flatMap(takeSlot(restore, request, group), ({ map, runner }) => {
            let held: string | undefined = runner
            return restore(Effect.gen(function*() {
              const wanted = entityIdOn(map, group, runner, (placement) => placementEntityId(labels, key, placement), shardOf, refusedAt)
              const entityId = yield* records.place(key, expected, wanted).pipe(
                Effect.mapError((error) => spawnError(request, error.message, error))
              )
              // Counted against the runner it goes to, which is the chosen one unless a record said otherwise.
              const owner = ownerOf(map, group, shardOf(entityId))
              yield* Effect.uninterruptible(Effect.zipRight(load.move(held, owner), Effect.sync(() => {
                held = owner
              })))
              const last = refused >= policy.refusals
              // A refusal of the last placement (a runner of an older version, which does not wait) ends it.
              const outcome = yield* send(entityId, last).pipe(
                Effect.map(Option.some),
                Effect.catchAll((error) => (isBusy(error) && !last ? Effect.succeed(Option.none<A>()) : Effect.fail(error)))
              )
              return { outcome, entityId, owner }
            })).pipe(Effect.ensuring(Effect.suspend(() => load.release(held))))
          })
        ).pipe(Effect.flatMap(({ entityId, outcome, owner }) =>
          Option.isSome(outcome)
            ? Effect.succeed(outcome.value)
            // Marked after its slot is released (which clears a mark): it is full, whatever ours do.
            : Effect.zipRight(load.refusedBy(owner), Effect.suspend(() => {
              refusedAt.add(entityId)
              return attempt(refused + 1, entityId)
            }))
        ))
      return attempt(0, null)
    }

    return { place }
  })
