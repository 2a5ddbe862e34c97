/**
 * An app may run a pipeline where it cannot be interrupted: inside a cluster entity's handler, a
 * workflow activity, the acquire of an `acquireRelease`. Its fibers then inherit that, and a race the
 * engine runs against something that never ends (the executor's heartbeats, the `still running`
 * line, the run's heartbeat) could not stop the loser when the stage ended: the run hung for good.
 * And a stage's own timeout could not stop it: the run waited for the stage to end by itself.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Option, Ref, TestClock } from "effect"
import { AppMemory } from "../src/layers/App.js"
import { EventBus } from "../src/services/EventBus.js"
import { RunEngine } from "../src/services/RunEngine.js"
import { commandStage, pipeline } from "./support/pipelines.js"

const app = AppMemory({
  scripts: { "make all": { duration: "150 seconds" }, "make quick": { duration: "20 seconds" }, "sleep 10": { duration: "10 seconds" } },
  pipelines: {
    user: [
      pipeline("build", [commandStage("quick", "make quick"), commandStage("compile", "make all")]),
      pipeline("slow", [commandStage("sleepy", "sleep 10", { timeoutMs: 1000 }), commandStage("after", "make quick")])
    ]
  }
})

describe("RunEngine where it cannot be interrupted", () => {
  it.effect("ends the run with its stages, heartbeats and progress lines included", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.forkDaemon(Effect.uninterruptible((yield* RunEngine).start({ pipelineId: "build" })))
      yield* TestClock.adjust("5 minutes")
      const done = yield* Fiber.poll(fiber)
      assert.isTrue(Option.isSome(done), "the run had not ended 5 minutes after its last stage's 170 s")
      const { manifest } = yield* Fiber.join(fiber)
      assert.strictEqual(manifest.status, "succeeded")
      assert.deepStrictEqual(manifest.commands.map((entry) => entry.status), ["succeeded", "succeeded"])
    }).pipe(Effect.provide(app)))

  it.effect("ends an `on` handler's scope there too, after the handler saw the run end", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const bus = yield* EventBus
      const seen = yield* Ref.make<ReadonlyArray<string>>([])
      const fiber = yield* Effect.forkDaemon(Effect.uninterruptible(Effect.scoped(Effect.gen(function*() {
        yield* bus.on("run:completed", (event) => Ref.update(seen, (all) => [...all, event.type]))
        return yield* engine.start({ pipelineId: "build" })
      }))))
      yield* TestClock.adjust("5 minutes")
      assert.isTrue(Option.isSome(yield* Fiber.poll(fiber)), "the scope of the handler had not closed")
      assert.deepStrictEqual(yield* Ref.get(seen), ["run:completed"])
    }).pipe(Effect.provide(app)))

  it.effect("stops a stage at its timeoutMs there too", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.forkDaemon(Effect.uninterruptible((yield* RunEngine).start({ pipelineId: "slow" })))
      yield* TestClock.adjust("1 second")
      assert.isTrue(Option.isSome(yield* Fiber.poll(fiber)), "the run ends when the timeout fires, not after 10 s")
      const { manifest } = yield* Fiber.join(fiber)
      assert.strictEqual(manifest.status_detail, "stage:sleepy:timeout")
      assert.deepStrictEqual(manifest.commands.map((entry) => entry.status), ["failed", "pending"])
    }).pipe(Effect.provide(app)))
})
