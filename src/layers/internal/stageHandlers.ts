/**
 * A runner's side of the stage entity (issue 18): `Run` runs the attempt's process on this machine
 * within the runner's capacity and stores what it prints (AttemptOutput) as it goes, so the
 * orchestrator reads it whenever it looks; the result says how far the stored events go.
 */
import { Chunk, Effect, Exit, Fiber, Layer, Option, Queue, Ref, Schedule } from "effect"
import { RemoteStartFailed, RunnerBusy, type StageEvent, type StageRequest, type StageResult } from "../../domain/Cluster.js"
import { AttemptOutput } from "../../services/AttemptOutput.js"
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
  /** Turns a request into the process to run (its workspace made ready), released when the attempt ends. */
  readonly prepare: (request: StageRequest) => Effect.Effect<PreparedAttempt, RemoteStartFailed>
  /** The process groups of the stages running now, for a runner that has to exit before they end. */
  readonly running?: Ref.Ref<ReadonlySet<number>> | undefined
}

const withGroup = (groups: ReadonlySet<number>, pid: number, present: boolean) => {
  const next = new Set(groups)
  if (present) next.add(pid)
  else next.delete(pid)
  return next
}

/**
 * Bounded: a storage slower than the process holds back its pipes instead of filling memory. While
 * one insert is on its way, what arrives meanwhile queues and goes in the next, so a chatty process
 * costs few round trips.
 */
const batchLimit = 256

/**
 * An attempt's writer: numbers its events after `after`, what is stored for the key already (a
 * redelivered attempt continues the sequence) and inserts them in batches. `close` waits for the last insert and
 * returns the last number stored. A batch that cannot be stored is dropped with a warning and not
 * numbered, so the orchestrator never waits for events that are not there.
 */
const makeWriter = (key: string, stageId: string, after: number) =>
  Effect.gen(function*() {
    const output = yield* AttemptOutput
    let stored = after
    const queue = yield* Queue.bounded<Option.Option<StageEvent>>(batchLimit)
    const flush = Effect.gen(function*() {
      const items = Chunk.toReadonlyArray(yield* Queue.takeBetween(queue, 1, batchLimit))
      const entries = items.flatMap((item) => Option.isSome(item) ? [item.value] : []).map((event, i) => ({ seq: stored + 1 + i, event }))
      yield* output.append(key, entries).pipe(
        Effect.retry(Schedule.spaced("100 millis").pipe(Schedule.intersect(Schedule.recurs(2)))),
        Effect.match({
          onFailure: (error) => Effect.logWarning(`${stageId}: ${entries.length} output events lost: ${error.message}`),
          onSuccess: () => {
            stored += entries.length
            return Effect.void
          }
        }),
        Effect.flatten
      )
      return items.some(Option.isNone)
    })
    const writing = yield* Effect.fork(Effect.repeat(flush, { until: (done) => done }))
    return {
      emit: (event: StageEvent) => Queue.offer(queue, Option.some(event)),
      close: Effect.zipRight(Queue.offer(queue, Option.none()), Fiber.join(writing)).pipe(Effect.map(() => stored))
    }
  })

/**
 * The stage entity's handlers on this runner; needs the ProcessRunner, the AttemptOutput (and
 * Sharding to register). The capacity is one semaphore for all attempts of the runner.
 */
export const stageEntityLayer = (setup: RunnerSetup) =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const capacity = yield* Effect.makeSemaphore(setup.capacity)
    const { host, runner } = setup
    const processes = yield* ProcessRunner
    const output = yield* AttemptOutput
    const attempt = (request: StageRequest) =>
      Effect.gen(function*() {
        yield* Effect.logInfo(`${request.stageId} (run ${request.runId}, attempt ${request.attempt}): ${request.command}`)
        // What is stored for the key already is read while the workspace is made: a round trip less on the way.
        const [after, prepared] = yield* Effect.all([
          output.last(request.idempotencyKey).pipe(
            Effect.catchAll((error) => Effect.as(Effect.logWarning(`${request.stageId}: ${error.message}`), 0))
          ),
          setup.prepare(request)
        ], { concurrency: 2 })
        const writer = yield* makeWriter(request.idempotencyKey, request.stageId, after)
        // The stage can tell where it runs (a script may print it, as the tests do).
        const spec = { ...prepared.spec, env: { ...prepared.spec.env, CODEX_ORCHESTRATOR_RUNNER: runner, CODEX_ORCHESTRATOR_RUNNER_HOST: host } }
        let group: number | undefined
        const track = (present: boolean) =>
          Effect.suspend(() => {
            const pid = group
            return setup.running === undefined || pid === undefined ? Effect.void : Ref.update(setup.running, (all) => withGroup(all, pid, present))
          })
        const exit = yield* processes.run(spec, {
          onStart: (pid) => {
            group = pid
            return Effect.zipRight(track(true), writer.emit({ _tag: "Started", runner, host, pid }))
          },
          onOutput: (stream, chunks) => writer.emit({ _tag: "Output", stream, bytes: concatBytes(chunks) })
        }).pipe(
          Effect.ensuring(track(false)),
          Effect.onExit((ended) => prepared.release(Exit.isSuccess(ended) && ended.value.exitCode === 0))
        )
        const outputSeq = yield* writer.close
        yield* Effect.logInfo(`${request.stageId} (run ${request.runId}) exited ${exit.exitCode ?? exit.signal}`)
        const result: StageResult = { exitCode: exit.exitCode, signal: exit.signal, runner, host, outputSeq }
        return result
      }).pipe(
        Effect.provideService(AttemptOutput, output),
        Effect.catchTag("ProcessSpawnError", (error: ProcessSpawnError) =>
          Effect.fail(new RemoteStartFailed({ reason: error.message, runner }))),
        Effect.tapError((error) => Effect.logWarning(`${request.stageId}: ${error.message}`)),
        Effect.onInterrupt(() => Effect.logInfo(`${request.stageId} (run ${request.runId}) cancelled`))
      )
    // A request that may go elsewhere is refused when every slot is taken (promptly: the
    // orchestrator places it on another runner); the last placement waits for a slot here.
    const run = (request: StageRequest) =>
      request.waitForCapacity
        ? capacity.withPermits(1)(attempt(request))
        : capacity.withPermitsIfAvailable(1)(attempt(request)).pipe(Effect.flatMap(Option.match({
          onSome: Effect.succeed,
          onNone: () =>
            Effect.zipRight(
              Effect.logDebug(`${request.stageId} (run ${request.runId}): at capacity, refused`),
              Effect.fail(new RunnerBusy({ runner, capacity: setup.capacity }))
            )
        })))
    return StageEntity.toLayer(StageEntity.of({ Run: (envelope) => run(envelope.payload) }), {
      concurrency: "unbounded"
    })
  }))
