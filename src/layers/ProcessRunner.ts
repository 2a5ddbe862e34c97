import { Chunk, Context, Duration, Effect, Exit, Layer, Ref } from "effect"
import {
  type ProcessExit,
  type ProcessHandlers,
  ProcessRunner,
  ProcessSpawnError,
  type ProcessSpec
} from "../services/ProcessRunner.js"
import { Host } from "../services/Host.js"
import { type Child, type PipeName, spawnChild } from "./internal/childProcess.js"
import { stopProcessGroup } from "./internal/processGroup.js"

const pipes: ReadonlyArray<PipeName> = ["stdout", "stderr"]

/**
 * A trickle of small reads (a process printing line by line, an unbuffered stderr) waits this long
 * for more before it is handed on, unless `gatherBytes` arrive first: one handler call (one log
 * line, one write) then carries many reads instead of one each (issue 19: 100k short lines).
 */
const gatherWindow = Duration.millis(4)
const gatherBytes = 64 * 1024

/**
 * Hands what the pipes hold to `onOutput`, one call at a time, stdout before stderr, until both
 * pipes are at end-of-file (a background child holding one open keeps the stage running, D-8).
 */
const deliverOutput = <E>(child: Child, handlers: ProcessHandlers<E>) => {
  const pending = () => child.pending("stdout") + child.pending("stderr")
  const deliver = (name: PipeName) => {
    const chunks = child.take(name)
    return chunks.length === 0 ? Effect.void : handlers.onOutput(name, Chunk.unsafeFromArray(chunks))
  }
  const gathered = () => pending() >= gatherBytes || child.drained()
  return Effect.gen(function*() {
    while (!child.drained() || pending() > 0) {
      yield* child.when(() => pending() > 0 || child.drained())
      if (!gathered()) yield* Effect.raceFirst(Effect.sleep(gatherWindow), child.when(gathered))
      for (const name of pipes) yield* deliver(name)
    }
  })
}

/**
 * Real processes on `node:child_process` (internal/childProcess.ts): `sh -c <command>` in its own
 * process group, stdin at end-of-file, both pipes read from the spawn on. One handler call runs at a
 * time, `onStart` first. Interrupted (a timeout, Ctrl-C) or failed, the stage's whole group is
 * stopped, background children included, even when the shell has already exited, with SIGKILL for
 * what ignores SIGTERM (D-8). A shell that exits non-zero gets its leftover group terminated, as the
 * platform's executor did.
 */
export const ProcessRunnerLive = Layer.effect(
  ProcessRunner,
  Effect.gen(function*() {
    const host = yield* Host
    // The parent environment the stages inherit (ENV-5); the interpreter is the one place that reads it.
    const parentEnv = process.env

    const run = <E>(spec: ProcessSpec, handlers: ProcessHandlers<E>): Effect.Effect<ProcessExit, ProcessSpawnError | E> =>
      Effect.scoped(Effect.gen(function*() {
        const child = yield* Effect.acquireRelease(
          spawnChild(spec, parentEnv),
          (child, exit) =>
            (Exit.isSuccess(exit) ? Effect.void : Effect.asVoid(stopProcessGroup(host, child.pid))).pipe(
              Effect.ensuring(Effect.sync(child.release))
            )
        )
        yield* handlers.onStart(child.pid)
        yield* deliverOutput(child, handlers)
        const unread = child.readError()
        if (unread !== undefined) {
          return yield* new ProcessSpawnError({
            command: spec.command,
            cwd: spec.cwd,
            reason: `its ${unread.name} could not be read`,
            cause: unread.error
          })
        }
        const exit = yield* child.exit
        if (exit.exitCode !== null && exit.exitCode !== 0) yield* host.signalGroup(child.pid, "SIGTERM")
        return exit
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
