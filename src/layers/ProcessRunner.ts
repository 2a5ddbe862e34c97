import { Command, CommandExecutor } from "@effect/platform"
import { Chunk, Context, Duration, Effect, Exit, Layer, Ref, Stream } from "effect"
import {
  type ProcessExit,
  type ProcessHandlers,
  ProcessRunner,
  ProcessSpawnError,
  type ProcessSpec
} from "../services/ProcessRunner.js"
import { Host } from "../services/Host.js"
import { stopProcessGroup } from "./internal/processGroup.js"

const signalPattern = /signal: (SIG[A-Z0-9]+)/

/**
 * Real processes through @effect/platform's CommandExecutor. The child runs `sh -c <command>` in its
 * own process group with stdin at end-of-file. Both pipes are drained by their own fiber from the
 * start (STYLE 4.1, 4.2: an unread pipe blocks the child, and Node discards what nobody reads by the
 * time the child exits); one handler call runs at a time. Plain fibers rather than a merged Stream:
 * measured at half the CPU per process.
 */
export const ProcessRunnerLive = Layer.effect(
  ProcessRunner,
  Effect.gen(function*() {
    const executor = yield* CommandExecutor.CommandExecutor
    const host = yield* Host

    const run = <E>(spec: ProcessSpec, handlers: ProcessHandlers<E>): Effect.Effect<ProcessExit, ProcessSpawnError | E> =>
      Effect.scoped(Effect.gen(function*() {
        const fail = (reason: string) => (cause: unknown) =>
          new ProcessSpawnError({ command: spec.command, cwd: spec.cwd, reason, cause })
        const command = Command.make("sh", "-c", spec.command).pipe(
          Command.workingDirectory(spec.cwd),
          Command.env(spec.env),
          Command.stdin(Stream.empty)
        )
        const lock = yield* Effect.makeSemaphore(1)
        // Taken before the readers start, so that onStart is the first handler call.
        yield* lock.take(1)
        const proc = yield* executor.start(command).pipe(
          Effect.mapError((error) =>
            fail(error._tag === "SystemError" && error.reason === "NotFound"
              ? "the working directory does not exist"
              : error.message)(error)
          )
        )
        // D-8: interrupted (Ctrl-C, a timeout), the stage's whole group goes, background children
        // included, even when the shell has already exited (the executor's own kill stops at a dead
        // shell), and SIGKILL follows for what ignores SIGTERM. Runs before the executor's finalizer.
        yield* Effect.addFinalizer((exit) =>
          Exit.isInterrupted(exit) ? Effect.asVoid(stopProcessGroup(host, proc.pid)) : Effect.void
        )
        const drain = (stream: "stdout" | "stderr", source: Stream.Stream<Uint8Array, unknown>) =>
          Stream.runForEachChunk(
            Stream.mapError(source, fail(`its ${stream} could not be read`)),
            (chunks) => lock.withPermits(1)(handlers.onOutput(stream, chunks))
          )
        const readers = yield* Effect.fork(
          Effect.all([drain("stdout", proc.stdout), drain("stderr", proc.stderr)], { concurrency: 2, discard: true })
        )
        yield* handlers.onStart(proc.pid).pipe(Effect.ensuring(lock.release(1)))
        yield* readers.await.pipe(Effect.flatten)
        return yield* proc.exitCode.pipe(
          Effect.map((code): ProcessExit => ({ exitCode: code, signal: null })),
          // The executor reports death by signal as an error whose message names the signal.
          Effect.catchAll((error) => {
            const signal = signalPattern.exec(error.message)?.[1]
            return signal === undefined
              ? Effect.fail(fail(error.message)(error))
              : Effect.succeed<ProcessExit>({ exitCode: null, signal })
          })
        )
      }))

    return ProcessRunner.of({ run })
  })
)

/** One scripted process for ProcessRunnerMemory. */
export interface ScriptedProcess {
  readonly output?: ReadonlyArray<{
    readonly stream: "stdout" | "stderr"
    readonly data: string
    /** Simulated time before this chunk arrives (drive it with TestClock). */
    readonly after?: Duration.DurationInput
  }>
  readonly exitCode?: number
  readonly signal?: string
  /** Simulated time after the last chunk before the process exits. */
  readonly duration?: Duration.DurationInput
  /** The process cannot start; the reason becomes the ProcessSpawnError's. */
  readonly spawnError?: string
}

/** Every process ProcessRunnerMemory was asked to run, in order, with its cwd and environment. */
export class ProcessInvocations extends Context.Tag("orchestrator/ProcessInvocations")<
  ProcessInvocations,
  { readonly all: Effect.Effect<ReadonlyArray<ProcessSpec>> }
>() {}

const encoder = new TextEncoder()

const isScriptList = (
  script: ScriptedProcess | ReadonlyArray<ScriptedProcess>
): script is ReadonlyArray<ScriptedProcess> => Array.isArray(script)

/**
 * No processes: each command replays its script (a list plays one entry per invocation, the last
 * repeating). An unscripted command behaves like a missing one: exit 127. Pids start at 10001.
 */
export const ProcessRunnerMemory = (
  scripts: Readonly<Record<string, ScriptedProcess | ReadonlyArray<ScriptedProcess>>>
): Layer.Layer<ProcessRunner | ProcessInvocations> =>
  Layer.effectContext(Effect.gen(function*() {
    const invocations = yield* Ref.make<ReadonlyArray<ProcessSpec>>([])

    const scriptFor = (spec: ProcessSpec, nth: number): ScriptedProcess => {
      const script = scripts[spec.command]
      if (script === undefined) {
        return { output: [{ stream: "stderr", data: `sh: 1: ${spec.command}: not found\n` }], exitCode: 127 }
      }
      if (!isScriptList(script)) return script
      return script[Math.min(nth, script.length - 1)] ?? {}
    }

    const run = <E>(spec: ProcessSpec, handlers: ProcessHandlers<E>): Effect.Effect<ProcessExit, ProcessSpawnError | E> =>
      Effect.gen(function*() {
        const previous = yield* Ref.getAndUpdate(invocations, (all) => [...all, spec])
        const script = scriptFor(spec, previous.filter((p) => p.command === spec.command).length)
        if (script.spawnError !== undefined) {
          return yield* new ProcessSpawnError({
            command: spec.command,
            cwd: spec.cwd,
            reason: script.spawnError,
            cause: script.spawnError
          })
        }
        yield* handlers.onStart(10_001 + previous.length)
        for (const chunk of script.output ?? []) {
          yield* Effect.sleep(chunk.after ?? Duration.zero)
          yield* handlers.onOutput(chunk.stream, Chunk.of(encoder.encode(chunk.data)))
        }
        yield* Effect.sleep(script.duration ?? Duration.zero)
        return { exitCode: script.signal === undefined ? script.exitCode ?? 0 : null, signal: script.signal ?? null }
      })

    return Context.make(ProcessRunner, ProcessRunner.of({ run })).pipe(
      Context.add(ProcessInvocations, ProcessInvocations.of({ all: Ref.get(invocations) }))
    )
  }))
