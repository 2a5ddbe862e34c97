import { Clock, Effect, Exit, Layer, Queue, Schedule, Stream, Take } from "effect"
import {
  type ExecutionEvent,
  type ExecutionRequest,
  Executor,
  type ExecutorService
} from "../services/Executor.js"
import { OrchestratorConfig } from "../services/OrchestratorConfig.js"
import { type ProcessExit, ProcessRunner, type ProcessSpawnError } from "../services/ProcessRunner.js"

type RunAttempt = ExecutorService["run"]
type ExecuteAttempt = ExecutorService["execute"]

/**
 * An executor from its callback form: the stream form hands each event to a small bounded queue,
 * so a consumer that is still writing the last chunk holds back the producer (flat memory).
 */
export const executorFromRun = (name: string, run: RunAttempt): ExecutorService => ({
  name,
  run,
  execute: (request) =>
    Stream.unwrapScoped(Effect.gen(function*() {
      const queue = yield* Effect.acquireRelease(
        Queue.bounded<Take.Take<ExecutionEvent, ProcessSpawnError>>(4),
        Queue.shutdown
      )
      // The attempt runs in the stream's scope: when the consumer stops early, it is interrupted.
      // A spawn failure ends the stream with that error, after whatever was already sent.
      yield* Effect.forkScoped(run(request, (event) => Queue.offer(queue, Take.of(event))).pipe(
        Effect.exit,
        Effect.flatMap(Exit.match({
          onSuccess: () => Effect.void,
          onFailure: (cause) => Effect.asVoid(Queue.offer(queue, Take.failCause(cause)))
        }))
      ))
      return Stream.fromQueue(queue).pipe(Stream.flattenTake, Stream.takeUntil((event) => event._tag === "Exited"))
    }))
})

/** An executor from its stream form (a remote executor's natural shape); `run` consumes the stream. */
export const executorFromStream = (name: string, execute: ExecuteAttempt): ExecutorService => ({
  name,
  execute,
  run: <E>(request: ExecutionRequest, onEvent: (event: ExecutionEvent) => Effect.Effect<void, E>) =>
    Effect.suspend(() => {
      let exit: ProcessExit = { exitCode: null, signal: null }
      return Stream.runForEach(execute(request), (event) => {
        if (event._tag === "Exited") exit = event.exit
        return onEvent(event)
      }).pipe(Effect.map(() => exit))
    })
})

/**
 * The local (`mcp`) executor on the ProcessRunner. Events go straight from the runner's handlers to
 * the caller (the output path is the hot path). A heartbeat event every heartbeat interval says the
 * attempt is alive, as a remote executor's would; a lock keeps the caller's calls one at a time.
 */
export const ExecutorLocal = Layer.effect(
  Executor,
  Effect.gen(function*() {
    const runner = yield* ProcessRunner
    const config = yield* OrchestratorConfig

    const run: RunAttempt = (request, onEvent) =>
      Effect.gen(function*() {
        const lock = yield* Effect.makeSemaphore(1)
        const emit = (event: ExecutionEvent) => lock.withPermits(1)(onEvent(event))
        const heartbeats = Clock.currentTimeMillis.pipe(
          Effect.flatMap((at) => emit({ _tag: "Heartbeat", at })),
          Effect.repeat(Schedule.spaced(config.heartbeatInterval)),
          Effect.delay(config.heartbeatInterval)
        )
        const exit = yield* Effect.raceFirst(
          runner.run({ command: request.command, cwd: request.cwd, env: request.env }, {
            onStart: (pid) => emit({ _tag: "Started", pid }),
            onOutput: (stream, chunks) => emit({ _tag: "Output", stream, chunks })
          }),
          // Interruptible where the caller is not (an app's entity handler): else the race would wait for it for ever.
          Effect.interruptible(Effect.zipRight(heartbeats, Effect.never))
        )
        yield* emit({ _tag: "Exited", exit })
        return exit
      })

    return Executor.of(executorFromRun("local", run))
  })
)
