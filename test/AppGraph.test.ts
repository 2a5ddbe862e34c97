/**
 * The test kit runs the production wiring (issue 15): AppMemory and makeAppLayer are the same graph
 * (appGraph) of different leaves, so a run on either passes through the same phases. Proved by the
 * spans a run opens: every engine step is an `Effect.fn` span, recorded here by a tracer that wraps
 * the default one.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ConfigProvider, Effect, Layer, Tracer } from "effect"
import { AppMemory, makeAppLayer } from "../src/layers/App.js"
import { RunEngine } from "../src/services/RunEngine.js"

const pipeline = {
  id: "ci",
  title: "CI",
  stages: [
    { kind: "command" as const, id: "build", title: "Build", command: "echo built" },
    { kind: "subpipeline" as const, id: "checks", title: "Checks", pipeline: "checks" }
  ]
}
const checks = { id: "checks", title: "Checks", stages: [{ kind: "command" as const, id: "lint", title: "Lint", command: "echo linted" }] }

/** Runs `start ci` with a tracer that records the name of every span opened; returns the engine's. */
const engineSpans = <E>(layer: Layer.Layer<RunEngine, E>) =>
  Effect.gen(function*() {
    const names = new Set<string>()
    const recording = yield* Effect.tracerWith((base) =>
      Effect.succeed(Tracer.make({
        span: (name, ...rest) => {
          names.add(name)
          return base.span(name, ...rest)
        },
        context: (f, fiber) => base.context(f, fiber)
      }))
    )
    const { manifest } = yield* Effect.flatMap(RunEngine, (engine) => engine.start({ pipelineId: "ci", taskId: "graph" })).pipe(
      Effect.provide(layer),
      Effect.withTracer(recording)
    )
    assert.strictEqual(manifest.status, "succeeded")
    return [...names].filter((name) => /^(RunEngine|RunPreparation|RunBootstrap|StageExecution|CommandStageRunner|RunCompletion|TaskManager)\./.test(name)).sort()
  })

describe("one app graph", () => {
  it.live("a run on the in-memory leaves and one on the production leaves pass through the same engine steps", () =>
    Effect.gen(function*() {
      const memory = yield* engineSpans(AppMemory({
        pipelines: { user: [pipeline, checks] },
        scripts: { "echo built": { exitCode: 0 }, "echo linted": { exitCode: 0 } }
      }))
      const dir = mkdtempSync(join(tmpdir(), "app-graph-"))
      writeFileSync(join(dir, "codex.orchestrator.json"), JSON.stringify({ pipelines: [pipeline, checks] }))
      const production = yield* engineSpans(makeAppLayer().pipe(Layer.provideMerge(NodeContext.layer))).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["CODEX_ORCHESTRATOR_ROOT", dir]]))),
        Effect.ensuring(Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      )
      assert.deepStrictEqual(memory, [
        "CommandStageRunner.run",
        "RunBootstrap.create",
        "RunCompletion.complete",
        "RunEngine.drive",
        "RunPreparation.bootstrap",
        "RunPreparation.prepare",
        "StageExecution.execute",
        "TaskManager.execute"
      ])
      assert.deepStrictEqual(production, memory)
    }))
})
