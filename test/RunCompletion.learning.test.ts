/**
 * RunCompletion's learning step (D-17, LRN-2) when the run is stopped during it: the manifest says
 * the learning pipeline was interrupted, instead of keeping its `pending` section for good.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Option, TestClock } from "effect"
import { AppMemory } from "../src/layers/App.js"
import { RunEngine } from "../src/services/RunEngine.js"
import { manifestFile, onlyManifestPath } from "./support/files.js"
import { commandStage, pipeline } from "./support/pipelines.js"

// The snapshot's first git command never answers within the test: the run is stopped while it waits.
const app = AppMemory({
  learning: { enabled: true },
  pipelines: { user: [pipeline("p", [commandStage("build", "make")])] },
  scripts: { make: { output: [{ stream: "stdout", data: "built\n" }] }, "git rev-parse HEAD": { duration: "1 hour" } }
})

describe("RunCompletion: learning interrupted (D-17)", () => {
  it.effect("a run stopped while its snapshot is taken records the learning section as snapshot_failed, interrupted", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork((yield* RunEngine).start({ pipelineId: "p", taskId: "t" }))
      yield* TestClock.adjust("1 minute")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "the run waits for its snapshot")
      yield* Fiber.interrupt(fiber)
      const manifest = yield* manifestFile(yield* onlyManifestPath("t"))
      assert.strictEqual(manifest.status, "succeeded", "the run itself had succeeded")
      // Before: validation.status "pending", no reason, for good.
      assert.strictEqual(manifest.learning?.validation.status, "snapshot_failed")
      assert.match(manifest.learning?.validation.reason ?? "", /^Learning pipeline interrupted before it finished/)
    }).pipe(Effect.provide(app)))
})
