/**
 * Issue 20: a run on the in-memory app is reproducible byte for byte. Ids and tokens come from the
 * Entropy service, seeded in the test kit; time is TestClock's. The whole manifest is snapshotted
 * as written, nothing masked; a second run on the same seed writes the same bytes, another seed not.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, TestClock, TestContext } from "effect"
import { AppMemory, InMemoryFiles } from "../src/TestKit.js"
import { RunEngine } from "../src/services/RunEngine.js"
import { commandStage, pipeline } from "./support/pipelines.js"

const ci = pipeline("ci", [commandStage("build", "make", { retry: { attempts: 2, initialDelayMs: 1000, factor: 2, maxDelayMs: 5000 } }), commandStage("test", "make test")])

/** Runs `ci` (the build fails once, then passes) on a fresh app seeded with `seed` and a fresh clock; the manifest's bytes. */
const manifestBytes = (seed: number) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork((yield* RunEngine).start({ pipelineId: "ci", taskId: "snap" }))
    yield* TestClock.adjust("1 minute")
    const { layout } = yield* Fiber.join(fiber)
    return (yield* (yield* InMemoryFiles).read(layout.manifest)) ?? assert.fail("no manifest")
  }).pipe(Effect.provide(AppMemory({
    seed,
    pipelines: { user: [ci] },
    scripts: {
      make: [{ exitCode: 1, output: [{ stream: "stderr", data: "flaky\n" }] }, { exitCode: 0, output: [{ stream: "stdout", data: "built\n" }] }],
      "make test": { exitCode: 0, duration: "2 seconds", output: [{ stream: "stdout", data: "ok\n" }] }
    }
  })), Effect.provide(TestContext.TestContext)) // a fresh TestClock at 0 for each run

describe("AppMemory is reproducible (issue 20)", () => {
  it.effect("the manifest of a seeded run, as written", () =>
    Effect.gen(function*() {
      const first = yield* manifestBytes(7)
      expect(first).toMatchSnapshot()
      assert.strictEqual(yield* manifestBytes(7), first)
      assert.notStrictEqual(yield* manifestBytes(8), first)
    }))
})
