import { availableParallelism, hostname } from "node:os"
import { FileSystem } from "@effect/platform"
import { Effect, Layer, Ref } from "effect"
import { Host } from "../services/Host.js"

/** Signal 0 checks that a pid (or, negative, a process group) exists without touching it; EPERM means it does. */
const exists = (target: number) =>
  Effect.sync(() => {
    try {
      process.kill(target, 0)
      return true
    } catch (error) {
      return error instanceof Error && "code" in error && error.code === "EPERM"
    }
  })

/** The process group in a `/proc/<pid>/stat` line: the third field after the parenthesised name. */
export const groupOfStat = (stat: string): number | undefined => {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  const group = Number(fields[2])
  return Number.isInteger(group) && group > 0 ? group : undefined
}

/** The process's start time in a `/proc/<pid>/stat` line (clock ticks since boot): the 20th field after the name. */
export const startTimeOfStat = (stat: string): string | undefined => {
  const field = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]
  return field !== undefined && /^\d+$/.test(field) ? field : undefined
}

/**
 * Whether a `/proc/<pid>/stat` line is of a process that still runs: its state (the first field
 * after the name) is not Z, a zombie (exited, not yet reaped), nor X (dead).
 */
export const runsOfStat = (stat: string): boolean => {
  const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3)
  return state !== "" && state !== "Z" && state !== "X" && state !== "x"
}

/** Whether a NUL-separated `/proc/<pid>/environ` holds exactly `NAME=value`. */
export const environHas = (environ: string, entry: string): boolean => environ.split("\0").includes(entry)

/** The real process; process groups and environments are read from Linux's /proc. */
export const HostLive = Layer.effect(
  Host,
  Effect.map(FileSystem.FileSystem, (fs) => {
    const read = (file: string) => fs.readFileString(file).pipe(Effect.option, Effect.map((text) => text._tag === "Some" ? text.value : undefined))
    const groupOf = (pid: string) => Effect.map(read(`/proc/${pid}/stat`), (stat) => stat === undefined ? undefined : groupOfStat(stat))
    const carriesRun = (pid: string, runId: string) =>
      Effect.map(read(`/proc/${pid}/environ`), (environ) => environ !== undefined && environHas(environ, `CODEX_ORCHESTRATOR_RUN_ID=${runId}`))
    /** The pids /proc lists; undefined where there is no /proc to list (off Linux). */
    const processIds = Effect.map(
      Effect.option(fs.readDirectory("/proc")),
      (names) => names._tag === "None" ? undefined : names.value.filter((name) => /^\d+$/.test(name))
    )
    const runsInGroup = (pid: string, pgid: number) =>
      Effect.map(read(`/proc/${pid}/stat`), (stat) => stat !== undefined && groupOfStat(stat) === pgid && runsOfStat(stat))
    /**
     * Signal 0 finds a group as long as a member exists, a zombie included: a stage's shell killed
     * before its children leaves them to be reaped by PID 1, which some containers' init does only
     * now and then (here ~1 s), and a process that is PID 1 itself never does. A group whose members
     * all ended is not alive: its leader first (the common case), else every process read from /proc
     * (where there is none, as off Linux, signal 0's answer stands).
     */
    const isGroupAlive = (pgid: number) =>
      Effect.gen(function*() {
        if (!(yield* exists(-pgid))) return false
        if (yield* runsInGroup(String(pgid), pgid)) return true
        const pids = yield* processIds
        return pids === undefined || (yield* Effect.exists(pids, (pid) => runsInGroup(pid, pgid)))
      })
    // The same for one process: a zombie has ended (where /proc is, this process's own stat is readable).
    const isAlive = (pid: number) =>
      Effect.gen(function*() {
        if (!(yield* exists(pid))) return false
        const stat = yield* read(`/proc/${pid}/stat`)
        if (stat !== undefined) return runsOfStat(stat)
        return (yield* read("/proc/self/stat")) === undefined
      })
    const members = (pgid: number) =>
      Effect.flatMap(processIds, (pids) => Effect.filter(pids ?? [], (pid) => Effect.map(groupOf(pid), (g) => g === pgid)))
    return Host.of({
      pid: process.pid,
      hostname: hostname(),
      cpus: availableParallelism(),
      ownGroup: groupOf("self"),
      isAlive,
      startTimeOf: (pid) =>
        Number.isInteger(pid) && pid > 0
          ? Effect.map(read(`/proc/${pid}/stat`), (stat) => stat === undefined ? undefined : startTimeOfStat(stat))
          : Effect.succeed(undefined),
      isGroupAlive,
      signalGroup: (pgid, signal) =>
        Effect.sync(() => {
          try {
            process.kill(-pgid, signal)
            return true
          } catch {
            return false
          }
        }),
      groupBelongsToRun: (pgid, runId) =>
        Effect.gen(function*() {
          // The leader is the stage's shell, spawned with the run's environment; once it has exited
          // (a zombie's environment reads empty), the group can only hold what it started, as its id
          // cannot be reused while the group lives.
          const leader = (yield* groupOf(String(pgid))) === pgid ? yield* read(`/proc/${pgid}/environ`) : undefined
          if (leader !== undefined && leader.length > 0) return environHas(leader, `CODEX_ORCHESTRATOR_RUN_ID=${runId}`)
          const pids = yield* members(pgid)
          return yield* Effect.exists(pids, (pid) => carriesRun(pid, runId))
        })
    })
  })
)

export interface HostMemoryOptions {
  readonly pid?: number
  readonly hostname?: string
  /** B-2: the CPUs a graph's default concurrency is (default 4). */
  readonly cpus?: number
  /** This process's group (default: its pid). */
  readonly group?: number
  readonly alive?: ReadonlyArray<number>
  /** The start time of live processes, by pid (default: `started-<pid>`). */
  readonly startTimes?: Readonly<Record<number, string>>
  /** The run each live group was started for, by group id; a group not listed belongs to none. */
  readonly runGroups?: Readonly<Record<number, string>>
}

/** A fixed host for tests: this process is `pid`, and only the pids in `alive` exist. */
export const HostMemory = (options: HostMemoryOptions = {}) =>
  Layer.effect(
    Host,
    Effect.map(Ref.make<ReadonlySet<number>>(new Set(options.alive ?? [])), (alive) =>
      Host.of({
        pid: options.pid ?? 4242,
        hostname: options.hostname ?? "test-host",
        cpus: options.cpus ?? 4,
        ownGroup: Effect.succeed(options.group ?? options.pid ?? 4242),
        isAlive: (pid) => Effect.map(Ref.get(alive), (set) => pid === (options.pid ?? 4242) || set.has(pid)),
        startTimeOf: (pid) =>
          Effect.map(
            Ref.get(alive),
            (set) => pid === (options.pid ?? 4242) || set.has(pid) ? options.startTimes?.[pid] ?? `started-${pid}` : undefined
          ),
        isGroupAlive: (pgid) => Effect.map(Ref.get(alive), (set) => set.has(pgid)),
        // A signalled group is gone from then on, as if SIGTERM had ended it.
        signalGroup: (pgid) => Ref.modify(alive, (set) => [set.has(pgid), new Set([...set].filter((p) => p !== pgid))]),
        groupBelongsToRun: (pgid, runId) => Effect.map(Ref.get(alive), (set) => set.has(pgid) && options.runGroups?.[pgid] === runId)
      }))
  )
