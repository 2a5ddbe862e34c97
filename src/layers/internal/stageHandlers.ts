/**
 * A runner's side of the stage entity (issue 18): `Run` runs the attempt's process on this machine
 * within the runner's capacity and stores what it prints (AttemptOutput) as it goes, so the
 * orchestrator reads it whenever it looks; the result says how far the stored events go.
 */
import { Chunk, Effect, Exit, Fiber, Layer, Option, Queue, Ref, Schedule } from "effect"
import {
  RemoteStartFailed,
  resultEventBytes,
  RunnerBusy,
  type StageEvent,
  type StageLogEntry,
  type StageRequest,
  type StageResult
} from "../../domain/Cluster.js"
import { AttemptOutput } from "../../services/AttemptOutput.js"
import { ProcessRunner, type ProcessSpawnError } from "../../services/ProcessRunner.js"
import type { PreparedAttempt } from "./runnerWorkspace.js"
import { StageEntity } from "./stageEntity.js"
import { concatBytes } from "../../domain/Bytes.js"

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

/** An event's weight against resultEventBytes: its output bytes. */
const sizeOf = (entry: StageLogEntry) => (entry.event._tag === "Output" ? entry.event.bytes.length : 0)

/**
 * An attempt's writer: numbers its events after `after`, what is stored for the key already (a
 * redelivered attempt continues the sequence) and inserts them in batches. `close` waits for the
 * last insert and returns the last number stored, with the last events stored (up to
 * resultEventBytes of output). A batch that cannot be stored is dropped with a warning and not
 * numbered, so the orchestrator never waits for events that are not there.
 */
const makeWriter = (key: string, stageId: string, after: Effect.Effect<number>) =>
  Effect.gen(function*() {
    const output = yield* AttemptOutput
    let stored = 0
    // The last events stored, up to resultEventBytes of output: what the result carries back.
    let recent: Array<StageLogEntry> = []
    let recentBytes = 0
    const keepRecent = (entries: ReadonlyArray<StageLogEntry>) => {
      for (const entry of entries) {
        recent.push(entry)
        recentBytes += sizeOf(entry)
      }
      // Dropped from the front once a batch (a slice a batch, not a shift an event).
      let drop = 0
      for (const entry of recent) {
        if (recentBytes <= resultEventBytes) break
        recentBytes -= sizeOf(entry)
        drop += 1
      }
      if (drop > 0) recent = recent.slice(drop)
    }
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
            keepRecent(entries)
            return Effect.void
          }
        }),
        Effect.flatten
      )
      return items.some(Option.isNone)
    })
    // Numbering waits for `after`; the events meanwhile wait in the queue (the process does not).
    const writing = yield* Effect.fork(Effect.zipRight(
      Effect.flatMap(after, (n) =>
        Effect.sync(() => {
          stored = n
        })),
      Effect.repeat(flush, { until: (done) => done })
    ))
    return {
      emit: (event: StageEvent) => Queue.offer(queue, Option.some(event)),
      close: Effect.zipRight(Queue.offer(queue, Option.none()), Fiber.join(writing)).pipe(Effect.map(() => ({ stored, recent })))
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
        // What is stored for the key already (a redelivered attempt continues its numbering) is read
        // while the workspace is made and the process starts: it is needed by the first insert only.
        const after = yield* Effect.fork(output.last(request.idempotencyKey).pipe(
          Effect.catchAll((error) => Effect.as(Effect.logWarning(`${request.stageId}: ${error.message}`), 0))
        ))
        const prepared = yield* setup.prepare(request)
        const writer = yield* makeWriter(request.idempotencyKey, request.stageId, Fiber.join(after))
        // The stage can tell where it runs (a script may print it, as the tests do).
        const spec = { ...prepared.spec, env: { ...prepared.spec.env, CODEX_ORCHESTRATOR_RUNNER: runner, CODEX_ORCHESTRATOR_RUNNER_HOST: host } }
        let group: number | undefined
        let kept: string | undefined
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
          Effect.onExit((ended) =>
            Effect.map(
              prepared.release({
                succeeded: Exit.isSuccess(ended) && ended.value.exitCode === 0,
                exited: Exit.isSuccess(ended),
                group
              }),
              (tree) => {
                kept = tree
              }
            )),
          // A process that could not start in its worktree: the worktree kept (for a look) is named with why.
          Effect.catchTag("ProcessSpawnError", (error: ProcessSpawnError) =>
            Effect.fail(
              new RemoteStartFailed({
                reason: `${error.message}${kept === undefined ? "" : `; its worktree is kept (runner --keep-failed): ${kept}`}`,
                runner
              })
            ))
        )
        const { recent, stored: outputSeq } = yield* writer.close
        yield* Effect.logInfo(`${request.stageId} (run ${request.runId}) exited ${exit.exitCode ?? exit.signal}`)
        const result: StageResult = {
          exitCode: exit.exitCode,
          signal: exit.signal,
          runner,
          host,
          outputSeq,
          events: recent,
          ...(kept === undefined ? {} : { keptWorktree: kept })
        }
        return result
      }).pipe(
        Effect.provideService(AttemptOutput, output),
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
