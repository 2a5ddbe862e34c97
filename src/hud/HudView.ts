/**
 * The HUD's Ink view (SPEC HUD-1): a read-only React component of a HudState, and `renderHud`, which
 * mounts it on a terminal and redraws it when told to. It neither subscribes to anything nor reads a
 * clock: whoever mounts it (Hud.mount, or an embedder's own loop) decides when to draw. Only this
 * module loads Ink and React, and it is imported on first use, so a run without a HUD never does.
 */
import { Box, render, Text } from "ink"
import React from "react"
import {
  approvalLine,
  footerLine,
  headerLine,
  pathsLine,
  privacyLine,
  stageLine,
  tailLines
} from "./HudFormat.js"
import type { HudNote, HudStage, HudState } from "./HudState.js"

const h = React.createElement

/** What the HUD is drawn from: the state and the clock reading of this draw (epoch ms). */
export interface HudViewProps {
  readonly state: HudState
  readonly nowMs: number
  /** Output lines shown (HUD-1: the last 8). */
  readonly tailCount?: number
  /** false: no colours and no styles (dim, bold), as NO_COLOR asks; true by default. */
  readonly colour?: boolean
}

const statusColor = (status: string): string | undefined => {
  switch (status) {
    case "succeeded":
      return "green"
    case "failed":
      return "red"
    case "running":
    case "in_progress":
      return "cyan"
    case "cancelled":
      return "yellow"
    default:
      return undefined
  }
}

type LineStyle = { readonly color?: string; readonly dimColor?: boolean; readonly bold?: boolean }
type Line = (key: string, text: string, style?: LineStyle) => React.ReactElement

/**
 * One line of text, cut at the terminal's width rather than wrapped (a frame keeps its height),
 * styled, or plain when colour is off.
 */
const lineWith = (colour: boolean): Line => (key, text, style = {}) =>
  h(Text, { key, wrap: "truncate-end", ...(colour ? style : {}) }, text)

const stageRow = (line: Line, stage: HudStage, nowMs: number) => {
  const color = stage.retry !== null ? "yellow" : statusColor(stage.status)
  return line(`stage-${stage.id}`, stageLine(stage, nowMs), color === undefined ? {} : { color })
}

const noteRow = (line: Line) => (note: HudNote, index: number) =>
  line(`note-${index}`, note.text, note.level === "info" ? { dimColor: true } : { color: note.level === "error" ? "red" : "yellow" })

const idle = (line: Line) =>
  h(Box, { flexDirection: "column" }, line("title", "codex-orchestrator HUD", { bold: true }), line("idle", "Awaiting run events..."))

/** The HUD of one run: header, paths, a row per stage, approval and privacy lines, output tail, footer. */
export const HudView = ({ state, nowMs, tailCount = 8, colour = true }: HudViewProps): React.ReactElement => {
  const line = lineWith(colour)
  if (state.runId === null) return idle(line)
  const tail = tailLines(state, tailCount)
  const privacy = privacyLine(state)
  const statusProps = statusColor(state.status)
  return h(
    Box,
    { flexDirection: "column" },
    line("header", headerLine(state, nowMs), statusProps === undefined ? { bold: true } : { bold: true, color: statusProps }),
    line("paths", pathsLine(state), { dimColor: true }),
    ...state.stages.map((stage) => stageRow(line, stage, nowMs)),
    ...(state.approval === null ? [] : [line("approval", approvalLine(state.approval), { color: "yellow", bold: true })]),
    ...(privacy === null ? [] : [line("privacy", privacy, { color: "magenta" })]),
    ...(state.error === null ? [] : [line("error", `error: ${state.error.split("\n")[0] ?? ""}`, { color: "red" })]),
    ...(tail.length === 0 ? [] : [line("output", "output:", { dimColor: true }), ...tail.map((text, i) => line(`tail-${i}`, `  ${text}`))]),
    ...state.notes.slice(-3).map(noteRow(line)),
    line("footer", footerLine(state), { dimColor: true }),
    line("note", "interactive HUD (read-only)", { dimColor: true })
  )
}

/** The terminal streams to draw on; Ink's defaults are the process's. */
export interface HudStreams {
  readonly stdout?: NodeJS.WriteStream
  readonly stderr?: NodeJS.WriteStream
  readonly stdin?: NodeJS.ReadStream
}

/** Where the HUD draws, and whether in colour (default true; Hud.mount follows NO_COLOR). */
export interface HudRenderOptions extends HudStreams {
  readonly colour?: boolean
}

/** A mounted HUD: draw a new state, or take it down (the last frame stays on the terminal). */
export interface HudRenderer {
  readonly update: (state: HudState, nowMs: number) => void
  readonly unmount: () => void
}

/** The width drawn at when a terminal reports none. */
export const fallbackColumns = 80

/**
 * The stream Ink draws on, reporting `fallbackColumns` when the terminal says it has 0 columns (a
 * pseudo-terminal nobody sized, as some CI runners and `docker run -t` give): Ink would then ask
 * COLUMNS, which such terminals often set to 0 as well, and cut every line to nothing.
 */
export const withWidth = (stdout: NodeJS.WriteStream): NodeJS.WriteStream =>
  stdout.columns !== 0 ? stdout : new Proxy(stdout, {
    get: (target, property) => (property === "columns" && target.columns === 0 ? fallbackColumns : Reflect.get(target, property, target))
  })

/**
 * Mounts the view. Ink neither reads the keyboard (stdin stays in cooked mode, so Ctrl-C is still the
 * SIGINT that cancels a run) nor patches the console; the caller throttles `update` (Ink itself
 * would redraw up to 30 times a second).
 */
export const renderHud = (state: HudState, nowMs: number, options: HudRenderOptions = {}): HudRenderer => {
  const { colour = true, ...streams } = options
  const instance = render(h(HudView, { state, nowMs, colour }), {
    ...streams,
    stdout: withWidth(streams.stdout ?? process.stdout),
    exitOnCtrlC: false,
    patchConsole: false
  })
  return {
    update: (next, at) => instance.rerender(h(HudView, { state: next, nowMs: at, colour })),
    unmount: () => instance.unmount()
  }
}
