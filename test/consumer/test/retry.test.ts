import { assert, describe, it } from "@effect/vitest"
import { RunEngine } from "codex-orchestrator"
import { AppMemory, ProcessInvocations } from "codex-orchestrator/test-kit"
import { Effect, Fiber, TestClock } from "effect"
import { ci } from "../src/pipelines.js"

// The production wiring on in-memory leaves: scripted processes, in-memory files, TestClock's time.
const app = AppMemory({
  pipelines: { user: [ci] },
  scripts: {
    "echo built": { exitCode: 0, output: [{ stream: "stdout", data: "built\n" }] },
    // The tests fail twice, then pass.
    "echo tested": [{ exitCode: 1 }, { exitCode: 1 }, { exitCode: 0 }]
  }
})

describe("ci", () => {
  it.effect("retries the tests after 1 s, then 2 s", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine.RunEngine
      const ran = yield* ProcessInvocations
      const attempts = Effect.map(ran.all, (all) => all.filter((call) => call.command === "echo tested").length)

      const fiber = yield* Effect.fork(engine.start({ pipelineId: "ci", taskId: "unit" }))
      yield* TestClock.adjust("999 millis")
      assert.strictEqual(yield* attempts, 1)
      yield* TestClock.adjust("1 milli") // the first retry, after 1 s
      assert.strictEqual(yield* attempts, 2)
      yield* TestClock.adjust("2 seconds") // the second, after 2 s more
      const { manifest } = yield* Fiber.join(fiber)

      assert.strictEqual(yield* attempts, 3)
      assert.strictEqual(manifest.status, "succeeded")
    }).pipe(Effect.provide(app)))
})
