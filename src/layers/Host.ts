import { hostname } from "node:os"
import { Effect, Layer } from "effect"
import { Host } from "../services/Host.js"

/** The real process. Signal 0 checks that a pid exists without touching it; EPERM means it exists. */
export const HostLive = Layer.sync(Host, () =>
  Host.of({
    pid: process.pid,
    hostname: hostname(),
    isAlive: (pid) =>
      Effect.sync(() => {
        try {
          process.kill(pid, 0)
          return true
        } catch (error) {
          return error instanceof Error && "code" in error && error.code === "EPERM"
        }
      })
  }))

/** A fixed host for tests: this process is `pid`, and only the pids in `alive` exist. */
export const HostMemory = (options: { readonly pid?: number; readonly hostname?: string; readonly alive?: ReadonlyArray<number> } = {}) =>
  Layer.succeed(
    Host,
    Host.of({
      pid: options.pid ?? 4242,
      hostname: options.hostname ?? "test-host",
      isAlive: (pid) => Effect.succeed(pid === (options.pid ?? 4242) || (options.alive ?? []).includes(pid))
    })
  )
