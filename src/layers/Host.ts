import { hostname } from "node:os"
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

/** The real process. */
export const HostLive = Layer.sync(Host, () =>
  Host.of({
    pid: process.pid,
    hostname: hostname(),
    isAlive: exists,
    isGroupAlive: (pgid) => exists(-pgid),
    signalGroup: (pgid, signal) =>
      Effect.sync(() => {
        try {
          process.kill(-pgid, signal)
          return true
        } catch {
          return false
        }
      })
  }))

/** A fixed host for tests: this process is `pid`, and only the pids in `alive` exist. */
export const HostMemory = (options: { readonly pid?: number; readonly hostname?: string; readonly alive?: ReadonlyArray<number> } = {}) =>
  Layer.effect(
    Host,
    Effect.map(Ref.make<ReadonlySet<number>>(new Set(options.alive ?? [])), (alive) =>
      Host.of({
        pid: options.pid ?? 4242,
        hostname: options.hostname ?? "test-host",
        isAlive: (pid) => Effect.map(Ref.get(alive), (set) => pid === (options.pid ?? 4242) || set.has(pid)),
        isGroupAlive: (pgid) => Effect.map(Ref.get(alive), (set) => set.has(pgid)),
        // A signalled group is gone from then on, as if SIGTERM had ended it.
        signalGroup: (pgid) => Ref.modify(alive, (set) => [set.has(pgid), new Set([...set].filter((p) => p !== pgid))])
      }))
  )
