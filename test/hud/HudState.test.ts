/** The HUD's reducer (HUD-1): run events folded into what the HUD shows. */
import { assert, describe, it } from "@effect/vitest"
import { formatElapsed, headerLine, stageLine, tailLines } from "../../src/hud/HudFormat.js"
import { initialHudState, reduceHud, reduceHudAll, tailLimit } from "../../src/hud/HudState.js"
import {
  atMs,
  output,
  redacted,
  runCompleted,
  runError,
  runStarted,
  stageCompleted,
  stageStarted,
  toolCall
} from "../support/hudEvents.js"

describe("reduceHud", () => {
  it("run:started lists the stages pending; stage events move them to running and succeeded", () => {
    const started = reduceHudAll([runStarted(["build", "test"]), stageStarted("build", 1, 1)])
    assert.strictEqual(started.runId, "run-1")
    assert.strictEqual(started.status, "in_progress")
    assert.deepStrictEqual(started.stages.map((s) => s.status), ["running", "pending"])
    const done = reduceHudAll([stageCompleted("build", 1, 4, "succeeded", "built\nmore")], started)
    const build = done.stages[0]
    assert.strictEqual(build?.status, "succeeded")
    assert.strictEqual(build?.summary, "built\nmore")
    assert.strictEqual(build !== undefined && stageLine(build, atMs(9)), "[01] SUCCEEDED Build 3.0s - built")
  })

  it("header: task, run, upper-case status and elapsed time frozen at run:completed", () => {
    const running = reduceHudAll([runStarted(["build"], 0)])
    assert.strictEqual(headerLine(running, atMs(75)), "HUD | TASK demo | RUN run-1 | STATUS [IN_PROGRESS] | ELAPSED 01:15")
    const done = reduceHud(running, runCompleted("succeeded", 5))
    assert.strictEqual(headerLine(done, atMs(75)), "HUD | TASK demo | RUN run-1 | STATUS [SUCCEEDED] | ELAPSED 00:05")
    assert.strictEqual(done.metricsPath, ".runs/demo/metrics.json")
    assert.strictEqual(done.summaryPath, ".runs/demo/cli/run-1/run-summary.json")
    assert.strictEqual(formatElapsed(3_725_000), "01:02:05")
  })

  it("output: whole lines to the tail, a cut line held until its end, flushed when its stage completes", () => {
    const state = reduceHudAll([
      runStarted(["a", "b"]),
      stageStarted("a", 1, 0),
      stageStarted("b", 2, 0),
      output("a", 1, "one li"),
      output("b", 2, "b1\nb2\n"),
      output("a", 1, "ne\ncut"),
      stageCompleted("a", 1, 1)
    ])
    assert.deepStrictEqual(tailLines(state, 10), ["[b] b1", "[b] b2", "[a] one line", "[a] cut"])
    assert.deepStrictEqual(state.stages.map((s) => s.status), ["succeeded", "running"])
  })

  it("a chunk of 100k lines keeps only the last tailLimit lines", () => {
    const lines = Array.from({ length: 100_000 }, (_, i) => `line ${i}`).join("\n") + "\n"
    const state = reduceHudAll([runStarted(["a"]), stageStarted("a", 1, 0), output("a", 1, lines)])
    assert.strictEqual(state.tail.length, tailLimit)
    assert.strictEqual(state.tail.at(-1)?.text, "line 99999")
    assert.strictEqual(state.tail[0]?.text, `line ${100_000 - tailLimit}`)
  })

  it("retry: the failed attempt, the reason and the next attempt; cleared when it starts", () => {
    const retrying = reduceHudAll([
      runStarted(["flaky"]),
      stageStarted("flaky", 1, 0),
      toolCall("flaky", 1, "started", 1, 0),
      toolCall("flaky", 1, "retry", 1, 1, "exited with code 1")
    ])
    const flaky = retrying.stages[0]
    assert.deepStrictEqual(flaky?.retry, { nextAttempt: 2, reason: "exited with code 1", atMs: null })
    assert.strictEqual(flaky !== undefined && stageLine(flaky, atMs(1)), "[01] RUNNING   Flaky 1.0s (attempt 1) - exited with code 1; retry 2")
    const counting = reduceHud(retrying, toolCall("flaky", 1, "retry", 1, 1, "exited with code 1", 4_000))
    const waiting = counting.stages[0]
    assert.strictEqual(waiting !== undefined && stageLine(waiting, atMs(2)), "[01] RUNNING   Flaky 2.0s (attempt 1) - exited with code 1; retry 2 in 3s")
    const again = reduceHud(retrying, toolCall("flaky", 1, "started", 2, 3))
    assert.strictEqual(again.stages[0]?.retry, null)
    assert.strictEqual(again.stages[0]?.attempt, 2)
  })

  it("run:error fails the run and keeps its message; events of another run do not touch the rows", () => {
    const state = reduceHudAll([
      runStarted(["a"]),
      { ...stageStarted("other", 1, 0), runId: "child" },
      runError("a", "stage a exited with code 2", 1)
    ])
    assert.strictEqual(state.status, "failed")
    assert.strictEqual(state.error, "stage a exited with code 2")
    assert.deepStrictEqual(state.stages.map((s) => s.id), ["a"])
  })

  it("run:completed counts the privacy guard's redacted and blocked chunks", () => {
    const state = reduceHudAll([runStarted(["a"]), runCompleted("succeeded", 1, { redactedFrames: 2, blockedFrames: 1 })])
    assert.strictEqual(state.redactions, 3)
  })

  it("privacy:redacted adds each stage's growth; the summary's total wins when it is higher", () => {
    const live = reduceHudAll([runStarted(["a", "b"]), redacted("a", 1, 0, 2), redacted("b", 2, 0, 1, 1), redacted("a", 1, 1, 5)])
    assert.strictEqual(live.redactions, 7)
    assert.strictEqual(reduceHudAll([runCompleted("succeeded", 2, { redactedFrames: 9, blockedFrames: 1 })], live).redactions, 10)
  })

  it("starts idle, with no run", () => {
    assert.strictEqual(initialHudState.runId, null)
    assert.strictEqual(initialHudState.status, "idle")
  })
})
