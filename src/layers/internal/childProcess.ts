/**
 * A stage's shell as the Live ProcessRunner (ProcessRunnerLive.ts, the only user) holds it: its pipes
 * read from the moment it is spawned (STYLE 4.1, 4.2: an unread pipe blocks the child, and what nobody
 * reads by the time it exits is lost), its exit awaited. What the pipes deliver waits in memory, up
 * to `pauseAt` bytes a pipe, then the pipe is paused until taken. The launch itself is
 * ProcessRunnerLive's `launchShell`, the one place in src/ that imports `node:child_process`.
 */
import type { Readable } from "node:stream"
import { Effect } from "effect"
import { type ProcessExit, ProcessSpawnError, type ProcessSpec } from "../../services/ProcessRunner.js"
import { describeSpawnError } from "./spawnErrors.js"

export type PipeName = "stdout" | "stderr"

/** Bytes a pipe may hold before it is paused: bounds memory while a slow handler writes. */
export const pauseAt = 64 * 1024

interface Pipe {
  readonly name: PipeName
  readonly source: Readable
  chunks: Array<Uint8Array>
  bytes: number
  ended: boolean
  error: Error | undefined
}

/** A running child as the runner sees it: its pipes' contents, its exit, and what stops reading them. */
export interface Child {
  readonly pid: number
  /** Bytes waiting in a pipe. */
  readonly pending: (name: PipeName) => number
  /** Everything a pipe holds, in order; reading resumes if it was paused. */
  readonly take: (name: PipeName) => Array<Uint8Array>
  /** Both pipes reached end-of-file (or failed). */
  readonly drained: () => boolean
  /** The first read error of a pipe, if any. */
  readonly readError: () => { readonly name: PipeName; readonly error: Error } | undefined
  /** Resolves once `ready()` holds; `ready` is checked again whenever a pipe changes. */
  readonly when: (ready: () => boolean) => Effect.Effect<void>
  /** The exit, once the process has ended. */
  readonly exit: Effect.Effect<ProcessExit>
  /** Whether the process has ended. */
  readonly exited: () => boolean
  /** Stops reading: the pipes are closed (the group is stopped separately). */
  readonly release: () => void
  /** Checks the condition a fiber waits for in `when` again (it read something besides the pipes). */
  readonly recheck: () => void
}

/** What is read of a launched shell: its pid (once spawned) and its two pipes. */
export interface ShellProcess {
  readonly pid?: number | undefined
  readonly stdout: Readable
  readonly stderr: Readable
}

/** What a launched shell reports: it runs, it could not start, it exited. */
export interface ShellEvents {
  readonly spawned: () => void
  readonly failed: (error: Error) => void
  readonly exited: (code: number | null, signal: NodeJS.Signals | null) => void
}

/**
 * Starts `/bin/sh -c <command>` in `env` as the leader of its own process group, stdin at end-of-file,
 * stdout and stderr piped, and reports to `events`; throws what the OS refuses at once (E2BIG).
 */
export type LaunchShell = (spec: ProcessSpec, env: NodeJS.ProcessEnv, events: ShellEvents) => ShellProcess

/** What the child's event listeners share with the Child's methods. */
interface State {
  readonly handle: ShellProcess
  readonly pipes: Record<PipeName, Pipe>
  exit: ProcessExit | undefined
  waiter: { readonly ready: () => boolean; readonly wake: () => void } | undefined
  readonly exitWaiters: Array<() => void>
}

/** Wakes the fiber waiting in `when` once what it waits for holds. */
const changed = (state: State) => {
  const waiter = state.waiter
  if (waiter !== undefined && waiter.ready()) {
    state.waiter = undefined
    waiter.wake()
  }
}

/** Buffers what `source` delivers into a Pipe, pausing it past `pauseAt` bytes. */
const watchPipe = (name: PipeName, source: Readable, onChange: () => void): Pipe => {
  const pipe: Pipe = { name, source, chunks: [], bytes: 0, ended: false, error: undefined }
  source.on("data", (chunk: Uint8Array) => {
    pipe.chunks.push(chunk)
    pipe.bytes += chunk.length
    if (pipe.bytes >= pauseAt) source.pause()
    onChange()
  })
  const end = () => {
    pipe.ended = true
    onChange()
  }
  source.on("end", end)
  source.on("close", end)
  source.on("error", (error) => {
    pipe.error ??= error
    end()
  })
  return pipe
}

const take = (pipe: Pipe) => {
  const chunks = pipe.chunks
  pipe.chunks = []
  pipe.bytes = 0
  if (pipe.source.isPaused()) pipe.source.resume()
  return chunks
}

const when = (state: State, ready: () => boolean) =>
  Effect.async<void>((wake) => {
    if (ready()) return wake(Effect.void)
    state.waiter = { ready, wake: () => wake(Effect.void) }
    return Effect.sync(() => {
      state.waiter = undefined
    })
  })

const awaitExit = (state: State) =>
  Effect.async<ProcessExit>((wake) => {
    if (state.exit !== undefined) return wake(Effect.succeed(state.exit))
    const done = () => wake(Effect.succeed(state.exit ?? { exitCode: null, signal: null }))
    state.exitWaiters.push(done)
    return Effect.sync(() => {
      const at = state.exitWaiters.indexOf(done)
      if (at !== -1) state.exitWaiters.splice(at, 1)
    })
  })

const childOf = (pid: number, state: State): Child => {
  const { stderr, stdout } = state.pipes
  return {
    pid,
    pending: (name) => state.pipes[name].bytes,
    take: (name) => take(state.pipes[name]),
    drained: () => stdout.ended && stderr.ended,
    readError: () => {
      const failed = [stdout, stderr].find((pipe) => pipe.error !== undefined)
      return failed?.error === undefined ? undefined : { name: failed.name, error: failed.error }
    },
    when: (ready) => when(state, ready),
    exit: awaitExit(state),
    exited: () => state.exit !== undefined,
    release: () => {
      state.handle.stdout.destroy()
      state.handle.stderr.destroy()
    },
    recheck: () => changed(state)
  }
}

/** A fresh State for a launched shell, its pipes watched from now on. */
const watch = (handle: ShellProcess): State => {
  const onChange = () => changed(state)
  const state: State = {
    handle,
    pipes: { stdout: watchPipe("stdout", handle.stdout, onChange), stderr: watchPipe("stderr", handle.stderr, onChange) },
    exit: undefined,
    waiter: undefined,
    exitWaiters: []
  }
  return state
}

/**
 * Spawns the child; succeeds once it runs, fails with ProcessSpawnError when it cannot (a missing
 * working directory reads ENOENT: the shell, by its absolute path, is always there; a command line
 * too large, E2BIG). Interrupted while spawning, the process is terminated.
 */
export const spawnChild = (
  launch: LaunchShell,
  spec: ProcessSpec,
  parentEnv: NodeJS.ProcessEnv
): Effect.Effect<Child, ProcessSpawnError> =>
  Effect.async<Child, ProcessSpawnError>((resume) => {
    const spawnError = (reason: string, cause: unknown) =>
      new ProcessSpawnError({ command: spec.command, cwd: spec.cwd, reason, cause })
    let settled = false
    const settle = (effect: Effect.Effect<Child, ProcessSpawnError>) => {
      if (settled) return
      settled = true
      resume(effect)
    }
    const env = { ...parentEnv, ...spec.env }
    const failed = (error: Error) => settle(Effect.fail(spawnError(describeSpawnError(error, spec, env), error)))
    // The events come after `launch` has returned (from the event loop): `state` is set by then.
    let state: State
    const events: ShellEvents = {
      failed,
      spawned: () => {
        const pid = state.handle.pid
        settle(pid === undefined ? Effect.fail(spawnError("no process id", undefined)) : Effect.succeed(childOf(pid, state)))
      },
      exited: (code, signal) => {
        state.exit = { exitCode: code, signal }
        for (const wake of state.exitWaiters.splice(0)) wake()
      }
    }
    try {
      state = watch(launch(spec, env, events))
    } catch (error) {
      // Some refusals are thrown by spawn itself rather than emitted (E2BIG: a command line too large).
      return failed(error instanceof Error ? error : new Error(String(error)))
    }
    const { handle } = state
    return Effect.sync(() => {
      if (handle.pid === undefined || state.exit !== undefined) return
      try {
        process.kill(-handle.pid, "SIGTERM")
      } catch {
        // The group is already gone.
      }
    })
  })
