/**
 * A runner's side of the stage entity (issue 18): `Run` runs the attempt's process on this machine
 * within the runner's capacity, `Watch` streams what it prints. One entity instance serves one
 * attempt; the two calls meet in the instance's channel.
 */
import { Clock, Deferred, type Duration, Effect, Exit, Layer, Option, Queue, Ref, Schedule, Stream } from "effect"
import { RemoteStartFailed, type StageEvent, type StageRequest, type StageResult } from "../../domain/Cluster.js"
import { ProcessRunner, type ProcessSpawnError } from "../../services/ProcessRunner.js"
import type { PreparedAttempt } from "./runnerWorkspace.js"
import { StageEntity } from "./stageEntity.js"
import { concatBytes } from "./bytes.js"

/** What the runner says about itself and how much it takes on. */
export interface RunnerSetup {
  /** The runner's address (`host:port`), recorded in manifests. */
  readonly runner: string
  readonly host: string
  /** Stages at once on this runner. */
  readonly capacity: number
  readonly heartbeatInterval: Duration.DurationInput
  /** How long an attempt waits for its watcher before it starts without one (nobody would see its first output). */
  readonly watchGrace: Duration.DurationInput
  /** Turns a request into the process to run (its workspace made ready), released when the attempt ends. */
  readonly prepare: (request: StageRequest) => Effect.Effect<PreparedAttempt, RemoteStartFailed>
}

/** Bounded, so a watcher that reads slowly holds back the process's pipes instead of filling memory. */
const channelCapacity = 64

/**
 * The attempt's events on their way to the watcher. With a watcher attached, a full channel waits
 * for it (backpressure); with none (the orchestrator is gone), events that do not fit are dropped,
 * so an unwatched process never blocks on its output.
 */
const makeChannel = Effect.gen(function*() {
  const queue = yield* Queue.bounded<Option.Option<StageEvent>>(channelCapacity)
  const watchers = yield* Ref.make(0)
  const watched = yield* Deferred.make<void>()
  let sent = 0
  const offer = (item: Option.Option<StageEvent>) =>
    Effect.flatMap(Ref.get(watchers), (count) =>
      count > 0
        ? Queue.offer(queue, item)
        : Effect.flatMap(Queue.isFull(queue), (full) => (full ? Effect.succeed(false) : Queue.offer(queue, item)))).pipe(
        Effect.map((queued) => {
          if (queued && Option.isSome(item)) sent += 1
        })
      )
  const watch = Stream.unwrapScoped(
    Effect.acquireRelease(
      Effect.zipRight(Ref.update(watchers, (n) => n + 1), Deferred.succeed(watched, undefined)),
      () => Ref.update(watchers, (n) => n - 1)
    ).pipe(Effect.as(Stream.concat(
      Stream.make<Array<StageEvent>>({ _tag: "Attached" }),
      Stream.fromQueue(queue).pipe(Stream.takeWhile(Option.isSome), Stream.map((item) => item.value))
    )))
  )
  return {
    emit: (event: StageEvent) => offer(Option.some(event)),
    end: offer(Option.none()),
    watch,
    watched: Deferred.await(watched),
    sent: Effect.sync(() => sent)
  }
})

/**
 * The stage entity's handlers on this runner; needs the ProcessRunner (and Sharding to register).
 * The capacity is one semaphore for all attempts of the runner.
 */
export const stageEntityLayer = (setup: RunnerSetup) =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const capacity = yield* Effect.makeSemaphore(setup.capacity)
    const { host, runner } = setup
    const handlers = Effect.gen(function*() {
      const processes = yield* ProcessRunner
      const channel = yield* makeChannel
      const heartbeats = Clock.currentTimeMillis.pipe(
        Effect.flatMap((at) => channel.emit({ _tag: "Heartbeat", at })),
        Effect.repeat(Schedule.spaced(setup.heartbeatInterval)),
        Effect.delay(setup.heartbeatInterval)
      )
      const attempt = (request: StageRequest) =>
        Effect.gen(function*() {
          yield* Effect.logInfo(`${request.stageId} (run ${request.runId}, attempt ${request.attempt}): ${request.command}`)
          yield* Effect.ignore(Effect.timeout(channel.watched, setup.watchGrace))
          const prepared = yield* setup.prepare(request)
          // The stage can tell where it runs (a script may print it, as the tests do).
          const spec = { ...prepared.spec, env: { ...prepared.spec.env, CODEX_ORCHESTRATOR_RUNNER: runner, CODEX_ORCHESTRATOR_RUNNER_HOST: host } }
          const exit = yield* Effect.raceFirst(
            processes.run(spec, {
              onStart: (pid) => channel.emit({ _tag: "Started", runner, host, pid }),
              onOutput: (stream, chunks) => channel.emit({ _tag: "Output", stream, bytes: concatBytes(chunks) })
            }),
            Effect.zipRight(heartbeats, Effect.never)
          ).pipe(Effect.onExit((ended) => prepared.release(Exit.isSuccess(ended) && ended.value.exitCode === 0)))
          yield* channel.end
          yield* Effect.logInfo(`${request.stageId} (run ${request.runId}) exited ${exit.exitCode ?? exit.signal}`)
          const result: StageResult = { exitCode: exit.exitCode, signal: exit.signal, runner, host, events: yield* channel.sent }
          return result
        }).pipe(
          Effect.catchTag("ProcessSpawnError", (error: ProcessSpawnError) =>
            Effect.fail(new RemoteStartFailed({ reason: error.message, runner }))),
          Effect.tapError((error) => Effect.zipRight(channel.end, Effect.logWarning(`${request.stageId}: ${error.message}`))),
          Effect.onInterrupt(() => Effect.logInfo(`${request.stageId} (run ${request.runId}) cancelled`))
        )
      return StageEntity.of({
        Run: (envelope) => capacity.withPermits(1)(attempt(envelope.payload)),
        Watch: () => channel.watch
      })
    })
    return StageEntity.toLayer(handlers, { concurrency: "unbounded" })
  }))
