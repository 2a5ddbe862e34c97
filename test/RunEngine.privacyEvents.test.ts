/**
 * `privacy:redacted` (issue 22: the HUD shows the guard's count while the run goes): published by the
 * engine when the guard redacts in enforce mode, coalesced so that a stage printing a secret on every
 * line publishes a few events a second, and ending on the counts the manifest records. Shadow mode
 * changes nothing and publishes none. Deterministic test kit: scripted processes on the TestClock.
 */
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Duration, Effect, Fiber, Stream, TestClock } from "effect"
import { privacyEventIntervalMs } from "../src/domain/Events.js"
import type { PrivacyMode } from "../src/domain/Privacy.js"
import { AppMemory } from "../src/layers/App.js"
import { EventBus } from "../src/services/EventBus.js"
import { RunEngine } from "../src/services/RunEngine.js"
import { commandStage, pipeline } from "./support/pipelines.js"

/** 100 lines, each with a token, 10 ms apart (one second of output), then a clean stage. */
const leakyLines = Array.from({ length: 100 }, (_, i) => ({ stream: "stdout" as const, data: `line ${i} token=abcdef${1000 + i}\n`, after: Duration.millis(10) }))

const app = (privacyMode: PrivacyMode) =>
  AppMemory({
    scripts: { "./leaky": { output: leakyLines }, "./clean": { output: [{ stream: "stdout", data: "nothing to hide\n" }] } },
    pipelines: { user: [pipeline("p", [commandStage("leaky", "./leaky"), commandStage("clean", "./clean")])] },
    settings: { privacyMode }
  })

/** Every event of one run of `p`, in publication order, and the finished manifest. */
const runWatched = Effect.scoped(Effect.gen(function*() {
  const stream = yield* (yield* EventBus).subscribe
  const collector = yield* Effect.fork(Stream.runCollect(stream.pipe(Stream.takeUntil((e) => e.type === "run:completed"))))
  const run = yield* Effect.fork(Effect.flatMap(RunEngine, (engine) => engine.start({ taskId: "privacy-events", pipelineId: "p" })))
  yield* TestClock.adjust("1 minute")
  const { manifest } = yield* Fiber.join(run)
  return { events: Chunk.toReadonlyArray(yield* Fiber.join(collector)), manifest }
}))

describe("RunEngine: privacy:redacted events", () => {
  it.effect("enforce: published while the stage runs, coalesced, ending on the manifest's counts", () =>
    Effect.gen(function*() {
      const { events, manifest } = yield* runWatched
      const redactions = events.flatMap((e) => (e.type === "privacy:redacted" ? [e] : []))
      assert.strictEqual(manifest.privacy?.totals.redacted_frames, 100, "every line was redacted")
      assert.isTrue(redactions.every((e) => e.stageId === "leaky" && e.stageIndex === 1 && e.runId === manifest.run_id))
      // One second of output: the first redaction, at most one per interval after it, the final counts.
      const most = 2 + Math.ceil(1000 / privacyEventIntervalMs)
      assert.isAtLeast(redactions.length, 3, "the count moves while the stage runs")
      assert.isAtMost(redactions.length, most, `${redactions.length} events for 100 redacted lines`)
      const counts = redactions.map((e) => e.redactedFrames)
      assert.strictEqual(counts[0], 1, "the first redaction is published at once")
      assert.deepStrictEqual(counts, [...counts].sort((a, b) => a - b), "counts only grow")
      assert.strictEqual(counts.at(-1), 100)
      assert.strictEqual(redactions.at(-1)?.blockedFrames, 0)
      const times = redactions.map((e) => Date.parse(e.timestamp))
      times.slice(1, -1).forEach((time, i) => assert.isAtLeast(time - (times[i] ?? 0), privacyEventIntervalMs))
      const types = events.map((e) => e.type)
      const completed = types.findIndex((type) => type === "stage:completed")
      assert.isBelow(types.indexOf("privacy:redacted"), completed, "before the stage completes")
      assert.isBelow(types.lastIndexOf("privacy:redacted"), completed, "the final counts too")
    }).pipe(Effect.provide(app("enforce"))))

  it.effect("shadow: findings recorded, output unchanged, no event", () =>
    Effect.gen(function*() {
      const { events, manifest } = yield* runWatched
      assert.strictEqual(manifest.status, "succeeded")
      assert.isAbove(manifest.privacy?.decisions.length ?? 0, 0, "shadow mode saw the tokens")
      assert.isFalse(events.some((e) => e.type === "privacy:redacted"))
    }).pipe(Effect.provide(app("shadow"))))
})
