/**
 * D-2 for a run interrupted before its stages start (issue 16 item 8): the CLI prints the cancelled
 * run's document once the run exists, which `run:created` tells it, not only once `run:started` came.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Ref, TestClock } from "effect"
import { printedIfCancelled } from "../src/cli/cancelReport.js"
import type { CliManifest } from "../src/domain/Manifest.js"
import { AppMemory } from "../src/layers/App.js"
import { EventBus } from "../src/services/EventBus.js"
import { Planner } from "../src/services/Planner.js"
import { RunEngine } from "../src/services/RunEngine.js"
import { commandStage, pipeline } from "./support/pipelines.js"

// Planning takes 5 s, between the run's creation and its `run:started`.
const slowPlanner = Layer.succeed(Planner, Planner.of({ plan: () => Effect.as(Effect.sleep("5 seconds"), { items: [], targetId: null }) }))

const app = AppMemory({
  pipelines: { user: [pipeline("p", [commandStage("only", "echo hi")])] },
  agents: slowPlanner
})

describe("printedIfCancelled", () => {
  it.effect("prints the run interrupted between its creation and run:started, as cancelled", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const bus = yield* EventBus
      const created = yield* Ref.make<ReadonlyArray<string>>([])
      const started = yield* Ref.make(0)
      yield* bus.on("run:created", (event) => Ref.update(created, (ids) => [...ids, event.runId]))
      yield* bus.on("run:started", () => Ref.update(started, (n) => n + 1))
      const printed = yield* Ref.make<ReadonlyArray<CliManifest>>([])
      const fiber = yield* Effect.fork(
        printedIfCancelled((manifest) => Ref.update(printed, (all) => [...all, manifest]))(engine.start({ pipelineId: "p" }))
      )
      yield* TestClock.adjust("2 seconds")
      const exit = yield* Fiber.interrupt(fiber)
      assert.isTrue(Exit.isInterrupted(exit))
      assert.strictEqual(yield* Ref.get(started), 0, "interrupted before run:started")
      const [runId] = yield* Ref.get(created)
      const documents = yield* Ref.get(printed)
      assert.strictEqual(documents.length, 1)
      assert.strictEqual(documents[0]?.run_id, runId)
      assert.strictEqual(documents[0]?.status, "cancelled")
    }).pipe(Effect.scoped, Effect.provide(app)))

  it.effect("prints nothing when interrupted before any run exists", () =>
    Effect.gen(function*() {
      const printed = yield* Ref.make(0)
      const fiber = yield* Effect.fork(printedIfCancelled(() => Ref.update(printed, (n) => n + 1))(Effect.never))
      yield* TestClock.adjust("1 second")
      yield* Fiber.interrupt(fiber)
      assert.strictEqual(yield* Ref.get(printed), 0)
    }).pipe(Effect.provide(app)))
})
