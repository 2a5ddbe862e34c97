/**
 * The `cloud` executor on @effect/cluster (DECISIONS B-3, issue 18): each attempt is a persisted
 * `Run` call to the stage entity, keyed by its idempotency key, and its output arrives over a
 * volatile `Watch` stream from whichever runner has it. Needs a `Sharding` (a cluster client on
 * PostgreSQL in production, the cluster's test runner in unit tests).
 */
import * as RunnerStorage from "@effect/cluster/RunnerStorage"
import * as Sharding from "@effect/cluster/Sharding"
import { Chunk, Duration, Effect, Fiber, Layer, Option, Schedule, Stream } from "effect"
import { entityIdOf, groupOf, type StageEvent, type StageRequest, type Workspace } from "../domain/Cluster.js"
import { CloudExecutor, type ExecutionEvent, type ExecutionRequest, type ExecutorService } from "../services/Executor.js"
import { type ProcessExit, ProcessSpawnError } from "../services/ProcessRunner.js"
import { executorFromRun } from "./Executor.js"
import { StageEntity } from "./internal/stageEntity.js"

/** How the executor finds the workspace a request carries (none: the runner uses `cwd` as given). */
export type WorkspaceOf = (request: ExecutionRequest) => Effect.Effect<Workspace | null, ProcessSpawnError>

export interface ClusterExecutorOptions {
  readonly workspaceOf?: WorkspaceOf | undefined
  /** How long, after the result, the output stream may still deliver what it holds. */
  readonly drainGrace?: Duration.DurationInput | undefined
  /** The same, while the stream has not reached the runner yet (a cold client waits for shard assignments). */
  readonly attachGrace?: Duration.DurationInput | undefined
  /** Between two tries to reach the attempt's output stream (its runner may have changed). */
  readonly rewatchEvery?: Duration.DurationInput | undefined
  /** How long a stage waits for a runner with its labels to be connected before it fails. */
  readonly routingWait?: Duration.DurationInput | undefined
}

const spawnError = (request: ExecutionRequest, reason: string, cause: unknown) =>
  new ProcessSpawnError({ command: request.command, cwd: request.cwd, reason, cause })

const toEvent = (event: Exclude<StageEvent, { readonly _tag: "Attached" }>): ExecutionEvent => {
  switch (event._tag) {
    case "Started":
      return { _tag: "Started", pid: undefined, remote: { runner: event.runner, host: event.host } }
    case "Output":
      return { _tag: "Output", stream: event.stream, chunks: Chunk.of(event.bytes) }
    case "Heartbeat":
      return { _tag: "Heartbeat", at: event.at }
  }
}

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

/** The executor on the Sharding and RunnerStorage in context. */
export const makeClusterExecutor = (options: ClusterExecutorOptions = {}) =>
  Effect.gen(function*() {
    const clientFor = yield* Effect.provideService(StageEntity.client, Sharding.Sharding, yield* Sharding.Sharding)
    const storage = yield* RunnerStorage.RunnerStorage
    const workspaceOf: WorkspaceOf = options.workspaceOf ?? (() => Effect.succeed(null))
    const drainGrace = options.drainGrace ?? Duration.seconds(2)
    const attachGrace = options.attachGrace ?? Duration.seconds(10)
    const rewatch = Schedule.spaced(options.rewatchEvery ?? Duration.seconds(1))

    const run: ExecutorService["run"] = <E>(request: ExecutionRequest, onEvent: (event: ExecutionEvent) => Effect.Effect<void, E>) =>
      Effect.gen(function*() {
        yield* checkRouting(storage, request, options.routingWait ?? Duration.seconds(10))
        const workspace = yield* workspaceOf(request)
        const client = clientFor(entityIdOf(request.runsOn ?? [], request.idempotencyKey))
        const lock = yield* Effect.makeSemaphore(1)
        let received = 0
        let attached = false
        const emit = (event: StageEvent) => {
          if (event._tag === "Attached") {
            attached = true
            return Effect.void
          }
          received += 1
          return lock.withPermits(1)(onEvent(toEvent(event)))
        }
        // The output stream: a stream that fails (its runner is gone) is opened again, on whichever
        // runner has the attempt now, until it ends cleanly or the result is in.
        const watchOnce = Stream.runFoldEffect(
          client.Watch({ idempotencyKey: request.idempotencyKey }).pipe(
            Stream.map(Option.some),
            Stream.catchAll(() => Stream.make(Option.none<StageEvent>()))
          ),
          true,
          (_, item) => Option.match(item, { onNone: () => Effect.succeed(false), onSome: (event) => Effect.as(emit(event), true) })
        )
        const watching = yield* Effect.fork(Effect.repeat(watchOnce, { schedule: rewatch, while: (clean) => !clean }))
        const payload: StageRequest = {
          idempotencyKey: request.idempotencyKey,
          runId: request.runId,
          stageId: request.stageId,
          attempt: request.attempt,
          command: request.command,
          cwd: request.cwd,
          env: request.env,
          workspace
        }
        const result = yield* client.Run(payload).pipe(
          Effect.catchTags({
            RemoteStartFailed: (error) => Effect.fail(spawnError(request, error.message, error)),
            MailboxFull: (error) => Effect.fail(spawnError(request, `the runner's mailbox is full (${error.message})`, error)),
            AlreadyProcessingMessage: (error) =>
              Effect.fail(spawnError(request, `the attempt is already running elsewhere (${error.message})`, error)),
            PersistenceError: (error) => Effect.fail(spawnError(request, `cluster storage failed: ${error.message}`, error))
          }),
          Effect.catchAllDefect((defect) => Effect.fail(spawnError(request, `cluster call failed: ${String(defect)}`, defect)))
        )
        // The result and the stream travel apart: the stream may still hold output. The result says
        // how much there was. A stream not attached yet (a cold client waits for shard assignments)
        // gets longer; a result answered from storage (nothing runs) waits out the shorter grace.
        if (received < result.events) {
          yield* Effect.ignore(Effect.timeout(Fiber.join(watching), attached ? drainGrace : attachGrace))
        }
        yield* Fiber.interrupt(watching)
        const exit: ProcessExit = { exitCode: result.exitCode, signal: result.signal }
        yield* lock.withPermits(1)(onEvent({ _tag: "Exited", exit, remote: { runner: result.runner, host: result.host } }))
        return exit
      })

    return executorFromRun("cluster", run)
  })

/** CloudExecutor on the cluster client (Sharding) it is given. */
export const ClusterExecutorLive = (options: ClusterExecutorOptions = {}) =>
  Layer.effect(CloudExecutor, Effect.map(makeClusterExecutor(options), CloudExecutor.of))
