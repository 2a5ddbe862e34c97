/**
 * What an embedder passes to RunEngine (or the Promise facade) is checked as the CLI's flags are:
 * a concurrency under 1 or not an integer, an inline pipeline the config file would refuse, an
 * execution mode or approval policy that is none of theirs (from JavaScript, past the types) are
 * bad input, failing before anything is written or run (D-1).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { PipelineDefinition } from "../src/domain/Pipeline.js"
import { AppMemory } from "../src/layers/App.js"
import { RunEngine, type StartRequest } from "../src/services/RunEngine.js"
import { ProcessInvocations } from "../src/layers/ProcessRunner.js"
import { listFiles } from "./support/files.js"
import { commandStage, pipeline } from "./support/pipelines.js"

const app = AppMemory({ pipelines: { user: [pipeline("ci", [commandStage("build", "make")])] }, scripts: { make: { exitCode: 0 } } })

const refused = (request: StartRequest) =>
  Effect.gen(function*() {
    const engine = yield* RunEngine
    const error = yield* Effect.flip(engine.start(request))
    assert.strictEqual(error._tag, "InvalidFile", String(error))
    assert.deepStrictEqual(yield* listFiles, [], "nothing is written")
    assert.deepStrictEqual(yield* Effect.flatMap(ProcessInvocations, (p) => p.all), [], "nothing runs")
    return error.message
  }).pipe(Effect.provide(app))

describe("RunEngine: the request is checked before anything is written (D-1)", () => {
  it.effect("a concurrency under 1, or not a whole number", () =>
    Effect.gen(function*() {
      for (const concurrency of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
        const message = yield* refused({ pipelineId: "ci", taskId: "t", concurrency })
        assert.include(message, "concurrency: must be a positive integer (stages at once)", String(concurrency))
      }
    }))

  it.effect("an inline pipeline the config file would refuse", () =>
    Effect.gen(function*() {
      const bad = { id: "x", title: "X", stages: [{ kind: "command", id: "", title: "", command: "" }] } as unknown as PipelineDefinition
      const message = yield* refused({ pipeline: bad, taskId: "t" })
      assert.include(message, "stages.0.id")
    }))

  it.effect("an execution mode or approval policy that is none of the known ones", () =>
    Effect.gen(function*() {
      const mode = yield* refused({ pipelineId: "ci", taskId: "t", executionMode: "bogus" as never })
      assert.include(mode, "executionMode")
      const policy = yield* refused({ pipelineId: "ci", taskId: "t", approvalPolicy: "bogus" as never })
      assert.include(policy, "approvalPolicy")
    }))

  it.effect("a good request still runs", () =>
    Effect.gen(function*() {
      const outcome = yield* (yield* RunEngine).start({ pipelineId: "ci", taskId: "t", concurrency: 2 })
      assert.strictEqual(outcome.manifest.status, "succeeded")
    }).pipe(Effect.provide(app)))
})
