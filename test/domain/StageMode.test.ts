import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { decodeJsonFile } from "../../src/domain/FileErrors.js"
import { PipelineConfigFile, type Stage } from "../../src/domain/Pipeline.js"

const configPath = "codex.orchestrator.json"

const decodeStages = (stages: ReadonlyArray<Readonly<Record<string, unknown>>>) =>
  decodeJsonFile(PipelineConfigFile, configPath)(JSON.stringify({ pipelines: [{ id: "p", title: "P", stages }] })).pipe(
    Effect.map((config) => config.pipelines[0]?.stages ?? [])
  )

const command = { kind: "command", id: "a", title: "A", command: "echo a" } as const
const nested = { kind: "subpipeline", id: "n", title: "N", pipeline: "diagnostics" } as const

/** Every spelling the original read (CFG-5), with the value that means `cloud` and the one that means `mcp`. */
const spellings: ReadonlyArray<readonly [string, Readonly<Record<string, unknown>>, Readonly<Record<string, unknown>>]> = [
  ["plan.requiresCloud", { plan: { requiresCloud: true } }, { plan: { requiresCloud: false } }],
  ["plan.requires_cloud", { plan: { requires_cloud: true } }, { plan: { requires_cloud: false } }],
  ["requires_cloud", { requires_cloud: true }, { requires_cloud: false }],
  ["requiresCloud", { requiresCloud: true }, { requiresCloud: false }],
  ["plan.executionMode", { plan: { executionMode: "cloud" } }, { plan: { executionMode: "mcp" } }],
  ["executionMode", { executionMode: "cloud" }, { executionMode: "mcp" }],
  ["execution_mode", { execution_mode: " Cloud " }, { execution_mode: "MCP" }],
  ["mode", { mode: "CLOUD" }, { mode: " mcp" }]
]

describe("a stage's execution mode (D-23): one typed field, the legacy spellings normalised when a config is decoded", () => {
  for (const [name, cloud, mcp] of spellings) {
    it.effect(`${name} becomes executionMode and is not kept`, () =>
      Effect.gen(function*() {
        const stages = yield* decodeStages([{ ...command, ...cloud }, { ...nested, ...mcp }, { ...command, id: "b", ...mcp }])
        const expected: Array<Stage> = [
          { ...command, executionMode: "cloud" },
          { ...nested, executionMode: "mcp" },
          { ...command, id: "b", executionMode: "mcp" }
        ]
        // A `plan` object that held only mode hints is left empty, not dropped: it was written.
        const withoutEmptyPlans = stages.map((stage) => {
          if (stage.plan === undefined) return stage
          assert.deepStrictEqual(stage.plan, {}, "the mode hints are taken out of plan")
          const { plan: _plan, ...rest } = stage
          return rest
        })
        assert.deepStrictEqual(withoutEmptyPlans, expected)
      }))
  }

  it.effect("leaves executionMode out when the stage says nothing, so the run's mode applies", () =>
    Effect.gen(function*() {
      const [stage] = yield* decodeStages([command])
      assert.deepStrictEqual(stage, command)
    }))

  it.effect("keeps the other planner hints", () =>
    Effect.gen(function*() {
      const [stage] = yield* decodeStages([{ ...command, plan: { aliases: ["x"], runnable: false, requiresCloud: true } }])
      assert.deepStrictEqual(stage, { ...command, plan: { aliases: ["x"], runnable: false }, executionMode: "cloud" })
    }))

  it.effect("refuses any other mode word at its field, every one at once", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(decodeStages([
        { ...command, mode: "local" },
        { ...nested, plan: { executionMode: "remote" } },
        { ...command, id: "c", executionMode: 1 }
      ]))
      assert.deepStrictEqual(error.issues, [
        "pipelines.0.stages.0.mode (pipeline \"p\", stage \"a\"): must be \"mcp\" or \"cloud\" (got \"local\")",
        "pipelines.0.stages.1.plan.executionMode (pipeline \"p\", stage \"n\"): must be \"mcp\" or \"cloud\" (got \"remote\")",
        "pipelines.0.stages.2.executionMode (pipeline \"p\", stage \"c\"): Expected string, actual 1"
      ])
    }))

  it.effect("encodes the typed field only", () =>
    Effect.gen(function*() {
      const stages = yield* decodeStages([{ ...command, requires_cloud: true, mode: "mcp" }])
      const encoded = yield* Schema.encode(PipelineConfigFile)({ pipelines: [{ id: "p", title: "P", stages }] })
      assert.deepStrictEqual(encoded.pipelines[0]?.stages, [{ ...command, executionMode: "cloud" }])
    }))
})
