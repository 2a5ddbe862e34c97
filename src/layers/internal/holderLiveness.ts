/**
 * Whether the process a record names still runs (a run's owner for a resume's takeover, D-7; a
 * runner's hold on its `--workspaces`, issue 18): one judgement for both. A record names a pid, its
 * host and, where the OS told, the process's start time, so a pid reused by a later process is told
 * apart from the one recorded.
 */
import { Effect } from "effect"
import { type CliManifest, hasFreshHeartbeat, type RunOwner } from "../../domain/Manifest.js"
import type { RunLayout } from "../../domain/RunLayout.js"
import type { Host } from "../../services/Host.js"
import type { RunStore } from "../../services/RunStore.js"

/** What a record says of its process. */
export interface ProcessMark {
  readonly pid: number
  readonly host: string
  /** `Host.startTimeOf(pid)` when the record was made; absent where the OS does not tell (or an older record). */
  readonly started?: string | undefined
}

/** What this machine sees of the record's pid: whether it lives, and the start time of the process that has it now. */
export interface PidFacts {
  readonly host: string
  readonly alive: boolean
  readonly startTime: string | undefined
}

/**
 * `elsewhere`: on another machine, which cannot be checked (it counts as alive); `alive`: its pid
 * lives with the start time recorded (or one of them is not known: the pid is all there is to go on);
 * `gone`: its pid does not live; `reused`: its pid is another process's now.
 */
export type Liveness = "elsewhere" | "alive" | "gone" | "reused"

export const judgeLiveness = (mark: ProcessMark, facts: PidFacts): Liveness => {
  if (mark.host !== facts.host) return "elsewhere"
  if (!facts.alive) return "gone"
  return mark.started !== undefined && facts.startTime !== undefined && facts.startTime !== mark.started ? "reused" : "alive"
}

/** The facts gathered on this machine's Host (the start time only when it can matter), then judged. */
export const livenessOf = (host: Host["Type"], mark: ProcessMark): Effect.Effect<Liveness> =>
  Effect.gen(function*() {
    if (mark.host !== host.hostname) return "elsewhere"
    const alive = yield* host.isAlive(mark.pid)
    const startTime = alive && mark.started !== undefined ? yield* host.startTimeOf(mark.pid) : undefined
    return judgeLiveness(mark, { host: host.hostname, alive, startTime })
  })

/** Whether the process may still be running: alive, or on another machine. */
export const mayBeAlive = (liveness: Liveness) => liveness === "elsewhere" || liveness === "alive"

/**
 * D-7: the owner of `run` (at `layout`) when the run may still be running in it: its heartbeat is
 * fresh and the owner recorded may be alive. Undefined otherwise (a stale heartbeat, no owner
 * recorded or readable, an owner gone).
 */
export const liveOwnerOf = (
  deps: { readonly store: RunStore["Type"]; readonly host: Host["Type"] },
  layout: RunLayout,
  run: CliManifest,
  nowMs: number
): Effect.Effect<RunOwner | undefined> =>
  Effect.gen(function*() {
    if (!hasFreshHeartbeat(run, nowMs)) return undefined
    const owner = yield* Effect.orElseSucceed(deps.store.readOwner(layout), () => undefined)
    return owner !== undefined && mayBeAlive(yield* livenessOf(deps.host, owner)) ? owner : undefined
  })
