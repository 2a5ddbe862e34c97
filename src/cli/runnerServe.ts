/**
 * The runner's process (issue 18), loaded by `codex-orchestrator runner` only: the cluster runner on
 * PostgreSQL, the stage entity's handlers on this machine's processes, until interrupted.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Duration, Effect, Fiber, Layer, Option, Ref } from "effect"
import { maxRunnerCapacity } from "../domain/Cluster.js"
import { clusterRunnerLayer } from "../layers/ClusterLive.js"
import { holdWorkspaces } from "../layers/cluster/workspacesHold.js"
import { FilesLive } from "../layers/Files.js"
import { HostLive } from "../layers/Host.js"
import { makeRunnerWorkspaces } from "../layers/internal/runnerWorkspace.js"
import { stageEntityLayer } from "../layers/internal/stageHandlers.js"
import { ProcessRunnerLive } from "../layers/ProcessRunner.js"
import { Host } from "../services/Host.js"
import { clusterRunnerSettings } from "./clusterSettings.js"
import { UsageError } from "./shared.js"

export interface RunnerFlags {
  readonly databaseUrl: string
  /** Where the URL came from (`--database-url` or the variable), for the error that names it. */
  readonly databaseSource: string
  readonly host: string
  readonly port: number
  readonly workspaces: string
  readonly capacity: number | undefined
  readonly labels: ReadonlyArray<string>
  readonly keepFailed: boolean
}

/** Serves stages until interrupted; a bad database fails at once (exit 2). */
export const serveRunner = (flags: RunnerFlags) =>
  Effect.gen(function*() {
    const host = yield* Host
    const settings = yield* clusterRunnerSettings
    const runner = `${flags.host}:${flags.port}`
    const capacity = flags.capacity ?? Math.min(host.cpus, maxRunnerCapacity)
    const processes = ProcessRunnerLive.pipe(Layer.provide(HostLive))
    // The folder is this runner's alone until it stops (released last, as it is taken first); a
    // second runner there is refused before it touches anything in it or reaches the database.
    yield* holdWorkspaces({ root: flags.workspaces, listen: runner }).pipe(
      Effect.catchTag("WorkspacesHeld", (held) => Effect.fail(new UsageError({ reason: held.message }))),
      Effect.provide(FilesLive)
    )
    // Its worktrees kept ready for later stages are removed when the runner stops (this scope).
    const prepare = yield* makeRunnerWorkspaces({ root: flags.workspaces, runner, keepFailed: flags.keepFailed, keep: capacity }).pipe(
      Effect.provide(Layer.merge(processes, FilesLive))
    )
    const running = yield* Ref.make<ReadonlySet<number>>(new Set())
    const handlers = stageEntityLayer({
      runner,
      host: host.hostname,
      capacity,
      prepare,
      running
    })
    const serving = handlers.pipe(
      Layer.provide(clusterRunnerLayer({ databaseUrl: flags.databaseUrl, source: flags.databaseSource, lockExpiry: settings.lockExpiry }, { ...flags, capacity })),
      Layer.provide(processes)
    )
    // Said once the runner is built (its database reached, its listener up), not beside the building:
    // a runner that cannot reach its database said "ready" before its error.
    const ready = Effect.logInfo(
      `Runner ${runner} on ${host.hostname} ready: capacity ${capacity}, labels ${flags.labels.length === 0 ? "(none)" : flags.labels.join(",")}` +
        `${Option.match(settings.lockExpiry, { onNone: () => "", onSome: (d) => `, lock expiry ${String(d)}` })}`
    )
    // Stopping (SIGTERM, Ctrl-C) interrupts the runner: its stages finish or are stopped and handed
    // back to the cluster (another runner takes them), its shards released. The cluster lets stages
    // finish for up to 15 s (its entity termination timeout), then interrupts them (SIGTERM, SIGKILL
    // 5 s later). Upstream, that shutdown can hang (a lone runner after a failure), and a stage may
    // outlast a shorter grace (CODEX_CLUSTER_STOP_GRACE): then this process kills the process groups
    // of the stages still running and exits without waiting.
    const launched = yield* Effect.forkDaemon(Layer.launch(Layer.tap(serving, () => ready)))
    const grace = settings.stopGrace
    return yield* Fiber.join(launched).pipe(Effect.onInterrupt(() =>
      Effect.gen(function*() {
        yield* Effect.logInfo(`Runner ${runner} stopping: its stages finish or go back to the cluster`)
        yield* Fiber.interruptFork(launched)
        // Interruptible as a whole: this handler runs uninterruptibly, and a wait that cannot be
        // interrupted (as `disconnect`'s join of its own fiber is here) would outlast the grace.
        const stopped = yield* Effect.interruptible(Fiber.await(launched)).pipe(Effect.timeoutOption(grace))
        if (Option.isSome(stopped)) return yield* Effect.logInfo(`Runner ${runner} stopped`)
        const left = yield* Ref.get(running)
        yield* Effect.forEach(left, (group) => host.signalGroup(group, "SIGKILL"), { discard: true })
        yield* Effect.logWarning(
          `Runner ${runner} did not stop within ${Duration.format(grace)}; exiting without waiting` +
            (left.size === 0 ? "" : ` (the process groups of its ${left.size} running stage(s) killed)`)
        )
      })
    ))
  }).pipe(Effect.scoped, Effect.provide(HostLive), Effect.provide(NodeContext.layer))
