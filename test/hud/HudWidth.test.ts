/**
 * renderHud on a terminal that reports 0 columns (a pseudo-terminal nobody sized, often with
 * COLUMNS=0 too): the HUD is drawn at 80 columns instead of as empty lines.
 */
import { Writable } from "node:stream"
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import { fallbackColumns, renderHud, withWidth } from "../../src/hud/HudView.js"
import { initialHudState, reduceHudAll } from "../../src/hud/HudState.js"
import { atMs, runStarted, stageStarted } from "../support/hudEvents.js"

/** A terminal-like stream of `columns` columns that keeps what is written to it. */
const terminal = (columns: number) => {
  const chunks: Array<string> = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString())
      done()
    }
  })
  return { stream: Object.assign(stream, { columns, rows: 0, isTTY: true }) as unknown as NodeJS.WriteStream, text: () => chunks.join("") }
}

// Ink asks the environment when the stream says 0; such terminals usually say 0 there too.
const saved = { COLUMNS: process.env.COLUMNS, LINES: process.env.LINES }
beforeEach(() => {
  process.env.COLUMNS = "0"
  process.env.LINES = "0"
})
afterEach(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
})

describe("the HUD's width", () => {
  it("draws the run on a terminal that reports 0 columns, cut at the fallback width", () => {
    const { stream, text } = terminal(0)
    const state = reduceHudAll([runStarted(["build"]), stageStarted("build", 1, 0)], initialHudState)
    const hud = renderHud(state, atMs(1), { stdout: stream })
    hud.unmount()
    const drawn = text()
    assert.include(drawn, "HUD | TASK demo | RUN run-1")
    assert.include(drawn, "[01] RUNNING   Build")
    // The paths line is longer than 80 columns: it is cut there (ending in …), not wrapped and not dropped.
    const escapes = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]|\n`)
    const longest = Math.max(...drawn.split(escapes).map((line) => line.length))
    assert.strictEqual(longest, fallbackColumns)
  })

  it("leaves a terminal that reports its width as it is", () => {
    const { stream } = terminal(120)
    assert.strictEqual(withWidth(stream), stream)
    assert.strictEqual(withWidth(terminal(0).stream).columns, fallbackColumns)
  })
})
