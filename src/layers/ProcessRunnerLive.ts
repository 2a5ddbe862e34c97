/**
 * The Live ProcessRunner: real processes on `node:child_process` directly (`launchShell`, the one
 * place in src/ that spawns; the @effect/platform CommandExecutor path cost ~8 ms of CPU per
 * process, issue 19, most of a short stage's overhead; the shell's pipes and exit are held by
 * internal/childProcess.ts). The child runs
 * `/bin/sh -c <command>` as the leader of its own process group, stdin at end-of-file, its pipes read
 * from the spawn on; this module hands their output to the caller, waits for the exit and stops the
 * group when it must. ProcessRunner.ts re-exports the layer beside the in-memory one.
 */
import { spawn } from "node:child_process"
import { Chunk, Duration, Effect, Exit, Layer } from "effect"
import { shortened } from "../domain/OneLine.js"
import { decodeSettings, processSection } from "../domain/Settings.js"
import { defaultOutputGrace } from "../domain/SettingsProcess.js"
import { Host } from "../services/Host.js"
import {
  type ProcessExit,
  type ProcessHandlers,
  ProcessRunner,
  ProcessSpawnError,
  type ProcessSpec
} from "../services/ProcessRunner.js"
import { type Child, type LaunchShell, pauseAt, type PipeName, spawnChild } from "./internal/childProcess.js"
import { stopProcessGroup } from "./internal/processGroup.js"

/**
 * The POSIX shell, by its absolute path (as Node's own `shell: true`): found through PATH, a stage
 * whose `env` sets a PATH without it could not start, and each start tried every folder of PATH
 * before the one that has it.
 */
const shell = "/bin/sh"

/** `/bin/sh -c <command>` on node:child_process, the leader of its own process group (detached). */
const launchShell: LaunchShell = (spec, env, events) => {
  // `--` ends the shell's options: a command starting with `-` is a command, not options (POSIX sh).
  const handle = spawn(shell, ["-c", "--", spec.command], { cwd: spec.cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] })
  handle.on("exit", events.exited)
  handle.on("error", events.failed)
  handle.on("spawn", events.spawned)
  return handle
}

const pipes: ReadonlyArray<PipeName> = ["stdout", "stderr"]

/**
 * A trickle of small reads (a process printing line by line, an unbuffered stderr) waits this long
 * for more before it is handed on, unless a pipe fills up to `pauseAt` first (it is paused then, so
 * waiting longer would only stall it): one handler call (one log line, one write) then carries many
 * reads instead of one each. Each call costs a ~190-byte `exec:chunk` envelope on disk: at 4 ms, 100k
 * short lines took ~160 calls and 1.128x their size on disk, at 50 ms ~34 and 1.104x (issue 19;
 * 128 KiB pipes took it to 1.102x but raised the peak RSS of a 50 MB output by ~5 MiB). A person
 * following a log does not notice 50 ms.
 */
const gatherWindow = Duration.millis(50)
const gatherBytes = pauseAt

/**
 * Hands what the pipes hold to `onOutput`, one call at a time, stdout before stderr, until both
 * pipes are at end-of-file, or until `grace` after the shell exited. True when it gave up on pipes
 * still held open (by background processes), after handing on what they held.
 */
const deliverOutput = <E>(child: Child, handlers: ProcessHandlers<E>, grace: Duration.Duration) => {
  const pending = () => child.pending("stdout") + child.pending("stderr")
  const deliver = (name: PipeName) => {
    const chunks = child.take(name)
    return chunks.length === 0 ? Effect.void : handlers.onOutput(name, Chunk.unsafeFromArray(chunks))
  }
  const gathered = () => pending() >= gatherBytes || child.drained()
  return Effect.gen(function*() {
    // Set once the grace has passed since the exit; the waits below wake on it as on a pipe's news
    // (through the same waiter: no fiber a wait, which the output's hot path would pay for). The
    // timer and the gathering's sleep are interruptible even where the caller is not (a runner's
    // entity handler): else each ended process waited out the grace, and each gathering its window.
    let heldPastExit = false
    yield* Effect.forkScoped(Effect.interruptible(Effect.zipRight(Effect.zipRight(child.exit, Effect.sleep(grace)), Effect.sync(() => {
      heldPastExit = true
      child.recheck()
    }))))
    const until = (ready: () => boolean) => child.when(() => ready() || heldPastExit)
    while (!child.drained() || pending() > 0) {
      if (heldPastExit) {
        // Once, not until the pipes are empty: a holder that keeps printing would never let go.
        for (const name of pipes) yield* deliver(name)
        return !child.drained()
      }
      yield* until(() => pending() > 0 || child.drained())
      if (!gathered()) yield* Effect.raceFirst(Effect.interruptible(Effect.sleep(gatherWindow)), Effect.interruptible(until(gathered)))
      for (const name of pipes) yield* deliver(name)
    }
    return false
  })
}

/**
 * Real processes on `node:child_process`: `/bin/sh -c <command>` in its own
 * process group, stdin at end-of-file, both pipes read from the spawn on. One handler call runs at a
 * time, `onStart` first. Interrupted (a timeout, Ctrl-C) or failed, the stage's whole group is
 * stopped, background children included, even when the shell has already exited, with SIGKILL for
 * what ignores SIGTERM (D-8). A shell that exits non-zero gets its leftover group terminated, as the
 * platform's executor did; background processes still holding the output `heldOutputGrace` after
 * the shell exited are stopped (EXE-7).
 */
export const processRunnerLive = (options: { readonly heldOutputGrace?: Duration.DurationInput } = {}) =>
  Layer.effect(
    ProcessRunner,
    Effect.gen(function*() {
      const host = yield* Host
      // The parent environment the stages inherit (ENV-5); the interpreter is the one place that reads it.
      const parentEnv = process.env
      // How long the pipes may stay open once the shell has exited (EXE-7). A background process the
      // command started without redirecting its output (`server &`) holds them: the stage ended with its
      // shell, and waiting for that process would hold the run until it exits, which a server never does.
      const grace = Duration.decode(options.heldOutputGrace ?? defaultOutputGrace)

      const after = Duration.toMillis(grace) === 0 ? "when it exited" : `${Duration.format(grace)} later`

      /**
       * EXE-7: the processes of the group that held the output past the grace are stopped, and it is
       * said on the orchestrator's stderr (naming the command) and in the stage's own stderr, so its
       * log and summary keep it.
       */
      const stopHolders = <E>(spec: ProcessSpec, pid: number, handlers: ProcessHandlers<E>) =>
        Effect.gen(function*() {
          const fix = "redirect its output (`server > server.log 2>&1 &`)"
          yield* Effect.logWarning(
            `"${shortened(spec.command)}" exited, but processes it started in the background still held its output ` +
              `${after}: stopped them (process group ${pid}). To keep one running after its stage, ${fix}.`
          )
          yield* stopProcessGroup(host, pid)
          const notice = `codex-orchestrator: processes this command started in the background still held its output ${after}; ` +
            `they were stopped. To keep one running after the stage, ${fix}.\n`
          yield* handlers.onOutput("stderr", Chunk.of(new TextEncoder().encode(notice)))
        })

      const run = <E>(spec: ProcessSpec, handlers: ProcessHandlers<E>): Effect.Effect<ProcessExit, ProcessSpawnError | E> =>
        Effect.scoped(Effect.gen(function*() {
          const child = yield* Effect.acquireRelease(
            spawnChild(launchShell, spec, parentEnv),
            (child, exit) =>
              (Exit.isSuccess(exit) ? Effect.void : Effect.asVoid(stopProcessGroup(host, child.pid))).pipe(
                Effect.ensuring(Effect.sync(child.release))
              )
          )
          yield* handlers.onStart(child.pid)
          if (yield* deliverOutput(child, handlers, grace)) yield* stopHolders(spec, child.pid, handlers)
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

/** The Live runner, its grace for output held by background processes from the settings (`process`). */
export const ProcessRunnerLive = Layer.unwrapEffect(
  Effect.map(decodeSettings(processSection), (settings) => processRunnerLive({ heldOutputGrace: settings.outputGrace }))
)
