import { Chunk, Context, Duration, Effect, Layer, Ref } from "effect"
import {
  type ProcessExit,
  type ProcessHandlers,
  ProcessRunner,
  ProcessSpawnError,
  type ProcessSpec
} from "../services/ProcessRunner.js"

/** Real processes: the Live layer lives in ProcessRunnerLive.ts, the only module that spawns. */
export { processRunnerLive, ProcessRunnerLive } from "./ProcessRunnerLive.js"

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
