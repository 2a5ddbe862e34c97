/** The Ink view (HUD-1) on scripted event sequences, frames read as text with ink-testing-library. */
import { assert, describe, it } from "@effect/vitest"
import { render } from "ink-testing-library"
import React from "react"
import { HudView } from "../../src/hud/HudView.js"
import { addNote, type HudState, initialHudState, reduceHudAll } from "../../src/hud/HudState.js"
import type { OrchestratorEvent } from "../../src/domain/Events.js"
import {
  atMs,
  output,
  redacted,
  runCompleted,
  runStarted,
  stageCompleted,
  stageStarted,
  toolCall
} from "../support/hudEvents.js"

const frameOf = (state: HudState, nowMs: number) => {
  const view = render(React.createElement(HudView, { state, nowMs }))
  const frame = view.lastFrame() ?? ""
  view.unmount()
  return frame.split("\n")
}

/** The frames after each prefix of `events`, as rerenders of one mounted view. */
const framesOf = (events: ReadonlyArray<OrchestratorEvent>, nowMs: (i: number) => number) => {
  let state = initialHudState
  const view = render(React.createElement(HudView, { state, nowMs: nowMs(0) }))
  const frames: Array<string> = [view.lastFrame() ?? ""]
  events.forEach((event, i) => {
    state = reduceHudAll([event], state)
    view.rerender(React.createElement(HudView, { state, nowMs: nowMs(i + 1) }))
    frames.push(view.lastFrame() ?? "")
  })
  view.unmount()
  return frames
}

describe("HudView", () => {
  it("idle until the first run event", () => {
    assert.deepStrictEqual(frameOf(initialHudState, 0), ["codex-orchestrator HUD", "Awaiting run events..."])
  })

  it("a run: header, paths, a row per stage turning succeeded, the output tail and the footer", () => {
    const frames = framesOf([
      runStarted(["build", "test"]),
      stageStarted("build", 1, 0),
      output("build", 1, "compiling\n"),
      stageCompleted("build", 1, 2, "succeeded", "built 3 files"),
      stageStarted("test", 2, 2),
      stageCompleted("test", 2, 3, "succeeded"),
      runCompleted("succeeded", 3)
    ], (i) => atMs(i))
    const running = frames[3]?.split("\n") ?? []
    assert.strictEqual(running[0], "HUD | TASK demo | RUN run-1 | STATUS [IN_PROGRESS] | ELAPSED 00:03")
    assert.include(running[1], "pipeline: demo (Demo) | manifest: .runs/demo/cli/run-1/manifest.json")
    assert.strictEqual(running[2], "[01] RUNNING   Build 3.0s - .runs/demo/cli/run-1/commands/01-build.ndjson")
    assert.strictEqual(running[3], "[02] PENDING   Test")
    assert.deepStrictEqual(running.slice(4, 6), ["output:", "  [build] compiling"])
    const last = frames.at(-1)?.split("\n") ?? []
    assert.strictEqual(last[0], "HUD | TASK demo | RUN run-1 | STATUS [SUCCEEDED] | ELAPSED 00:03")
    assert.strictEqual(last[2], "[01] SUCCEEDED Build 2.0s - built 3 files")
    assert.strictEqual(last[3], "[02] SUCCEEDED Test 1.0s - .runs/demo/cli/run-1/commands/02-test.ndjson")
    assert.strictEqual(last.at(-2)?.slice(0, 80), "read-only HUD | manifest: .runs/demo/cli/run-1/manifest.json | metrics: .runs/de")
    assert.strictEqual(last.at(-1), "interactive HUD (read-only)")
  })

  it("several stages running at once, each with its own output lines", () => {
    const state = reduceHudAll([
      runStarted(["lint", "unit", "e2e"]),
      stageStarted("lint", 1, 0),
      stageStarted("unit", 2, 0),
      output("unit", 2, "u1\n"),
      output("lint", 1, "l1\n")
    ])
    const frame = frameOf(state, atMs(1))
    assert.deepStrictEqual(frame.slice(2, 5), [
      "[01] RUNNING   Lint 1.0s - .runs/demo/cli/run-1/commands/01-lint.ndjson",
      "[02] RUNNING   Unit 1.0s - .runs/demo/cli/run-1/commands/02-unit.ndjson",
      "[03] PENDING   E2e"
    ])
    assert.deepStrictEqual(frame.slice(5, 8), ["output:", "  [unit] u1", "  [lint] l1"])
  })

  it("the last 8 output lines only", () => {
    const lines = Array.from({ length: 20 }, (_, i) => `n${i}`).join("\n") + "\n"
    const frame = frameOf(reduceHudAll([runStarted(["a"]), stageStarted("a", 1, 0), output("a", 1, lines)]), atMs(0))
    const tail = frame.filter((row) => row.startsWith("  [a] "))
    assert.deepStrictEqual(tail, Array.from({ length: 8 }, (_, i) => `  [a] n${i + 12}`))
  })

  it("a retry: the attempt and the reason, then the stage turning succeeded on attempt 2", () => {
    const retrying = reduceHudAll([
      runStarted(["flaky"]),
      stageStarted("flaky", 1, 0),
      toolCall("flaky", 1, "started", 1, 0),
      toolCall("flaky", 1, "retry", 1, 1, "exited with code 1")
    ])
    assert.include(frameOf(retrying, atMs(1))[2], "(attempt 1) - exited with code 1; retry 2")
    const done = reduceHudAll([toolCall("flaky", 1, "started", 2, 2), stageCompleted("flaky", 1, 3, "succeeded", "ok")], retrying)
    assert.strictEqual(frameOf(done, atMs(4))[2], "[01] SUCCEEDED Flaky 3.0s (attempt 2) - ok")
  })

  it("the privacy guard's count while the stages run, from privacy:redacted, then the run's total at the end", () => {
    const frames = framesOf([
      runStarted(["build", "deploy"]),
      stageStarted("build", 1, 0),
      stageStarted("deploy", 2, 0),
      redacted("build", 1, 1, 1),
      redacted("build", 1, 1, 4),
      redacted("deploy", 2, 2, 2, 1),
      // A late copy of an older count (coalesced events of one stage only grow) changes nothing.
      redacted("build", 1, 2, 3),
      redacted("step", 1, 2, 2, 0, "child-run"),
      stageCompleted("build", 1, 3),
      stageCompleted("deploy", 2, 3),
      runCompleted("succeeded", 3, { redactedFrames: 6, blockedFrames: 1 })
    ], (i) => atMs(i))
    const privacyRow = (frame: string | undefined) => frame?.split("\n").find((row) => row.startsWith("privacy guard:"))
    assert.strictEqual(privacyRow(frames[3]), undefined, "nothing redacted yet, no line")
    assert.strictEqual(privacyRow(frames[4]), "privacy guard: 1 output chunk redacted")
    assert.include(frames[4], "RUNNING   Build", "shown while the stage runs")
    assert.strictEqual(privacyRow(frames[5]), "privacy guard: 4 output chunks redacted")
    assert.strictEqual(privacyRow(frames[6]), "privacy guard: 7 output chunks redacted")
    assert.strictEqual(privacyRow(frames[7]), "privacy guard: 7 output chunks redacted")
    assert.strictEqual(privacyRow(frames[8]), "privacy guard: 9 output chunks redacted", "a nested run's stage counts too")
    assert.strictEqual(privacyRow(frames.at(-1)), "privacy guard: 9 output chunks redacted", "the summary does not lower it")
  })

  it("privacy redactions, an approval waiting and warnings logged by the run", () => {
    const base = reduceHudAll([runStarted(["deploy"]), runCompleted("succeeded", 1, { redactedFrames: 2, blockedFrames: 0 })])
    const state = addNote({ ...base, approval: { stageId: "deploy", title: "Deploy", command: "make deploy" } }, {
      level: "warning",
      text: "deploy: attempt 2 of 3 in 1000 ms"
    })
    const frame = frameOf(state, atMs(1))
    assert.include(frame, "APPROVAL waiting: Deploy (deploy) wants to run: make deploy")
    assert.include(frame, "privacy guard: 2 output chunks redacted")
    assert.include(frame, "deploy: attempt 2 of 3 in 1000 ms")
  })

  it("NO_COLOR: with colour off, no line has a colour or a style (dim, bold)", () => {
    const base = reduceHudAll([runStarted(["deploy", "build"]), stageStarted("deploy", 1, 0), redacted("deploy", 1, 1, 1)])
    const state = addNote({ ...base, approval: { stageId: "deploy", title: "Deploy", command: "make deploy" } }, {
      level: "error",
      text: "deploy: failed"
    })
    /** The keys of the Text elements that carry a colour or a style, through the whole tree. */
    const styled = (node: unknown): ReadonlyArray<string> => {
      if (Array.isArray(node)) return node.flatMap(styled)
      if (!React.isValidElement(node)) return []
      const props = node.props as { readonly color?: string; readonly dimColor?: boolean; readonly bold?: boolean; readonly children?: unknown }
      const own = props.color !== undefined || props.dimColor === true || props.bold === true ? [String(node.key)] : []
      return [...own, ...styled(props.children)]
    }
    for (const shown of [state, initialHudState]) {
      assert.isAbove(styled(HudView({ state: shown, nowMs: atMs(1) })).length, 0, "colour by default")
      assert.deepStrictEqual(styled(HudView({ state: shown, nowMs: atMs(1), colour: false })), [])
    }
  })
})
