/**
 * The HUD's lines as text (SPEC HUD-1), apart from any renderer: the Ink view lays these out, and a
 * test or a plain-text embedder can print them as they are. `nowMs` is the clock reading of the draw.
 */
import type { HudApproval, HudLine, HudStage, HudState } from "./HudState.js"

const pad2 = (n: number) => String(n).padStart(2, "0")

/** `mm:ss`, or `hh:mm:ss` from an hour on. */
export const formatElapsed = (ms: number): string => {
  const total = Math.max(0, Math.floor(ms / 1000))
  const hours = Math.floor(total / 3600)
  const minutes = Math.floor((total % 3600) / 60)
  const seconds = total % 60
  return hours > 0 ? `${pad2(hours)}:${pad2(minutes)}:${pad2(seconds)}` : `${pad2(minutes)}:${pad2(seconds)}`
}

/** A stage's duration: `1.2s`, `45s`, `3m05s`. */
export const formatDuration = (ms: number): string => {
  if (ms < 10_000) return `${(Math.max(0, ms) / 1000).toFixed(1)}s`
  const seconds = Math.floor(ms / 1000)
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${pad2(seconds % 60)}s`
}

const runElapsed = (state: HudState, nowMs: number) =>
  state.startedAtMs === null ? 0 : (state.finishedAtMs ?? nowMs) - state.startedAtMs

/** `HUD | TASK <task> | RUN <run> | STATUS [<STATUS>] | ELAPSED <mm:ss>`. */
export const headerLine = (state: HudState, nowMs: number): string =>
  `HUD | TASK ${state.taskId ?? "-"} | RUN ${state.runId ?? "-"} | STATUS [${state.status.toUpperCase()}] | ELAPSED ${
    formatElapsed(runElapsed(state, nowMs))
  }`

/** The pipeline, manifest and run log. */
export const pathsLine = (state: HudState): string =>
  `pipeline: ${state.pipelineId ?? "-"}${state.pipelineTitle === null ? "" : ` (${state.pipelineTitle})`} | manifest: ${
    state.manifestPath ?? "-"
  } | log: ${state.logPath ?? "-"}`

const stageDuration = (stage: HudStage, nowMs: number) =>
  stage.startedAtMs === null ? "" : ` ${formatDuration((stage.finishedAtMs ?? nowMs) - stage.startedAtMs)}`

/** What a row says after its title: the retry countdown, else the summary, else the log path. */
const stageDetail = (stage: HudStage, nowMs: number) => {
  if (stage.retry !== null) {
    const wait = stage.retry.atMs === null ? "" : ` in ${Math.max(0, Math.ceil((stage.retry.atMs - nowMs) / 1000))}s`
    return `${stage.retry.reason}; retry ${stage.retry.nextAttempt}${wait}`
  }
  const summary = stage.summary?.split("\n")[0]
  return summary !== undefined && summary.length > 0 ? summary : stage.logPath ?? ""
}

/** `[NN] <STATUS> <title> <duration> (attempt n) on <runner> - <summary | log path>`. */
export const stageLine = (stage: HudStage, nowMs: number): string => {
  const attempt = stage.attempt > 1 || stage.retry !== null ? ` (attempt ${stage.attempt})` : ""
  const runner = stage.runner === null ? "" : ` on ${stage.runner}`
  const detail = stageDetail(stage, nowMs)
  return `[${pad2(stage.index)}] ${stage.status.toUpperCase().padEnd(9)} ${stage.title}${stageDuration(stage, nowMs)}${attempt}${runner}${
    detail.length > 0 ? ` - ${detail}` : ""
  }`
}

/** The stages running now. */
export const runningStages = (state: HudState): ReadonlyArray<HudStage> => state.stages.filter((stage) => stage.status === "running")

/** The last `count` output lines, each with its stage. */
export const tailLines = (state: HudState, count: number): ReadonlyArray<string> =>
  state.tail.slice(-count).map((line: HudLine) => `[${line.stageId}] ${line.text}`)

/** `APPROVAL waiting: <title> (<stage>) wants to run <command>`. */
export const approvalLine = (approval: HudApproval): string =>
  `APPROVAL waiting: ${approval.title} (${approval.stageId}) wants to run: ${approval.command}`

/** `read-only HUD | manifest: … | metrics: … | summary: …`. */
export const footerLine = (state: HudState): string =>
  `read-only HUD | manifest: ${state.manifestPath ?? "-"} | metrics: ${state.metricsPath ?? "-"} | summary: ${state.summaryPath ?? "-"}`

/** What the privacy guard did, when it did anything. */
export const privacyLine = (state: HudState): string | null =>
  state.redactions === 0 ? null : `privacy guard: ${state.redactions} output chunk${state.redactions === 1 ? "" : "s"} redacted`
