import { Context, type Effect } from "effect"

/**
 * This process and its machine, and whether another process is alive: what a run records as its
 * owner, and what `resume` checks before taking a run over (DECISIONS D-7).
 */
export class Host extends Context.Tag("orchestrator/Host")<
  Host,
  {
    readonly pid: number
    readonly hostname: string
    /** How many stages a graph runs at once by default (DECISIONS B-2): the CPUs this process may use. */
    readonly cpus: number
    /** This process's own process group, or undefined where it cannot be read. */
    readonly ownGroup: Effect.Effect<number | undefined>
    /** Whether a process with this pid runs on this machine (a zombie, exited and not yet reaped, does not). */
    readonly isAlive: (pid: number) => Effect.Effect<boolean>
    /**
     * When the process with this pid started, as the OS records it (Linux: clock ticks since boot,
     * from /proc), or undefined when there is none or it cannot be read. With the pid it names one
     * process: a pid reused by a later process has another start time.
     */
    readonly startTimeOf: (pid: number) => Effect.Effect<string | undefined>
    /** Signals a whole process group (a stage and its background children); false if it is gone. */
    readonly signalGroup: (pgid: number, signal: "SIGTERM" | "SIGKILL") => Effect.Effect<boolean>
    /** Whether any process of the group still runs (its leader, the stage's shell, may have exited; zombies do not count). */
    readonly isGroupAlive: (pgid: number) => Effect.Effect<boolean>
    /**
     * Whether the group was started by a stage of run `runId`: its leader, or with the leader gone one
     * of its members, has `CODEX_ORCHESTRATOR_RUN_ID=<runId>` in its environment (ENV-5). False
     * wherever that cannot be read (no /proc, another user's process): a recorded pid may since have
     * been reused by an unrelated process, which must never be signalled.
     */
    readonly groupBelongsToRun: (pgid: number, runId: string) => Effect.Effect<boolean>
  }
>() {}
