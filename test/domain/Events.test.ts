/**
 * The event schemas (EVT-1, EVT-2): every event a run publishes, log chunks included, survives a
 * trip through one JSON line and back unchanged, and a line that is not an event is refused with
 * the field that is wrong. The run is the deterministic test kit's, on the TestClock.
 */
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Either, Fiber, ParseResult, Stream, TestClock } from "effect"
import {
  decodeEvent,
  decodeEventLine,
  encodeEventLine,
  type OrchestratorEventType,
  orchestratorEventTypes
} from "../../src/domain/Events.js"
import { AppMemory } from "../../src/layers/App.js"
import { EventBus } from "../../src/services/EventBus.js"
import { RunEngine } from "../../src/services/RunEngine.js"
import { commandStage, pipeline } from "../support/pipelines.js"

const app = AppMemory({
  scripts: {
    "./flaky": [
      { output: [{ stream: "stderr", data: "try 1\n" }], exitCode: 1 },
      { output: [{ stream: "stdout", data: "ok\n" }] }
    ],
    "./bad": { output: [{ stream: "stderr", data: "nope\n" }], exitCode: 3 }
  },
  pipelines: {
    user: [pipeline("watched", [commandStage("flaky", "./flaky", { retry: { attempts: 2 } }), commandStage("bad", "./bad")])]
  }
})

/** Every event of one run of `watched`, in publication order (one wildcard subscription). */
const eventsOfRun = Effect.scoped(Effect.gen(function*() {
  const stream = yield* (yield* EventBus).subscribe
  const collector = yield* Effect.fork(Stream.runCollect(stream.pipe(Stream.takeUntil((e) => e.type === "run:completed"))))
  const run = yield* Effect.fork(Effect.flatMap(RunEngine, (engine) => engine.start({ taskId: "events", pipelineId: "watched" })))
  yield* TestClock.adjust("1 minute")
  yield* Fiber.join(run)
  return Chunk.toReadonlyArray(yield* Fiber.join(collector))
}))

describe("Events: the schemas of the run events", () => {
  it.effect("every event of a run encodes to one JSON line that decodes back to the same event", () =>
    Effect.gen(function*() {
      const events = yield* eventsOfRun
      const types = new Set(events.map((e) => e.type))
      const expected: ReadonlyArray<OrchestratorEventType> = [
        "plan:completed",
        "run:started",
        "stage:started",
        "tool:call",
        "log",
        "stage:completed",
        "run:error",
        "run:completed"
      ]
      for (const type of expected) assert.isTrue(types.has(type), `the run published no ${type}`)
      for (const event of events) {
        const line = yield* encodeEventLine(event)
        assert.notInclude(line, "\n", "one event, one line")
        assert.deepStrictEqual(yield* decodeEventLine(line), event)
      }
      const retry = events.find((e) => e.type === "tool:call" && e.status === "retry")
      assert.deepInclude(retry, { attempt: 1, delayMs: 250 })
    }).pipe(Effect.provide(app)))

  it.effect("a line that is not an event is refused, naming the field", () =>
    Effect.gen(function*() {
      const wrong = yield* Effect.either(decodeEvent({
        type: "tool:call",
        taskId: "t",
        runId: "r",
        timestamp: "1970-01-01T00:00:00.000Z",
        stageId: "s",
        stageIndex: 1,
        toolName: "exec",
        status: "retry",
        message: "m",
        attempt: "2"
      }))
      assert.isTrue(Either.isLeft(wrong))
      if (Either.isLeft(wrong)) {
        const paths = ParseResult.ArrayFormatter.formatErrorSync(wrong.left).map((issue) => issue.path.join("."))
        assert.include(paths, "attempt")
      }
      assert.isTrue(Either.isLeft(yield* Effect.either(decodeEventLine(`{"type":"run:exploded"}`))))
      assert.isTrue(Either.isLeft(yield* Effect.either(decodeEventLine("not json"))))
    }))

  it("lists every event name once", () => {
    assert.strictEqual(new Set(orchestratorEventTypes).size, orchestratorEventTypes.length)
    assert.deepStrictEqual([...orchestratorEventTypes].sort(), [
      "build:completed",
      "log",
      "plan:completed",
      "privacy:redacted",
      "review:completed",
      "run:completed",
      "run:created",
      "run:error",
      "run:started",
      "stage:completed",
      "stage:runner",
      "stage:started",
      "test:completed",
      "tool:call"
    ])
  })
})
