/**
 * A long stage says it is still running, once a minute of its attempt, on the progress log (stderr):
 * a build that prints nothing for ten minutes is not ten minutes of silence. Driven by the executor's
 * heartbeat events, so TestClock moves it.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import { AppMemory } from "../src/layers/App.js"
import { RunEngine } from "../src/services/RunEngine.js"
import { withLogs } from "./support/logs.js"
import { commandStage, pipeline } from "./support/pipelines.js"

const app = AppMemory({
  scripts: { "make all": { duration: "150 seconds" }, "make quick": { duration: "20 seconds" } },
  pipelines: { user: [pipeline("build", [commandStage("quick", "make quick"), commandStage("compile", "make all")]), pipeline("single", [commandStage("quick", "make quick")])] }
})

describe("RunEngine: a long stage's progress", () => {
  it.effect("says `still running` once a minute of the stage, and nothing for a stage under a minute", () =>
    Effect.gen(function*() {
      const [manifest, logged] = yield* withLogs(Effect.gen(function*() {
        const fiber = yield* Effect.fork((yield* RunEngine).start({ pipelineId: "build" }))
        yield* TestClock.adjust("5 minutes")
        return (yield* Fiber.join(fiber)).manifest
      }))
      assert.strictEqual(manifest.status, "succeeded")
      const progress = logged.filter(([, message]) => message.includes("still running")).map(([level, message]) => `${level} ${message}`)
      assert.deepStrictEqual(progress, ["INFO [2/2] compile still running (1m)", "INFO [2/2] compile still running (2m)"])
    }).pipe(Effect.provide(app)))

  it.effect("counts the stages in the run's first line, in the singular for one", () =>
    Effect.gen(function*() {
      const [, logged] = yield* withLogs(Effect.gen(function*() {
        const fiber = yield* Effect.fork((yield* RunEngine).start({ pipelineId: "single", taskId: "one" }))
        yield* TestClock.adjust("1 minute")
        return yield* Fiber.join(fiber)
      }))
      const first = logged.map(([, message]) => message).find((message) => message.includes(" started: pipeline "))
      assert.match(first ?? "", / started: pipeline single \(1 stage\), task one$/)
    }).pipe(Effect.provide(app)))
})
