/**
 * The `cloud` executor on @effect/cluster (DECISIONS B-3, issue 18): each attempt is a persisted
 * `Run` call to the stage entity, keyed by its idempotency key. Its output is not streamed: the
 * runner stores it (AttemptOutput) and the executor reads it while the call is pending, then the
 * rest once the result (which says how much there is) arrives, so none is lost however late the
 * executor looks. Needs a `Sharding` (a cluster client on PostgreSQL in production, the cluster's
 * test runner in unit tests) and the AttemptOutput the runners write to.
 */
import * as Sharding from "@effect/cluster/Sharding"
import { Chunk, Clock, Duration, Effect, Fiber, Layer, Schedule } from "effect"
import { type StageEvent, type StageLogEntry, type StageRequest, type Workspace } from "../domain/Cluster.js"
import { AttemptOutput, type AttemptOutputError } from "../services/AttemptOutput.js"
import { CloudExecutor, type ExecutionEvent, type ExecutionRequest, type ExecutorService } from "../services/Executor.js"
import { type ProcessExit, ProcessSpawnError } from "../services/ProcessRunner.js"
import { executorFromRun } from "./Executor.js"
import { defaultPlacement, makePlacer, type PlacementPolicy, spawnError } from "./cluster/placement.js"
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
  /** How attempts are placed on runners (cluster/placement.ts). */
  readonly placement?: Partial<PlacementPolicy> | undefined
  /** How long the attempt's output may go unread (the database not answering) before the attempt fails. */
  readonly storageOutage?: Duration.DurationInput | undefined
}

const toEvent = (event: StageEvent): ExecutionEvent =>
  event._tag === "Started"
    ? { _tag: "Started", pid: undefined, remote: { runner: event.runner, host: event.host } }
    : { _tag: "Output", stream: event.stream, chunks: Chunk.of(event.bytes) }

/**
 * A read of an attempt's output that fails is tried again on the next poll, said once (and once
 * more when reads work again); when reads have failed for `limit`, the attempt fails: the database
 * is gone, its result could not be read (before, the run waited for it forever, warning at each poll).
 */
const outageWatch = (request: ExecutionRequest, limit: Duration.Duration) => {
  let failingSince: number | undefined
  return {
    answered: () =>
      Effect.suspend(() => {
        if (failingSince === undefined) return Effect.void
        failingSince = undefined
        return Effect.logInfo(`${request.stageId}: the cluster database answers again`)
      }),
    unanswered: (error: AttemptOutputError) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        if (failingSince === undefined) {
          failingSince = now
          yield* Effect.logWarning(
            `${request.stageId}: ${error.message} (retrying while the cluster database does not answer, for at most ${Duration.format(limit)})`
          )
        } else if (now - failingSince >= Duration.toMillis(limit)) {
          return yield* spawnError(
            request,
            `the cluster database has not answered for ${Duration.format(limit)} (${error.message}); ` +
              "the stage's result cannot be known: check the database and run again (resume finds a result stored meanwhile)",
            error,
            true
          )
        }
        return [] as ReadonlyArray<StageLogEntry>
      })
  }
}

/** The executor on the Sharding, RunnerStorage, ShardingConfig, ClusterPlacements and AttemptOutput in context. */
export const makeClusterExecutor = (options: ClusterExecutorOptions = {}) =>
  Effect.gen(function*() {
    const clientFor = yield* Effect.provideService(StageEntity.client, Sharding.Sharding, yield* Sharding.Sharding)
    const placer = yield* makePlacer({
      ...defaultPlacement,
      ...options.placement,
      ...(options.routingWait === undefined ? {} : { routingWait: options.routingWait })
    })
    const output = yield* AttemptOutput
    const workspaceOf: WorkspaceOf = options.workspaceOf ?? (() => Effect.succeed(null))
    const pollEvery = options.pollEvery ?? Duration.millis(100)
    const drainLimit = options.drainLimit ?? Duration.seconds(10)
    const storageOutage = Duration.decode(options.storageOutage ?? Duration.seconds(60))

    const run: ExecutorService["run"] = <E>(request: ExecutionRequest, onEvent: (event: ExecutionEvent) => Effect.Effect<void, E>) =>
      Effect.gen(function*() {
        // The workspace snapshot (a run's first remote stage takes it) goes side by side with placing
        // the attempt (a reading of the runners, the record); the message waits for both.
        const workspace = yield* Effect.fork(workspaceOf(request))
        const key = request.idempotencyKey
        // The sequence number of the last event handed on. A read and its hand-over are not
        // interrupted halfway, so stopping the tail between reads loses nothing and repeats nothing.
        let seen = 0
        const handOn = (entries: ReadonlyArray<StageLogEntry>) =>
          Effect.forEach(entries, (entry) =>
            Effect.zipRight(onEvent(toEvent(entry.event)), Effect.sync(() => {
              seen = entry.seq
            })), { discard: true })
        const outage = outageWatch(request, storageOutage)
        const pull = Effect.uninterruptible(Effect.flatMap(
          Effect.suspend(() => output.read(key, seen)).pipe(
            Effect.tap(outage.answered),
            Effect.catchAll(outage.unanswered)
          ),
          handOn
        ))
        const payload = (workspace: Workspace | null, waitForCapacity: boolean): StageRequest => ({
          idempotencyKey: key,
          runId: request.runId,
          stageId: request.stageId,
          attempt: request.attempt,
          command: request.command,
          cwd: request.cwd,
          env: request.env,
          workspace,
          waitForCapacity
        })
        const call = placer.place(request, (entityId, last) =>
          Effect.flatMap(Fiber.join(workspace), (taken) => clientFor(entityId).Run(payload(taken, last)))).pipe(
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
        // is nothing yet: a read is a round trip on the way); the tail stops when the result is in
        // (interruptible where the caller is not, else the race would wait for it for ever).
        const result = yield* Effect.raceFirst(call, Effect.interruptible(Effect.forever(Effect.delay(pull, pollEvery))))
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
        const kept = result.keptWorktree
        // Said in the stage's own log (and so its summary), not only in the runner's.
        if (kept !== undefined) {
          const line = `runner ${result.runner} kept this attempt's worktree (runner --keep-failed): ${kept}\n`
          yield* onEvent({ _tag: "Output", stream: "stderr", chunks: Chunk.of(new TextEncoder().encode(line)) })
        }
        yield* onEvent({ _tag: "Exited", exit, remote: { runner: result.runner, host: result.host }, keptWorktree: kept })
        return exit
      })

    return executorFromRun("cluster", run)
  })

/** CloudExecutor on the cluster client (Sharding) it is given. */
export const ClusterExecutorLive = (options: ClusterExecutorOptions = {}) =>
  Layer.effect(CloudExecutor, Effect.map(makeClusterExecutor(options), CloudExecutor.of))
