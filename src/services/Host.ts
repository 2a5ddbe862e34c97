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
    /** Whether a process with this pid exists on this machine. */
    readonly isAlive: (pid: number) => Effect.Effect<boolean>
    /** Signals a whole process group (a stage and its background children); false if it is gone. */
    readonly signalGroup: (pgid: number, signal: "SIGTERM" | "SIGKILL") => Effect.Effect<boolean>
    /** Whether any process of the group is alive (its leader, the stage's shell, may have exited). */
    readonly isGroupAlive: (pgid: number) => Effect.Effect<boolean>
  }
>() {}
