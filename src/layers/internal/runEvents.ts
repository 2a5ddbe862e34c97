/**
 * The events a run publishes while its stages run (SPEC EVT-2), built from the run's files so that
 * every event follows the manifest write it describes. One object for the phases that publish them
 * (the stage loop and the command stage), built once from the bus.
 */
import { Effect } from "effect"
import type { CliManifest } from "../../domain/Manifest.js"
import { type PrivacyMode, redact } from "../../domain/Privacy.js"
import type { RunLayout } from "../../domain/RunLayout.js"
import type { EventBus } from "../../services/EventBus.js"
import type { RunFiles } from "../../services/RunStore.js"
import { isoNow } from "../../domain/Time.js"
import type { ToolCallStatus } from "../../domain/Events.js"

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

export const makeRunEvents = (bus: Bus, privacyMode: PrivacyMode) => ({
  stage: stageEvent(bus),
  runStarted: runStartedEvent(bus),
  runError: runErrorEvent(bus),
  toolCall: toolCallEvent(bus),
  output: outputEvents(bus, privacyMode)
})

export type RunEvents = ReturnType<typeof makeRunEvents>
