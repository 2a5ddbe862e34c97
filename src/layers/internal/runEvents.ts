/**
 * The events a run publishes while its stages run (SPEC EVT-2), built from the run's files so that
 * every event follows the manifest write it describes. One object for the phases that publish them
 * (the stage loop and the command stage), built once from the bus.
 */
import { Clock, Effect } from "effect"
import type { CliManifest } from "../../domain/Manifest.js"
import { type PrivacyMode, redact } from "../../domain/Privacy.js"
import type { RunLayout } from "../../domain/RunLayout.js"
import type { EventBus } from "../../services/EventBus.js"
import type { RunFiles } from "../../services/RunStore.js"
import { iso, isoNow } from "../../domain/Time.js"
import { privacyEventIntervalMs, type ToolCallStatus } from "../../domain/Events.js"

/** Names a run in the events about it. */
type RunRef = Pick<CliManifest, "task_id" | "run_id">

type Bus = EventBus["Type"]

/** stage:started / stage:completed, from the entry as the manifest now has it. */
const stageEvent = (bus: Bus) => (files: RunFiles, position: number, phase: "started" | "completed") =>
  Effect.gen(function*() {
    const m = yield* files.manifest
    const entry = m.commands[position]
    if (entry === undefined) return
    const base = {
      taskId: m.task_id,
      runId: m.run_id,
      timestamp: yield* isoNow,
      stageId: entry.id,
      stageIndex: entry.index,
      title: entry.title,
      kind: entry.kind,
      status: entry.status,
      logPath: entry.log_path
    }
    yield* bus.publish(phase === "started" ? { type: "stage:started", ...base } : {
      type: "stage:completed",
      ...base,
      exitCode: entry.exit_code,
      summary: entry.summary,
      subRunId: entry.sub_run_id
    })
  })

/** run:started, with every stage as the started manifest records it. */
const runStartedEvent = (bus: Bus) => (started: CliManifest, layout: RunLayout, timestamp: string) =>
  bus.publish({
    type: "run:started",
    taskId: started.task_id,
    runId: started.run_id,
    timestamp,
    pipelineId: started.pipeline_id,
    pipelineTitle: started.pipeline_title,
    manifestPath: layout.relative(layout.manifest),
    logPath: started.log_path,
    status: started.status,
    stages: started.commands.map((c) => ({
      index: c.index,
      id: c.id,
      title: c.title,
      kind: c.kind,
      status: c.status,
      summary: c.summary,
      exitCode: c.exit_code,
      logPath: c.log_path,
      subRunId: c.sub_run_id
    }))
  })

/** run:error: a run that stops at a stage that did not succeed says which one, and why. */
const runErrorEvent = (bus: Bus) => (files: RunFiles, position: number) =>
  Effect.gen(function*() {
    const m = yield* files.manifest
    const entry = m.commands[position]
    if (entry === undefined || entry.status === "succeeded") return
    yield* bus.publish({
      type: "run:error",
      taskId: m.task_id,
      runId: m.run_id,
      timestamp: yield* isoNow,
      pipelineId: m.pipeline_id,
      stageId: entry.id,
      message: entry.summary ?? `Stage '${entry.id}' ${entry.status}.`
    })
  })

/** tool:call: an attempt started, will be retried (after `delayMs`), or the stage's process work ended. */
const toolCallEvent = (bus: Bus) => (run: RunRef, stageId: string, stageIndex: number) =>
(status: ToolCallStatus, attempt: number, message: string, delayMs?: number) =>
  Effect.flatMap(isoNow, (timestamp) =>
    bus.publish({
      type: "tool:call",
      taskId: run.task_id,
      runId: run.run_id,
      timestamp,
      stageId,
      stageIndex,
      toolName: "exec",
      status,
      message,
      attempt,
      ...(delayMs === undefined ? {} : { delayMs })
    }))

/** stage:runner: a remote attempt's runner, as the entry now records it. */
const runnerEvent = (bus: Bus) => (run: RunRef, stageId: string, stageIndex: number, executor: string) =>
(attempt: number, remote: { readonly runner: string; readonly host: string }) =>
  Effect.flatMap(isoNow, (timestamp) =>
    bus.publish({
      type: "stage:runner",
      taskId: run.task_id,
      runId: run.run_id,
      timestamp,
      stageId,
      stageIndex,
      attempt,
      executor,
      runner: remote.runner,
      host: remote.host
    }))

/**
 * log: a stage's output chunks as text, only while someone takes `log` events (decoding costs).
 * One decoder a stream, so a character split across chunks arrives whole.
 */
const outputEvents = (bus: Bus, privacyMode: PrivacyMode) => (run: RunRef, stageId: string, stageIndex: number) => {
  const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() }
  return (source: "stdout" | "stderr", bytes: Uint8Array) =>
    Effect.flatMap(bus.wantsLogs, (wanted) => {
      if (!wanted) return Effect.void
      const text = decoders[source].decode(bytes, { stream: true })
      // D-13: as the stage log has it (enforce releases whole lines, so a secret is redacted whole).
      const message = privacyMode === "enforce" ? redact(text).text : text
      return message.length === 0 ? Effect.void : Effect.flatMap(isoNow, (timestamp) =>
        bus.publish({
          type: "log",
          taskId: run.task_id,
          runId: run.run_id,
          timestamp,
          stageId,
          stageIndex,
          level: source === "stderr" ? "error" : "info",
          message,
          source
        }))
    })
}

/** What the privacy guard of a stage caught so far. */
export interface CaughtFrames {
  readonly redactedFrames: number
  readonly blockedFrames: number
}

/** Publishes a stage's `privacy:redacted` events: `seen` after each chunk the guard counted, `settle` when it ends. */
export interface RedactionEvents {
  /** Publishes the counts if they grew and none was published within the interval before `nowMs`. */
  readonly seen: (nowMs: number) => Effect.Effect<void>
  /** Publishes the counts if they grew since the last event: the stage's output is over. */
  readonly settle: Effect.Effect<void>
}

/**
 * privacy:redacted, coalesced (see the event): a stage whose every line holds a secret costs a
 * comparison a chunk and a few events a second, whatever it prints.
 */
const redactionEvents = (bus: Bus) => (run: RunRef, stageId: string, stageIndex: number, caught: () => CaughtFrames): RedactionEvents => {
  let published = 0
  let publishedAtMs = Number.NEGATIVE_INFINITY
  const publish = (nowMs: number, counts: CaughtFrames) => {
    published = counts.redactedFrames + counts.blockedFrames
    publishedAtMs = nowMs
    return bus.publish({
      type: "privacy:redacted",
      taskId: run.task_id,
      runId: run.run_id,
      timestamp: iso(nowMs),
      stageId,
      stageIndex,
      ...counts
    })
  }
  const grown = () => {
    const counts = caught()
    return counts.redactedFrames + counts.blockedFrames > published ? counts : undefined
  }
  return {
    seen: (nowMs) =>
      Effect.suspend(() => {
        const counts = nowMs - publishedAtMs < privacyEventIntervalMs ? undefined : grown()
        return counts === undefined ? Effect.void : publish(nowMs, counts)
      }),
    settle: Effect.suspend(() => {
      const counts = grown()
      return counts === undefined ? Effect.void : Effect.flatMap(Clock.currentTimeMillis, (nowMs) => publish(nowMs, counts))
    })
  }
}

export const makeRunEvents = (bus: Bus, privacyMode: PrivacyMode) => ({
  stage: stageEvent(bus),
  runStarted: runStartedEvent(bus),
  runError: runErrorEvent(bus),
  toolCall: toolCallEvent(bus),
  runner: runnerEvent(bus),
  output: outputEvents(bus, privacyMode),
  redactions: redactionEvents(bus)
})

export type RunEvents = ReturnType<typeof makeRunEvents>
