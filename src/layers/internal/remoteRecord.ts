/**
 * Issue 18: the manifest entry of a stage run by a remote executor says where: the executor, the
 * attempt and its idempotency key, the runner and host, and every runner that started the attempt
 * (a runner lost mid-stage has its attempt redelivered to another).
 */
import type { CliManifest, RemoteExecution } from "../../domain/Manifest.js"
import type { FileAccessError } from "../../domain/FileErrors.js"
import type { ExecutionEvent, RemoteRunner } from "../../services/Executor.js"
import type { RunFiles } from "../../services/RunStore.js"
import { Effect } from "effect"

/** The record after `event`; `previous` itself when the event changes nothing (an attempt exiting where it started). */
const updated = (
  previous: RemoteExecution | undefined,
  base: Pick<RemoteExecution, "executor" | "attempt" | "idempotency_key">,
  event: ExecutionEvent
): RemoteExecution | undefined => {
  if ((event._tag !== "Started" && event._tag !== "Exited") || event.remote === undefined) return previous
  const same = previous !== undefined && previous.attempt === base.attempt && previous.idempotency_key === base.idempotency_key
  const kept = event._tag === "Exited" ? event.keptWorktree : undefined
  if (same && event._tag === "Exited" && previous.executor === base.executor && previous.runner === event.remote.runner &&
    previous.host === event.remote.host && kept === undefined) return previous
  const deliveries = same ? previous.deliveries : []
  return {
    ...base,
    runner: event.remote.runner,
    host: event.remote.host,
    deliveries: event._tag === "Started" ? [...deliveries, { runner: event.remote.runner, host: event.remote.host }] : deliveries,
    ...(kept === undefined ? {} : { kept_worktree: kept })
  }
}

/**
 * Records a remote attempt's runner in the entry at `position`, then tells `started` about a runner
 * that started it; local events change nothing. An event that leaves the record as it is (the
 * attempt exiting on the runner that started it) writes nothing: the stage's outcome is written next.
 */
export const recordRemote = (
  files: RunFiles,
  position: number,
  executor: string,
  keyOf: (attempt: number) => string,
  started: (attempt: number, remote: RemoteRunner) => Effect.Effect<void>
) =>
(attempt: number, event: ExecutionEvent): Effect.Effect<void, FileAccessError> => {
  const remote = event._tag === "Started" || event._tag === "Exited" ? event.remote : undefined
  return remote === undefined ? Effect.void : Effect.gen(function*() {
    const held = (yield* files.manifest).commands[position]?.remote
    const next = updated(held, { executor, attempt, idempotency_key: keyOf(attempt) }, event)
    if (next !== held) {
      yield* files.update((m: CliManifest) => ({
        ...m,
        commands: m.commands.map((entry, i) => (i === position ? { ...entry, remote: next } : entry))
      }), { force: true })
    }
    if (event._tag === "Started") yield* started(attempt, remote)
  })
}
