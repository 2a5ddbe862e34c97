/**
 * The runner's process (issue 18), loaded by `codex-orchestrator runner` only: the cluster runner on
 * PostgreSQL, the stage entity's handlers on this machine's processes, until interrupted.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Effect, Layer, Option } from "effect"
import { clusterRunnerLayer } from "../layers/ClusterLive.js"
import { FilesLive } from "../layers/Files.js"
import { HostLive } from "../layers/Host.js"
import { makeRunnerWorkspaces } from "../layers/internal/runnerWorkspace.js"
import { stageEntityLayer } from "../layers/internal/stageHandlers.js"
import { ProcessRunnerLive } from "../layers/ProcessRunner.js"
import { Host } from "../services/Host.js"
import { clusterSettings } from "./clusterSettings.js"

export interface RunnerFlags {
  readonly databaseUrl: string
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
    const settings = yield* clusterSettings
    const runner = `${flags.host}:${flags.port}`
    const capacity = flags.capacity ?? host.cpus
    const processes = ProcessRunnerLive.pipe(Layer.provide(HostLive))
    const prepare = yield* makeRunnerWorkspaces({ root: flags.workspaces, runner, keepFailed: flags.keepFailed }).pipe(
      Effect.provide(Layer.merge(processes, FilesLive))
    )
    const handlers = stageEntityLayer({
      runner,
      host: host.hostname,
      capacity,
      prepare
    })
    const serving = handlers.pipe(
      Layer.provide(clusterRunnerLayer({ databaseUrl: flags.databaseUrl, lockExpiry: settings.lockExpiry }, flags)),
      Layer.provide(processes)
    )
    yield* Layer.launch(Layer.merge(serving, Layer.effectDiscard(Effect.logInfo(
      `Runner ${runner} on ${host.hostname} ready: capacity ${capacity}, labels ${flags.labels.length === 0 ? "(none)" : flags.labels.join(",")}` +
        `${Option.match(settings.lockExpiry, { onNone: () => "", onSome: (d) => `, lock expiry ${String(d)}` })}`
    ))))
  }).pipe(Effect.provide(HostLive), Effect.provide(NodeContext.layer))
