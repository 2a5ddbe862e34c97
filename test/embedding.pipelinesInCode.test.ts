/**
 * Pipelines given in code (makeAppLayer's and AppMemory's `pipelines`) are checked as the
 * repository's codex.orchestrator.json is: a pipeline the file would refuse (duplicate stage ids,
 * `needs` naming no stage, a concurrency under 1, no stages, two pipelines of one id) fails `plan`
 * and `start` with InvalidFile listing every bad field, before anything is written or run. Before,
 * it ran: concurrency 0 ran no stage and recorded the run `succeeded`.
 */
import { FileSystem } from "@effect/platform"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { PipelineDefinition } from "../src/domain/Pipeline.js"
import { AppMemory, makeAppLayer } from "../src/layers/App.js"
import { InMemoryFiles } from "../src/layers/Files.js"
import { ProcessInvocations, ProcessRunnerMemory } from "../src/layers/ProcessRunner.js"
import { RunEngine } from "../src/services/RunEngine.js"
import { commandStage, pipeline } from "./support/pipelines.js"

const good = pipeline("good", [commandStage("build", "make")])

const refused: ReadonlyArray<readonly [string, PipelineDefinition, RegExp]> = [
  ["duplicate stage ids", pipeline("dup", [commandStage("a", "make"), commandStage("a", "make")]), /stages\.1\.id: duplicate stage id "a"/],
  ["needs naming no stage", pipeline("needs", [commandStage("a", "make", { needs: ["nope"] })]), /stages\.0\.needs: .*nope/],
  ["concurrency 0", pipeline("zero", [commandStage("a", "make")], { concurrency: 0 }), /concurrency: must be a positive integer/],
  ["no stages", pipeline("empty", []), /stages: must list at least one stage/]
]

describe("pipelines given in code are checked as the file's are", () => {
  for (const [what, bad, issue] of refused) {
    it.effect(`AppMemory: ${what} fails plan and start with InvalidFile, nothing run or written`, () =>
      Effect.gen(function*() {
        const engine = yield* RunEngine
        const planned = yield* Effect.flip(engine.plan({ pipelineId: bad.id }))
        const started = yield* Effect.flip(engine.start({ pipelineId: bad.id, taskId: "t" }))
        for (const error of [planned, started]) {
          assert.strictEqual(error._tag, "InvalidFile")
          assert.match(error.message, issue)
          assert.include(error.message, `pipeline '${bad.id}' (given in code)`)
          assert.notInclude(error.message, "\n")
        }
        assert.deepStrictEqual(yield* (yield* ProcessInvocations).all, [])
        assert.deepStrictEqual((yield* (yield* InMemoryFiles).list).filter((p) => p.includes(".runs")), [])
      }).pipe(Effect.provide(AppMemory({ pipelines: { user: [good, bad] }, scripts: { make: { exitCode: 0 } } }))))
  }

  it.effect("AppMemory: two pipelines of one id in code fail with InvalidFile", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip((yield* RunEngine).plan({ pipelineId: "good" }))
      assert.strictEqual(error._tag, "InvalidFile")
      assert.match(error.message, /duplicate pipeline id "good"/)
    }).pipe(Effect.provide(AppMemory({ pipelines: { user: [good, good] } }))))

  it.effect("makeAppLayer: a pipeline in code with concurrency 0 fails start with InvalidFile; a good one runs", () =>
    Effect.scoped(Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const repoRoot = yield* fs.makeTempDirectoryScoped({ prefix: "in-code-" })
      const app = makeAppLayer({
        settings: { repoRoot },
        pipelines: [good, pipeline("zero", [commandStage("a", "make")], { concurrency: 0 })],
        processRunner: ProcessRunnerMemory({ make: { exitCode: 0 } })
      })
      const error = yield* Effect.flip(Effect.flatMap(RunEngine, (e) => e.start({ pipelineId: "zero", taskId: "t" })).pipe(Effect.provide(app)))
      assert.strictEqual(error._tag, "InvalidFile")
      assert.match(error.message, /concurrency: must be a positive integer/)
      assert.isFalse(yield* fs.exists(`${repoRoot}/.runs`), "a refused pipeline wrote a run")
    })).pipe(Effect.provide(NodeContext.layer)))

  it.effect("AppMemory: valid pipelines in code still run", () =>
    Effect.gen(function*() {
      const { manifest } = yield* (yield* RunEngine).start({ pipelineId: "good", taskId: "t" })
      assert.strictEqual(manifest.status, "succeeded")
    }).pipe(Effect.provide(AppMemory({ pipelines: { user: [good] }, scripts: { make: { exitCode: 0 } } }))))
})
