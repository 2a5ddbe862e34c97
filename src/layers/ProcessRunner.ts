import { Command, CommandExecutor } from "@effect/platform"
import { Context, Duration, Effect, Layer, Ref, Stream } from "effect"
import { type ProcessEvent, ProcessRunner, ProcessSpawnError, type ProcessSpec } from "../services/ProcessRunner.js"

const signalPattern = /signal: (SIG[A-Z0-9]+)/

/**
 * Real processes through @effect/platform's CommandExecutor. The child runs `sh -c <command>` in its
 * own process group with stdin at end-of-file; both pipes are drained concurrently as they are
 * pulled (STYLE 4.1), and the Exit event comes after both pipes have closed.
 */
export const ProcessRunnerLive = Layer.effect(
  ProcessRunner,
  Effect.gen(function*() {
    const executor = yield* CommandExecutor.CommandExecutor

    const run = (spec: ProcessSpec): Stream.Stream<ProcessEvent, ProcessSpawnError> =>
      Stream.unwrapScoped(Effect.gen(function*() {
        const fail = (reason: string) => (cause: unknown) =>
          new ProcessSpawnError({ command: spec.command, cwd: spec.cwd, reason, cause })
        const command = Command.make("sh", "-c", spec.command).pipe(
          Command.workingDirectory(spec.cwd),
          Command.env(spec.env),
          Command.stdin(Stream.empty)
        )
        const proc = yield* executor.start(command).pipe(
          Effect.mapError((error) =>
            fail(error._tag === "SystemError" && error.reason === "NotFound"
              ? "the working directory does not exist"
              : error.message)(error)
          )
        )
        const output = (stream: "stdout" | "stderr", source: Stream.Stream<Uint8Array, unknown>) =>
          source.pipe(
            Stream.map((bytes): ProcessEvent => ({ _tag: "Output", stream, bytes })),
            Stream.mapError(fail(`its ${stream} could not be read`))
          )
        const exit = proc.exitCode.pipe(
          Effect.map((code): ProcessEvent => ({ _tag: "Exit", exitCode: code, signal: null })),
          // The executor reports death by signal as an error whose message names the signal.
          Effect.catchAll((error) => {
            const signal = signalPattern.exec(error.message)?.[1]
            return signal === undefined
              ? Effect.fail(fail(error.message)(error))
              : Effect.succeed<ProcessEvent>({ _tag: "Exit", exitCode: null, signal })
          })
        )
        return Stream.mergeAll([output("stdout", proc.stdout), output("stderr", proc.stderr)], { concurrency: 2, bufferSize: 1 }).pipe(
          Stream.concat(Stream.fromEffect(exit))
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
 * repeating). An unscripted command behaves like a missing one: exit 127.
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

    const run = (spec: ProcessSpec): Stream.Stream<ProcessEvent, ProcessSpawnError> =>
      Stream.unwrap(Effect.gen(function*() {
        const previous = yield* Ref.getAndUpdate(invocations, (all) => [...all, spec])
        const script = scriptFor(spec, previous.filter((p) => p.command === spec.command).length)
        if (script.spawnError !== undefined) {
          return Stream.fail(
            new ProcessSpawnError({ command: spec.command, cwd: spec.cwd, reason: script.spawnError, cause: script.spawnError })
          )
        }
        const chunks = Stream.fromIterable(script.output ?? []).pipe(
          Stream.mapEffect((chunk) =>
            Effect.sleep(chunk.after ?? Duration.zero).pipe(
              Effect.as<ProcessEvent>({ _tag: "Output", stream: chunk.stream, bytes: encoder.encode(chunk.data) })
            )
          )
        )
        const exit = Effect.sleep(script.duration ?? Duration.zero).pipe(
          Effect.as<ProcessEvent>({
            _tag: "Exit",
            exitCode: script.signal === undefined ? script.exitCode ?? 0 : null,
            signal: script.signal ?? null
          })
        )
        return Stream.concat(chunks, Stream.fromEffect(exit))
      }))

    return Context.make(ProcessRunner, ProcessRunner.of({ run })).pipe(
      Context.add(ProcessInvocations, ProcessInvocations.of({ all: Ref.get(invocations) }))
    )
  }))
