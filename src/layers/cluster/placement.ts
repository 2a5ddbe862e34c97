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
import { Clock, Deferred, Duration, Effect, Option, Predicate, Ref, Schedule } from "effect"
import { groupOf, placementEntityId, type RunnerBusy } from "../../domain/Cluster.js"
import { ClusterPlacements } from "../../services/ClusterPlacements.js"
import type { ExecutionRequest } from "../../services/Executor.js"
import { ProcessSpawnError } from "../../services/ProcessRunner.js"
import { chooseRunner, entityIdOn, ownerOf, type RunnerLoad, runnersOf, type ShardMap, shardMapOf } from "./shardMap.js"

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

const spawnError = (request: ExecutionRequest, reason: string, cause: unknown) =>
  new ProcessSpawnError({ command: request.command, cwd: request.cwd, reason, cause })

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

/**
 * This executor's count of its attempts on each runner, the runners that just refused one, and a
 * signal completed (and replaced) whenever one of its attempts ends: a slot may be free.
 */
const makeLoad = (policy: PlacementPolicy) =>
  Effect.gen(function*() {
    const load = yield* Ref.make<RunnerLoad>({ inFlight: new Map(), fullUntil: new Map() })
    const released = yield* Ref.make(yield* Deferred.make<void>())
    const count = (runner: string | undefined, delta: number) =>
      Ref.update(load, ({ fullUntil, inFlight }) => {
        if (runner === undefined) return { fullUntil, inFlight }
        const next = new Map(inFlight).set(runner, Math.max(0, (inFlight.get(runner) ?? 0) + delta))
        // One of ours ended there: a slot is free now, whoever filled the others.
        const marks = delta < 0 ? new Map([...fullUntil].filter(([name]) => name !== runner)) : fullUntil
        return { fullUntil: marks, inFlight: next }
      })
    const pulse = Effect.flatMap(Deferred.make<void>(), (next) =>
      Effect.flatMap(Ref.getAndSet(released, next), (previous) => Deferred.succeed(previous, undefined)))
    const holdingSlot = <A, E, R>(runner: string | undefined, effect: Effect.Effect<A, E, R>) =>
      Effect.acquireUseRelease(count(runner, 1), () => effect, () => Effect.zipRight(count(runner, -1), pulse))
    const refusedBy = (runner: string | undefined) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Ref.update(load, ({ fullUntil, inFlight }) => ({
          inFlight,
          fullUntil: runner === undefined ? fullUntil : new Map(fullUntil).set(runner, now + Duration.toMillis(policy.fullFor))
        })))

    return { load, released, holdingSlot, refusedBy }
  })

/** The placer on the Sharding, RunnerStorage, ShardingConfig and ClusterPlacements in context; one per executor. */
export const makePlacer = (policy: PlacementPolicy = defaultPlacement) =>
  Effect.gen(function*() {
    const sharding = yield* Sharding.Sharding
    const storage = yield* RunnerStorage.RunnerStorage
    const { shardsPerGroup } = yield* ShardingConfig.ShardingConfig
    const records = yield* ClusterPlacements
    const reading = yield* Ref.make<{ readonly map: ShardMap; readonly at: number } | undefined>(undefined)
    const { holdingSlot, load, refusedBy, released } = yield* makeLoad(policy)

    /** The shard map, read again when stale or when it has no runner for `group` (then for up to routingWait). */
    const mapFor = (request: ExecutionRequest, group: string) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const known = yield* Ref.get(reading)
        if (known !== undefined && now - known.at < Duration.toMillis(policy.fresh) && runnersOf(known.map, group).length > 0) {
          return known.map
        }
        const runners = yield* storage.getRunners.pipe(
          Effect.mapError((error) => spawnError(request, `cluster storage failed: ${error.message}`, error))
        )
        const map = shardMapOf(runners, shardsPerGroup)
        if (runnersOf(map, group).length === 0) return yield* Effect.fail(spawnError(request, noRunnerReason(runners, group), undefined))
        yield* Ref.set(reading, { map, at: yield* Clock.currentTimeMillis })
        return map
      }).pipe(
        // A runner that is starting (or a storage read racing its registration) gets a moment.
        Effect.retry({ schedule: Schedule.spaced(Duration.millis(250)).pipe(Schedule.upTo(policy.routingWait)) })
      )

    /** A runner of `group` with a free slot; while every one is full, waits for one of this executor's attempts to end. */
    const chooseFor = (request: ExecutionRequest, group: string) =>
      Effect.gen(function*() {
        while (true) {
          // Taken before the load is read: an attempt ending after the read is not missed.
          const signal = yield* Ref.get(released)
          const map = yield* mapFor(request, group)
          const now = yield* Clock.currentTimeMillis
          const current = yield* Ref.get(load)
          const choice = chooseRunner(map, group, current, request.idempotencyKey, now)
          if (choice === undefined || choice.free) return { map, runner: choice?.runner.name ?? "" }
          const lapses = Array.from(current.fullUntil.values()).filter((until) => until > now).map((until) => until - now)
          const wait = Math.min(Duration.toMillis(policy.recheck), ...lapses)
          yield* Deferred.await(signal).pipe(Effect.timeoutOption(Duration.millis(wait)))
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
      // `expected`: the entity that refused the attempt last, which the record moves on from.
      const attempt = (refused: number, expected: string | null): Effect.Effect<A, E | ProcessSpawnError, R> =>
        Effect.gen(function*() {
          const { map, runner } = yield* chooseFor(request, group)
          const wanted = entityIdOn(map, group, runner, (placement) => placementEntityId(labels, key, placement), shardOf)
          const entityId = yield* records.place(key, expected, wanted).pipe(
            Effect.mapError((error) => spawnError(request, error.message, error))
          )
          // Counted against the runner it goes to, which is the chosen one unless a record said otherwise.
          const owner = ownerOf(map, group, shardOf(entityId))
          const last = refused >= policy.refusals
          // A refusal of the last placement (a runner of an older version, which does not wait) ends it.
          const outcome = yield* holdingSlot(owner, send(entityId, last)).pipe(
            Effect.map(Option.some),
            Effect.catchAll((error) => (isBusy(error) && !last ? Effect.succeed(Option.none<A>()) : Effect.fail(error)))
          )
          if (Option.isSome(outcome)) return outcome.value
          yield* refusedBy(owner)
          return yield* attempt(refused + 1, entityId)
        })
      return attempt(0, null)
    }

    return { place }
  })
