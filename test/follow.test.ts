/** `--follow`'s printer (DECISIONS B-2): raw with one stage running, `[id] ` per line with more. */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Ref } from "effect"
import { makeFollowPrinter } from "../src/cli/follow.js"
import { stderrLine, writeStderr } from "../src/cli/streams.js"

describe("--follow printer", () => {
  it.effect("B-2: raw output while one stage runs; whole lines prefixed with the stage id while two do", () =>
    Effect.gen(function*() {
      const out = yield* Ref.make("")
      const printer = makeFollowPrinter((text) => Ref.update(out, (all) => all + text))
      yield* printer.started("a")
      yield* printer.output("a", "alone\n")
      yield* printer.started("b")
      yield* printer.output("a", "one li")
      yield* printer.output("b", "b1\nb2\n")
      yield* printer.output("a", "ne\ncut")
      yield* printer.completed("a")
      yield* printer.output("b", "last\n")
      assert.strictEqual(yield* Ref.get(out), "alone\n[b] b1\n[b] b2\n[a] one line\n[a] cut\nlast\n")
    }))

  it.effect("a progress line after followed output that left its last line open starts on a line of its own", () =>
    Effect.gen(function*() {
      // A stage printed its last line without a newline (printf 'no newline at end'): the engine's
      // next line read "no newline at end[Codex-Orchestrator] [1/2] a succeeded in 0.04s".
      yield* writeStderr("(test) no newline at end")
      assert.strictEqual(stderrLine("[Codex-Orchestrator] [1/2] a succeeded"), "\n[Codex-Orchestrator] [1/2] a succeeded\n")
      assert.strictEqual(stderrLine("[Codex-Orchestrator] next"), "[Codex-Orchestrator] next\n")
      yield* writeStderr("(test) a whole line\n")
      assert.strictEqual(stderrLine("[Codex-Orchestrator] after it"), "[Codex-Orchestrator] after it\n")
    }))
})
