/**
 * What `status` prints (SPEC CLI-7, D-9) and the loop of `--watch`: reads a run, never writes. Shared
 * by the `status` command (status.ts, parsed by @effect/cli) and the quick path of statusMain.ts, and
 * free of @effect/cli so that the quick path starts without it.
 */
import { Console, Duration, Effect, Stream } from "effect"
import { idProblem } from "../domain/Ids.js"
import { oneLine, shortened } from "../domain/OneLine.js"
import { keptText, ranOnText } from "../domain/RemoteStageText.js"
import type { StatusView } from "../services/RunEngine.js"
import { RunReader } from "../services/RunReader.js"
import { stdoutClosed } from "./streams.js"
import { printJson, UsageError } from "./usage.js"

/** `status`'s flags, parsed. */
export interface StatusFlags {
  readonly runId: string
  readonly taskId: string | undefined
  readonly format: "text" | "json"
  readonly watch: boolean
  /** Seconds between checks with `watch`. */
  readonly interval: number
}

const runningIds = (view: StatusView) => view.manifest.commands.filter((c) => c.status === "running").map((c) => c.id)

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
  parent_run_id: view.manifest.parent_run_id ?? null,
  parent_stage_id: view.manifest.parent_stage_id ?? null,
  execution_mode: view.manifest.execution_mode ?? null,
  cloud_fallback_reason: view.manifest.cloud_fallback_reason ?? null,
  // SYNC: whether and when the run was uploaded; null when it never was (or sync is off).
  cloud_sync: view.cloudSync ?? null,
  // B-2: every stage running now (a graph runs several at once).
  running: runningIds(view),
  commands: view.manifest.commands,
  child_runs: view.manifest.child_runs
})

// One line whatever the record holds: a remote id stored by an earlier build, or a server's error
// text, may carry line breaks and escape codes.
const syncText = (record: NonNullable<StatusView["cloudSync"]>) =>
  record.status === "synced"
    ? `Cloud sync: synced at ${record.synced_at}${record.remote_id === undefined ? "" : ` (remote id ${shortened(oneLine(record.remote_id))})`}`
    : `Cloud sync: failed at ${record.failed_at} after ${record.attempts} attempt(s): ${shortened(oneLine(record.error.message))}`

/**
 * D-9: how to resume a stale run. A nested stage's child run is resumed through its parent (which
 * settles the child and runs the stage again in a new one, RUN-9), not on its own.
 */
const resumeHint = (m: StatusView["manifest"]) => {
  const parent = m.parent_stage_id === undefined ? undefined : m.parent_run_id
  return parent === undefined || parent === null || idProblem(parent) !== undefined
    ? `resume it with: resume --run ${m.run_id} --task ${m.task_id}`
    : `it is the child run of stage ${m.parent_stage_id} of run ${parent}: resume that run with: resume --run ${parent} --task ${m.task_id}`
}

/**
 * CLI-7 text. Every value comes from the manifest as written, which a hand edit may have given line
 * breaks or escape codes: each line is printed escaped (the ids are checked when read), so a value
 * never starts a line of its own.
 */
const statusText = (view: StatusView) => {
  const m = view.manifest
  return [
    `Run: ${m.run_id}`,
    `Status: ${m.status}${m.status_detail === null ? "" : ` (${m.status_detail})`}${
      view.stale ? ` — stale: no heartbeat since ${m.heartbeat_at}; ${resumeHint(m)}` : ""
    }`,
    `Started: ${m.started_at}`,
    `Completed: ${m.completed_at ?? "in-progress"}`,
    ...(runningIds(view).length === 0 ? [] : [`Running: ${runningIds(view).join(", ")}`]),
    `Manifest: ${m.artifact_root}/manifest.json`,
    ...(view.cloudSync === undefined ? [] : [syncText(view.cloudSync)]),
    "Commands:",
    ...m.commands.map((c) =>
      `  [${c.status}] ${c.title}${c.attempts !== undefined && c.attempts > 1 ? ` (attempt ${c.attempts})` : ""}${ranOnText(c.remote)}${
        c.summary === null ? "" : ` — ${shortened(c.summary.split("\n")[0] ?? "")}`
      }${keptText(c.remote)}`
    )
  ].map(oneLine).join("\n")
}

/**
 * `status` or `resume` without a run id: bad input (exit 2) as for every command that needs one, on
 * one line with the task's newest run and the command to copy, or that the task has no runs.
 */
export const missingRunId = (command: "status" | "resume", taskId: string | undefined) =>
  Effect.gen(function*() {
    const reader = yield* RunReader
    const hint = yield* reader.newestRun(taskId).pipe(
      Effect.map((found) =>
        found.runId === undefined
          ? `Task ${found.taskId} has no runs (in ${found.runsDir}).`
          : `The newest run of task ${found.taskId} is ${found.runId}: ` +
            `codex-orchestrator ${command} --run ${found.runId} --task ${found.taskId}`
      ),
      // The task cannot be read (an invalid MCP_RUNNER_TASK_ID, a folder we may not list): that is the hint.
      Effect.catchAll((error) => Effect.succeed(error.message))
    )
    return yield* new UsageError({ reason: `${command} requires --run <run-id>. ${hint}` })
  })

const maxIntervalSeconds = 86_400

/** Prints the run's status once, or with `watch` again on every change until the run is finished. */
export const showStatus = (flags: StatusFlags, outputClosed: Effect.Effect<boolean> = stdoutClosed) =>
  Effect.gen(function*() {
    const reader = yield* RunReader
    const request = { runId: flags.runId, taskId: flags.taskId }
    // Past a day, the timer would be longer than a JavaScript timer can wait (2^31 - 1 ms = 24.8
    // days, where it never fires): the watch would never look again, even after the run ended.
    if (flags.interval <= 0 || flags.interval > maxIntervalSeconds) {
      return yield* new UsageError({
        reason: `--interval must be a positive integer (seconds) up to ${maxIntervalSeconds} (a day), got ${flags.interval}.`
      })
    }
    if (!flags.watch) {
      const view = yield* reader.status(request)
      return yield* flags.format === "json" ? printJson(statusJson(view)) : Console.log(statusText(view))
    }
    // One compact JSON document per line with --format json, so `--watch` output streams into jq.
    // Printed only when what is printed changes: the text does not show the heartbeat, so a
    // heartbeat alone does not print the same block again.
    const render = (view: StatusView) => flags.format === "json" ? JSON.stringify(statusJson(view)) : `${statusText(view)}\n`
    // A reader that went away (`| head -1`) ends the watch at the next print, as a closed pipe ends
    // `tail -f`: the watch would otherwise go on, printing to nobody, until the run ends.
    yield* Stream.runForEach(
      reader.watch(request, Duration.seconds(flags.interval)).pipe(
        Stream.map(render),
        Stream.changes,
        Stream.mapEffect((text) => Effect.map(outputClosed, (closed) => (closed ? undefined : text))),
        Stream.takeWhile((text): text is string => text !== undefined)
      ),
      (text) => Console.log(text)
    )
  })
