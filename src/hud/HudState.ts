/**
 * What the HUD shows (SPEC HUD-1, DECISIONS B-6), as a pure fold of run events: `reduceHud(state,
 * event)` is all a view needs, so any embedder can feed it from their own EventBus and draw it
 * however they like. Nothing here reads a clock: times come from the events' timestamps, and the
 * view is given "now" when it draws (elapsed time, a retry's countdown).
 */
import type { OrchestratorEvent } from "../domain/Events.js"

/** One stage row. */
export interface HudStage {
  readonly index: number
  readonly id: string
  readonly title: string
  readonly kind: "command" | "subpipeline"
  readonly status: string
  readonly summary: string | null
  readonly logPath: string | null
  /** Epoch ms of its latest `stage:started`, and of its `stage:completed`. */
  readonly startedAtMs: number | null
  readonly finishedAtMs: number | null
  /** The attempt running or last run (1-based; 0 before the first). */
  readonly attempt: number
  /** A failed attempt that will be tried again: when the next one starts (epoch ms, if known). */
  readonly retry: { readonly nextAttempt: number; readonly reason: string; readonly atMs: number | null } | null
  /** Where a stage runs when its events say (a cloud stage's runner). */
  readonly runner: string | null
}

/** One line of a stage's output. */
export interface HudLine {
  readonly stageId: string
  readonly source: "stdout" | "stderr"
  readonly text: string
}

/** A stage waiting for a person to approve it. */
export interface HudApproval {
  readonly stageId: string
  readonly title: string
  readonly command: string
}

/** A progress or warning line the run logged while the HUD was up. */
export interface HudNote {
  readonly level: "info" | "warning" | "error"
  readonly text: string
}

/** Everything the HUD shows of one run; `initialHudState` before any event. */
export interface HudState {
  readonly taskId: string | null
  /** The run the HUD follows: the first `run:started` it sees (a nested run's rows are its stage's). */
  readonly runId: string | null
  readonly pipelineId: string | null
  readonly pipelineTitle: string | null
  readonly status: string
  readonly startedAtMs: number | null
  readonly finishedAtMs: number | null
  readonly manifestPath: string | null
  readonly logPath: string | null
  readonly metricsPath: string | null
  readonly summaryPath: string | null
  readonly stages: ReadonlyArray<HudStage>
  /** The latest output lines, oldest first, at most `tailLimit`. */
  readonly tail: ReadonlyArray<HudLine>
  /** Per stage and stream, the end of its output that is not a whole line yet. */
  readonly partial: ReadonlyMap<string, string>
  readonly approval: HudApproval | null
  /** Output chunks the privacy guard redacted or blocked, over the run's stages. */
  readonly redactions: number
  /** The latest `privacy:redacted` count per run and stage, which `redactions` adds up as they grow. */
  readonly redactionsByStage: ReadonlyMap<string, number>
  readonly error: string | null
  /** The latest progress and warning lines, oldest first, at most `noteLimit`. */
  readonly notes: ReadonlyArray<HudNote>
}

/** HUD-1: this many output lines are kept (the view shows the last few). */
export const tailLimit = 200
/** This many progress lines are kept. */
export const noteLimit = 20
/** A line longer than this is cut: a stage printing one huge line must not make every redraw slow. */
export const lineLimit = 1000

/** The HUD before any event: idle, no run, no stages. */
export const initialHudState: HudState = {
  taskId: null,
  runId: null,
  pipelineId: null,
  pipelineTitle: null,
  status: "idle",
  startedAtMs: null,
  finishedAtMs: null,
  manifestPath: null,
  logPath: null,
  metricsPath: null,
  summaryPath: null,
  stages: [],
  tail: [],
  partial: new Map(),
  approval: null,
  redactions: 0,
  redactionsByStage: new Map(),
  error: null,
  notes: []
}

const msOf = (timestamp: string): number | null => {
  const ms = Date.parse(timestamp)
  return Number.isNaN(ms) ? null : ms
}

const isTerminal = (status: string) => status === "succeeded" || status === "failed" || status === "cancelled"

const patchStage = (state: HudState, stageId: string, patch: (stage: HudStage) => HudStage): HudState => ({
  ...state,
  stages: state.stages.map((stage) => (stage.id === stageId ? patch(stage) : stage))
})

const newStage = (index: number, id: string, title: string, kind: HudStage["kind"]): HudStage => ({
  index,
  id,
  title,
  kind,
  status: "pending",
  summary: null,
  logPath: null,
  startedAtMs: null,
  finishedAtMs: null,
  attempt: 0,
  retry: null,
  runner: null
})

/** The stage, added in index order when `run:started` did not list it (an embedder's own events). */
const ensureStage = (state: HudState, index: number, id: string, title: string, kind: HudStage["kind"]): HudState =>
  state.stages.some((stage) => stage.id === id)
    ? state
    : { ...state, stages: [...state.stages, newStage(index, id, title, kind)].sort((a, b) => a.index - b.index) }

const clip = (text: string) => (text.length > lineLimit ? `${text.slice(0, lineLimit)}…` : text)

/**
 * Output: whole lines go to the tail (only the last `tailLimit` of a chunk are even looked at, so a
 * chunk of 100k lines costs one split); an unfinished line waits for the rest.
 */
const addOutput = (state: HudState, stageId: string, source: HudLine["source"], text: string): HudState => {
  const key = `${stageId}\u0000${source}`
  const lines = `${state.partial.get(key) ?? ""}${text}`.split("\n")
  const rest = lines.pop() ?? ""
  const partial = new Map(state.partial)
  if (rest.length > 0) partial.set(key, rest.length > lineLimit ? rest.slice(-lineLimit) : rest)
  else partial.delete(key)
  if (lines.length === 0) return { ...state, partial }
  const fresh = lines.slice(-tailLimit).map((line) => ({ stageId, source, text: clip(line.replace(/\r$/, "")) }))
  return { ...state, partial, tail: [...state.tail, ...fresh].slice(-tailLimit) }
}

/** A stage that stopped keeps what it printed last, even without a final newline. */
const flushOutput = (state: HudState, stageId: string): HudState => {
  let next = state
  for (const source of ["stdout", "stderr"] as const) {
    const rest = next.partial.get(`${stageId}\u0000${source}`)
    if (rest !== undefined) next = addOutput(next, stageId, source, "\n")
  }
  return next
}

/** A line the run logged (progress, warnings), for the notes panel. */
export const addNote = (state: HudState, note: HudNote): HudState => ({
  ...state,
  notes: [...state.notes, { ...note, text: clip(note.text) }].slice(-noteLimit)
})

const onRunStarted = (state: HudState, event: Extract<OrchestratorEvent, { type: "run:started" }>): HudState => {
  if (state.runId !== null && state.runId !== event.runId) return state
  return {
    ...state,
    taskId: event.taskId,
    runId: event.runId,
    pipelineId: event.pipelineId,
    pipelineTitle: event.pipelineTitle,
    status: event.status,
    startedAtMs: state.startedAtMs ?? msOf(event.timestamp),
    manifestPath: event.manifestPath,
    logPath: event.logPath,
    stages: event.stages.map((view) => ({
      ...newStage(view.index, view.id, view.title, view.kind),
      status: view.status,
      summary: view.summary,
      logPath: view.logPath
    }))
  }
}

const onRunCompleted = (state: HudState, event: Extract<OrchestratorEvent, { type: "run:completed" }>): HudState => {
  if (state.runId !== null && state.runId !== event.runId) return state
  const privacy = event.summary.privacy
  return {
    ...state,
    taskId: state.taskId ?? event.taskId,
    runId: state.runId ?? event.runId,
    status: event.status ?? (event.summary.build.success ? "succeeded" : "failed"),
    finishedAtMs: msOf(event.timestamp),
    manifestPath: event.manifestPath ?? state.manifestPath,
    metricsPath: event.metricsPath ?? state.metricsPath,
    summaryPath: event.runSummaryPath ?? state.summaryPath,
    redactions: privacy === undefined ? state.redactions : Math.max(state.redactions, privacy.redactedFrames + privacy.blockedFrames),
    approval: null
  }
}

const onToolCall = (state: HudState, event: Extract<OrchestratorEvent, { type: "tool:call" }>): HudState =>
  patchStage(state, event.stageId, (stage) => {
    switch (event.status) {
      case "started":
        return { ...stage, attempt: event.attempt, retry: null }
      case "retry": {
        const sentMs = msOf(event.timestamp)
        const atMs = sentMs === null || event.delayMs === undefined ? null : sentMs + event.delayMs
        return { ...stage, attempt: event.attempt, retry: { nextAttempt: event.attempt + 1, reason: event.message, atMs } }
      }
      case "succeeded":
      case "skipped":
      case "failed":
        return { ...stage, attempt: event.attempt, retry: null }
    }
  })

/** A stage's counts grew (a nested run's stages count too: their output is in the tail). */
const onRedacted = (state: HudState, event: Extract<OrchestratorEvent, { type: "privacy:redacted" }>): HudState => {
  const key = `${event.runId}\u0000${event.stageId}`
  const previous = state.redactionsByStage.get(key) ?? 0
  const caught = event.redactedFrames + event.blockedFrames
  if (caught <= previous) return state
  return {
    ...state,
    redactions: state.redactions + caught - previous,
    redactionsByStage: new Map(state.redactionsByStage).set(key, caught)
  }
}

/** The next state after `event`. Events of another run only add their output (a nested run's stages). */
export const reduceHud = (state: HudState, event: OrchestratorEvent): HudState => {
  switch (event.type) {
    case "run:started":
      return onRunStarted(state, event)
    case "run:completed":
      return onRunCompleted(state, event)
    case "log":
      return addOutput(state, event.stageId, event.source, event.message)
    case "privacy:redacted":
      return onRedacted(state, event)
    case "run:created":
    case "plan:completed":
    case "build:completed":
    case "test:completed":
    case "review:completed":
      return state
  }
  if (state.runId !== null && event.runId !== state.runId) return state
  switch (event.type) {
    case "stage:started": {
      const known = ensureStage(state, event.stageIndex, event.stageId, event.title, event.kind)
      return patchStage(known, event.stageId, (stage) => ({
        ...stage,
        status: event.status,
        logPath: event.logPath ?? stage.logPath,
        startedAtMs: msOf(event.timestamp),
        finishedAtMs: null,
        summary: null,
        retry: null
      }))
    }
    case "stage:completed": {
      const known = flushOutput(ensureStage(state, event.stageIndex, event.stageId, event.title, event.kind), event.stageId)
      const approval = known.approval?.stageId === event.stageId ? null : known.approval
      return patchStage({ ...known, approval }, event.stageId, (stage) => ({
        ...stage,
        status: event.status,
        summary: event.summary,
        logPath: event.logPath ?? stage.logPath,
        finishedAtMs: msOf(event.timestamp),
        retry: null
      }))
    }
    case "run:error":
      return { ...state, error: event.message, status: state.status === "succeeded" ? state.status : "failed" }
    case "tool:call":
      return onToolCall(state, event)
    case "stage:runner":
      return patchStage(state, event.stageId, (stage) => ({ ...stage, runner: event.runner }))
  }
}

/** Folds a sequence of events from `state` (the initial state by default). */
export const reduceHudAll = (events: Iterable<OrchestratorEvent>, state: HudState = initialHudState): HudState => {
  let next = state
  for (const event of events) next = reduceHud(next, event)
  return next
}

/** Whether the run the HUD follows has ended. */
export const isFinished = (state: HudState): boolean => state.finishedAtMs !== null || isTerminal(state.status) && state.runId !== null
