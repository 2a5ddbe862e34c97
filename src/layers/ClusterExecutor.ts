/**
 * The `cloud` executor on @effect/cluster (DECISIONS B-3, issue 18): each attempt is a persisted
 * `Run` call to the stage entity, keyed by its idempotency key. Its output is not streamed: the
 * runner stores it (AttemptOutput) and the executor reads it while the call is pending, then the
 * rest once the result (which says how much there is) arrives, so none is lost however late the
 * executor looks. Needs a `Sharding` (a cluster client on PostgreSQL in production, the cluster's
 * test runner in unit tests) and the AttemptOutput the runners write to.
 */
import * as RunnerStorage from "@effect/cluster/RunnerStorage"
import * as Sharding from "@effect/cluster/Sharding"
import { Chunk, Clock, Duration, Effect, Layer, Schedule } from "effect"
import { groupOf, placementEntityId, type StageEvent, type StageLogEntry, type StageRequest, type Workspace } from "../domain/Cluster.js"
import { AttemptOutput } from "../services/AttemptOutput.js"
import { CloudExecutor, type ExecutionEvent, type ExecutionRequest, type ExecutorService } from "../services/Executor.js"
import { type ProcessExit, ProcessSpawnError } from "../services/ProcessRunner.js"
import { executorFromRun } from "./Executor.js"
import { defaultPlacement, placeAttempt, type PlacementPolicy } from "./internal/placement.js"
import { StageEntity } from "./internal/stageEntity.js"

/** How the executor finds the workspace a request carries (none: the runner uses `cwd` as given). */
export type WorkspaceOf = (request: ExecutionRequest) => Effect.Effect<Workspace | null, ProcessSpawnError>

export interface ClusterExecutorOptions {
  readonly workspaceOf?: WorkspaceOf | undefined
  /** How often the attempt's stored output is read while it runs. */
  readonly pollEvery?: Duration.DurationInput | undefined
  /** How long, after the result, reading may take to reach its last event (rows pruned meanwhile: it stops there). */
  readonly drainLimit?: Duration.DurationInput | undefined
  /** How long a stage waits for a runner with its labels to be connected before it fails. */
  readonly routingWait?: Duration.DurationInput | undefined
  /** How an attempt that a full runner refuses is placed again (internal/placement.ts). */
  readonly placement?: PlacementPolicy | undefined
}

const spawnError = (request: ExecutionRequest, reason: string, cause: unknown) =>
  new ProcessSpawnError({ command: request.command, cwd: request.cwd, reason, cause })

const toEvent = (event: StageEvent): ExecutionEvent =>
  event._tag === "Started"
    ? { _tag: "Started", pid: undefined, remote: { runner: event.runner, host: event.host } }
    : { _tag: "Output", stream: event.stream, chunks: Chunk.of(event.bytes) }

/**
 * A stage whose labels no healthy runner has fails at once with the reason, rather than waiting for
 * a runner that may never come.
 */
const checkRouting = (storage: RunnerStorage.RunnerStorage["Type"], request: ExecutionRequest, wait: Duration.DurationInput) =>
  Effect.gen(function*() {
    const group = groupOf(request.runsOn ?? [])
    const runners = yield* storage.getRunners.pipe(
      Effect.mapError((error) => spawnError(request, `cluster storage failed: ${error.message}`, error))
    )
    const healthy = runners.filter(([, ok]) => ok).map(([runner]) => runner)
    if (healthy.some((runner) => runner.groups.includes(group))) return
    const known = healthy.map((runner) => `${runner.address.host}:${runner.address.port} [${runner.groups.length <= 1 ? "no labels" : runner.groups.filter((g) => !g.includes("+") && g !== "default").join(",")}]`)
    return yield* Effect.fail(spawnError(
      request,
      healthy.length === 0
        ? "no runner is connected to the cluster; start one with `codex-orchestrator runner`"
        : `no runner has the labels ${group === "default" ? "(none)" : group.split("+").join(",")} (runners: ${known.join("; ")})`,
      undefined
    ))
  }).pipe(
    // A runner that is starting (or a storage read racing its registration) gets a moment.
    Effect.retry({ schedule: Schedule.spaced(Duration.millis(250)).pipe(Schedule.upTo(wait)) })
  )

/** How long a group found served by a healthy runner is taken as served without reading the runners again. */
const routingFreshMs = 5_000

/** The executor on the Sharding, RunnerStorage and AttemptOutput in context. */
export const makeClusterExecutor = (options: ClusterExecutorOptions = {}) =>
  Effect.gen(function*() {
    const clientFor = yield* Effect.provideService(StageEntity.client, Sharding.Sharding, yield* Sharding.Sharding)
    const storage = yield* RunnerStorage.RunnerStorage
    const output = yield* AttemptOutput
    const workspaceOf: WorkspaceOf = options.workspaceOf ?? (() => Effect.succeed(null))
    const pollEvery = options.pollEvery ?? Duration.millis(100)
    const drainLimit = options.drainLimit ?? Duration.seconds(10)
    const servedAt = new Map<string, number>()

    const run: ExecutorService["run"] = <E>(request: ExecutionRequest, onEvent: (event: ExecutionEvent) => Effect.Effect<void, E>) =>
      Effect.gen(function*() {
        // A group found served a moment ago is taken as served (a read of the runners a stage
        // otherwise): a runner lost since is a runner lost after the check, whose stages wait for
        // its shards to move either way.
        const group = groupOf(request.runsOn ?? [])
        const now = yield* Clock.currentTimeMillis
        if (now - (servedAt.get(group) ?? Number.NEGATIVE_INFINITY) > routingFreshMs) {
          yield* checkRouting(storage, request, options.routingWait ?? Duration.seconds(10))
          servedAt.set(group, yield* Clock.currentTimeMillis)
        }
        const workspace = yield* workspaceOf(request)
        const key = request.idempotencyKey
        // The sequence number of the last event handed on. A read and its hand-over are not
        // interrupted halfway, so stopping the tail between reads loses nothing and repeats nothing.
        let seen = 0
        const handOn = (entries: ReadonlyArray<StageLogEntry>) =>
          Effect.forEach(entries, (entry) =>
            Effect.zipRight(onEvent(toEvent(entry.event)), Effect.sync(() => {
              seen = entry.seq
            })), { discard: true })
        const pull = Effect.uninterruptible(Effect.flatMap(
          Effect.suspend(() => output.read(key, seen)).pipe(
            Effect.catchAll((error) => Effect.as(Effect.logWarning(`${request.stageId}: ${error.message}`), []))
          ),
          handOn
        ))
        const payload: StageRequest = {
          idempotencyKey: key,
          runId: request.runId,
          stageId: request.stageId,
          attempt: request.attempt,
          command: request.command,
          cwd: request.cwd,
          env: request.env,
          workspace,
          waitForCapacity: false
        }
        const call = placeAttempt(
          (placement, last) => clientFor(placementEntityId(request.runsOn ?? [], key, placement)).Run({ ...payload, waitForCapacity: last }),
          options.placement ?? defaultPlacement
        ).pipe(
          Effect.catchTags({
            RunnerBusy: (error) => Effect.fail(spawnError(request, `no runner took the attempt: ${error.message}`, error)),
            RemoteStartFailed: (error) => Effect.fail(spawnError(request, error.message, error)),
            MailboxFull: (error) => Effect.fail(spawnError(request, `the runner's mailbox is full (${error.message})`, error)),
            AlreadyProcessingMessage: (error) =>
              Effect.fail(spawnError(request, `the attempt is already running elsewhere (${error.message})`, error)),
            PersistenceError: (error) => Effect.fail(spawnError(request, `cluster storage failed: ${error.message}`, error))
          }),
          Effect.catchAllDefect((defect) => Effect.fail(spawnError(request, `cluster call failed: ${String(defect)}`, defect)))
        )
        // Output is read while the call is pending, from one interval after it is sent (before, there
        // is nothing yet: a read is a round trip on the way); the tail stops when the result is in.
        const result = yield* Effect.raceFirst(call, Effect.forever(Effect.delay(pull, pollEvery)))
        // The result carries its attempt's last events: when they reach back to what was handed on,
        // the rest is handed on from them, without a read.
        const carried = result.events.filter((entry) => entry.seq > seen)
        if (carried.length > 0 && carried[0]?.seq === seen + 1) yield* Effect.uninterruptible(handOn(carried))
        // Everything up to the result's last event was stored before the result: read up to it.
        // (Checked before reading: the tail often has it all already, and a read is a round trip.)
        const drained = yield* Effect.whenEffect(
          Effect.repeat(pull, { until: () => seen >= result.outputSeq, schedule: Schedule.spaced(Duration.millis(50)) }),
          Effect.sync(() => seen < result.outputSeq)
        ).pipe(Effect.timeoutOption(drainLimit))
        if (drained._tag === "None") {
          yield* Effect.logWarning(`${request.stageId}: output after event ${seen} of ${result.outputSeq} is no longer stored`)
        }
        const exit: ProcessExit = { exitCode: result.exitCode, signal: result.signal }
        yield* onEvent({ _tag: "Exited", exit, remote: { runner: result.runner, host: result.host } })
        return exit
      })

    return executorFromRun("cluster", run)
  })

/** CloudExecutor on the cluster client (Sharding) it is given. */
export const ClusterExecutorLive = (options: ClusterExecutorOptions = {}) =>
  Layer.effect(CloudExecutor, Effect.map(makeClusterExecutor(options), CloudExecutor.of))
