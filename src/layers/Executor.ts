import { Clock, Effect, Exit, Layer, Queue, Schedule, Stream, Take } from "effect"
import { type ExecutionEvent, Executor } from "../services/Executor.js"
import { OrchestratorConfig } from "../services/OrchestratorConfig.js"
import { ProcessRunner, type ProcessSpawnError } from "../services/ProcessRunner.js"

/**
 * The local (`mcp`) executor on the ProcessRunner. The runner's handlers hand each event to a small
 * bounded queue, so a consumer that is still writing the last chunk holds back the reading of the
 * pipes (backpressure, flat memory). A heartbeat event every heartbeat interval says the attempt is
 * alive, as a remote executor's would.
 */
export const ExecutorLocal = Layer.effect(
  Executor,
  Effect.gen(function*() {
    const runner = yield* ProcessRunner
    const config = yield* OrchestratorConfig

    return Executor.of({
      name: "local",
      execute: (request) =>
        Stream.unwrapScoped(Effect.gen(function*() {
          const queue = yield* Effect.acquireRelease(
            Queue.bounded<Take.Take<ExecutionEvent, ProcessSpawnError>>(4),
            Queue.shutdown
          )
          const offer = (event: ExecutionEvent) => Queue.offer(queue, Take.of(event))
          const process = runner.run({ command: request.command, cwd: request.cwd, env: request.env }, {
            onStart: (pid) => offer({ _tag: "Started", pid }),
            onOutput: (stream, chunks) => offer({ _tag: "Output", stream, chunks })
          })
          // The process runs in the stream's scope: when the consumer stops early, it is interrupted.
          // A spawn failure ends the stream with that error, after whatever was already sent.
          yield* Effect.forkScoped(process.pipe(
            Effect.exit,
            Effect.flatMap(Exit.match({
              onSuccess: (exit) => offer({ _tag: "Exited", exit }),
              onFailure: (cause) => Queue.offer(queue, Take.failCause(cause))
            }))
          ))
          const events = Stream.fromQueue(queue).pipe(
            Stream.flattenTake,
            Stream.takeUntil((event) => event._tag === "Exited")
          )
          const heartbeats = Stream.fromSchedule(Schedule.spaced(config.heartbeatInterval)).pipe(
            Stream.mapEffect(() => Effect.map(Clock.currentTimeMillis, (at): ExecutionEvent => ({ _tag: "Heartbeat", at })))
          )
          return Stream.merge(events, heartbeats, { haltStrategy: "left" })
        }))
    })
  })
)
