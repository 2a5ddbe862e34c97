/**
 * `status` (SPEC CLI-7, D-9): reads a run, never writes. Its own module so that the status entry point
 * (src/cli/statusMain.ts) loads it without the other commands.
 */
import { Command, Options } from "@effect/cli"
import { Console, Duration, Effect, Option, Stream } from "effect"
import type { StatusView } from "../services/RunEngine.js"
import { RunReader } from "../services/RunReader.js"
import { format, printJson, requireRunId, runArg, runOption, task, UsageError, verbose } from "./shared.js"

/** CLI-7 JSON, plus `stale` (D-9) and the run's recorded owner. */
const statusJson = (view: StatusView) => ({
  run_id: view.manifest.run_id,
  status: view.manifest.status,
  status_detail: view.manifest.status_detail,
  stale: view.stale,
  started_at: view.manifest.started_at,
  completed_at: view.manifest.completed_at,
  manifest: `${view.manifest.artifact_root}/manifest.json`,
  artifact_root: view.manifest.artifact_root,
  log_path: view.manifest.log_path,
  heartbeat_at: view.manifest.heartbeat_at,
  owner: view.owner ?? null,
  resume_events: view.manifest.resume_events,
  execution_mode: view.manifest.execution_mode ?? null,
  cloud_fallback_reason: view.manifest.cloud_fallback_reason ?? null,
  // SYNC: whether and when the run was uploaded; null when it never was (or sync is off).
  cloud_sync: view.cloudSync ?? null,
  commands: view.manifest.commands,
  child_runs: view.manifest.child_runs
})

const syncText = (record: NonNullable<StatusView["cloudSync"]>) =>
  record.status === "synced"
    ? `Cloud sync: synced at ${record.synced_at}${record.remote_id === undefined ? "" : ` (remote id ${record.remote_id})`}`
    : `Cloud sync: failed at ${record.failed_at} after ${record.attempts} attempt(s): ${record.error.message}`

const statusText = (view: StatusView) => {
  const m = view.manifest
  return [
    `Run: ${m.run_id}`,
    `Status: ${m.status}${m.status_detail === null ? "" : ` (${m.status_detail})`}${
      view.stale ? ` — stale: no heartbeat since ${m.heartbeat_at}; resume it with: resume --run ${m.run_id}` : ""
    }`,
    `Started: ${m.started_at}`,
    `Completed: ${m.completed_at ?? "in-progress"}`,
    `Manifest: ${m.artifact_root}/manifest.json`,
    ...(view.cloudSync === undefined ? [] : [syncText(view.cloudSync)]),
    "Commands:",
    ...m.commands.map((c) =>
      `  [${c.status}] ${c.title}${c.attempts !== undefined && c.attempts > 1 ? ` (attempt ${c.attempts})` : ""}${
        c.summary === null ? "" : ` — ${c.summary.split("\n")[0]}`
      }`
    )
  ].join("\n")
}

const watch = Options.boolean("watch").pipe(
  Options.withDescription("Print again whenever the run changes, until it is finished")
)
const interval = Options.integer("interval").pipe(
  Options.withDescription("Seconds between checks with --watch (a positive integer)"),
  Options.withDefault(10)
)

export const status = Command.make(
  "status",
  { run: runArg, runFlag: runOption, task, format, watch, interval, verbose },
  (flags) =>
    Effect.gen(function*() {
      const reader = yield* RunReader
      const runId = yield* requireRunId("status", flags.run, flags.runFlag)
      const request = { runId, taskId: Option.getOrUndefined(flags.task) }
      if (!flags.watch) {
        const view = yield* reader.status(request)
        return yield* flags.format === "json" ? printJson(statusJson(view)) : Console.log(statusText(view))
      }
      if (flags.interval <= 0) {
        return yield* new UsageError({ reason: `--interval must be a positive integer (seconds), got ${flags.interval}.` })
      }
      // One compact JSON document per line with --format json, so `--watch` output streams into jq.
      yield* Stream.runForEach(reader.watch(request, Duration.seconds(flags.interval)), (view) =>
        flags.format === "json" ? Console.log(JSON.stringify(statusJson(view))) : Console.log(`${statusText(view)}\n`))
    })
).pipe(Command.withDescription(
  "Show a run's status from its manifest (never writes). --watch prints again on every change until the run " +
    "is finished. A run that is not finished and has no recent heartbeat is reported stale."
))
