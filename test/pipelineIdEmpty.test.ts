/**
 * An empty or blank pipeline id (`plan ''`, `start '  '`, an embedder's `pipelineId: ""`) is bad input
 * (exit 2) said as such on one line, not a search for a pipeline named ''; an id holding line breaks
 * or escape codes is echoed escaped.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Cli from "../src/cli/index.js"
import { TestKit } from "../src/index.js"
import { RunEngine } from "../src/services/RunEngine.js"
import { failureOf, runCommandLine } from "./support/cliMemory.js"
import { commandStage, pipeline } from "./support/pipelines.js"

const app = TestKit.AppMemory({
  pipelines: { user: [pipeline("ok", [commandStage("build", "make")])] },
  scripts: { make: { exitCode: 0 } }
})

const orch = (...args: ReadonlyArray<string>) => runCommandLine(Cli.rootCommandOn("orch", Layer.empty), args)
const onApp = <A, E, R>(effect: Effect.Effect<A, E, R>) => effect.pipe(Effect.provide(app), Effect.provide(NodeContext.layer))


describe("an empty pipeline id", () => {
  it.effect("plan '' and start '' (or blank) are exit 2 saying the pipeline id is empty; nothing is written", () =>
    onApp(Effect.gen(function*() {
      const files = yield* TestKit.InMemoryFiles
      for (const args of [["plan", ""], ["plan", "   "], ["start", "", "--task", "demo"], ["start", " ", "--task", "demo", "--format", "json"]]) {
        const { code, exit, stdout } = yield* orch(...args)
        assert.strictEqual(code, 2, JSON.stringify(args))
        assert.strictEqual(stdout, "", JSON.stringify(args))
        assert.match(failureOf(exit), /^The pipeline id is (empty|blank): name one of the pipelines \(ok, /, JSON.stringify(args))
        assert.notInclude(failureOf(exit), "\n")
      }
      assert.deepStrictEqual((yield* files.list).filter((path) => path.includes("/.runs/")), [])
    })))

  it.effect("the library's plan and start say the same; an id with a line break is echoed escaped", () =>
    onApp(Effect.gen(function*() {
      const engine = yield* RunEngine
      const empty = yield* Effect.flip(engine.plan({ pipelineId: "" }))
      assert.strictEqual(empty._tag, "PipelineNotFound")
      assert.match(empty.message, /^The pipeline id is empty: name one of the pipelines \(ok, /)
      const forged = yield* Effect.flip(engine.start({ pipelineId: "ok\nerror: forged", taskId: "demo" }))
      assert.match(forged.message, /^Pipeline 'ok\\nerror: forged' not found/)
    })))
})
