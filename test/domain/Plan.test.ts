import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { type CommandStage, type PipelineDefinition, type PlanHints, Stage as StageSchema, type Stage } from "../../src/domain/Pipeline.js"
import { buildPlan, matchTarget, type PlanItem, type PlanResult, targetedStageId, UnknownTarget } from "../../src/domain/Plan.js"

type CommandExtras = Omit<CommandStage, "kind" | "id" | "title" | "command">

const command = (id: string, extras: CommandExtras = {}): Stage => ({ kind: "command", id, title: `Title of ${id}`, command: `run ${id}`, ...extras })
const withPlan = (id: string, plan: PlanHints): Stage => command(id, { plan })

const pipeline = (id: string, stages: ReadonlyArray<Stage>, description?: string): PipelineDefinition => ({
  id,
  title: `${id} title`,
  ...(description === undefined ? {} : { description }),
  stages
})

const diagnostics = pipeline("diagnostics", [
  command("build"),
  command("lint"),
  command("test", { plan: { aliases: ["unit", "UT"] } }),
  command("spec-guard")
])

const planOf = (definition: PipelineDefinition, target?: string): PlanResult => {
  const result = buildPlan(definition, target)
  if (result instanceof UnknownTarget) return assert.fail(`unexpected UnknownTarget: ${result.message}`)
  return result
}

const unknownTarget = (definition: PipelineDefinition, target: string): UnknownTarget => {
  const result = buildPlan(definition, target)
  if (result instanceof UnknownTarget) return result
  return assert.fail(`expected UnknownTarget for ${target}, got targetId ${result.targetId}`)
}

const item = (plan: PlanResult, index: number): PlanItem => {
  const found = plan.items[index]
  if (found === undefined) return assert.fail(`no plan item ${index}`)
  return found
}

const onlyItem = (stage: Stage): PlanItem => item(planOf(pipeline("p", [stage])), 0)

const selectedIds = (plan: PlanResult) => plan.items.filter((i) => i.selected === true).map((i) => i.id)

describe("PLN-1 plan items", () => {
  it("builds one item per stage with `<pipeline>:<stage>` ids", () => {
    const plan = planOf(diagnostics)
    assert.deepStrictEqual(plan.items.map((i) => i.id), [
      "diagnostics:build",
      "diagnostics:lint",
      "diagnostics:test",
      "diagnostics:spec-guard"
    ])
    assert.deepStrictEqual(plan.items.map((i) => i.description), [
      "Title of build",
      "Title of lint",
      "Title of test",
      "Title of spec-guard"
    ])
    assert.deepStrictEqual(plan.items.map((i) => i.metadata.index), [0, 1, 2, 3])
  })

  it("records exactly the metadata a plain stage has", () => {
    assert.deepStrictEqual(item(planOf(diagnostics), 1), {
      id: "diagnostics:lint",
      description: "Title of lint",
      requires_cloud: false,
      runnable: true,
      metadata: { pipelineId: "diagnostics", stageId: "lint", stageKind: "command", index: 1, requiresCloud: false }
    })
  })

  it("records aliases, default target, execution mode and kind when present", () => {
    const stages: ReadonlyArray<Stage> = [
      command("a"),
      { kind: "subpipeline", id: "nested", title: "Nested", pipeline: "other", plan: { aliases: ["n"], defaultTarget: true }, executionMode: "mcp" }
    ]
    assert.deepStrictEqual(item(planOf(pipeline("p", stages)), 1), {
      id: "p:nested",
      description: "Nested",
      requires_cloud: false,
      runnable: true,
      metadata: {
        pipelineId: "p",
        stageId: "nested",
        stageKind: "subpipeline",
        index: 1,
        aliases: ["n"],
        defaultTarget: true,
        executionMode: "mcp",
        requiresCloud: false
      }
    })
  })

  it("takes runnable from the plan hint, default true", () => {
    assert.strictEqual(onlyItem(withPlan("a", { runnable: false })).runnable, false)
    assert.strictEqual(onlyItem(withPlan("a", { runnable: true })).runnable, true)
    assert.strictEqual(onlyItem(command("a")).runnable, true)
  })

  it("sets notes from the description and omits them otherwise", () => {
    const described = planOf(pipeline("p", [command("a")], "What it does"))
    assert.strictEqual(described.notes, "What it does")
    const plain = planOf(pipeline("p", [command("a")]))
    assert.isFalse("notes" in plain)
  })

  it("marks nothing selected without a target", () => {
    assert.deepStrictEqual(selectedIds(planOf(diagnostics)), [])
    assert.isTrue(planOf(diagnostics).items.every((i) => !("selected" in i)))
  })
})

describe("PLN-2 requires_cloud", () => {
  /** A stage as a config file writes it, decoded as the catalog decodes it (the spellings are read then). */
  const fromConfig = (fields: Readonly<Record<string, unknown>>): Stage =>
    Schema.decodeUnknownSync(StageSchema)({ kind: "command", id: "a", title: "A", command: "run a", ...fields })
  const cloud = (stage: Stage) => {
    const result = onlyItem(stage)
    assert.strictEqual(result.metadata.requiresCloud, result.requires_cloud, "metadata mirrors requires_cloud")
    return result.requires_cloud
  }

  it("is true exactly for a stage whose executionMode is cloud", () => {
    assert.isTrue(cloud(command("a", { executionMode: "cloud" })))
    assert.isFalse(cloud(command("a", { executionMode: "mcp" })))
    assert.isFalse(cloud(command("a")))
    assert.isFalse("executionMode" in onlyItem(command("a")).metadata)
  })

  it("reads each boolean hint of a config file", () => {
    assert.isTrue(cloud(fromConfig({ plan: { requiresCloud: true } })))
    assert.isTrue(cloud(fromConfig({ plan: { requires_cloud: true } })))
    assert.isTrue(cloud(fromConfig({ requires_cloud: true })))
    assert.isTrue(cloud(fromConfig({ requiresCloud: true })))
    assert.isFalse(cloud(fromConfig({})))
  })

  it("takes the first boolean in order plan hint, requires_cloud, requiresCloud, and lets it win over a mode word", () => {
    assert.isFalse(cloud(fromConfig({ plan: { requiresCloud: false }, requires_cloud: true, requiresCloud: true })))
    assert.isFalse(cloud(fromConfig({ plan: { requires_cloud: false }, requires_cloud: true })))
    assert.isTrue(cloud(fromConfig({ plan: { requiresCloud: true, requires_cloud: false } })))
    assert.isFalse(cloud(fromConfig({ requires_cloud: false, requiresCloud: true })))
    assert.isTrue(cloud(fromConfig({ requires_cloud: true, requiresCloud: false })))
    assert.isFalse(cloud(fromConfig({ plan: { requiresCloud: false }, executionMode: "cloud" })))
    assert.isTrue(cloud(fromConfig({ requiresCloud: true, executionMode: "mcp" })))
  })

  it("derives it from a mode word, trimmed and lower-cased, the first in order plan, executionMode, execution_mode, mode", () => {
    assert.isTrue(cloud(fromConfig({ executionMode: " Cloud " })))
    assert.isTrue(cloud(fromConfig({ execution_mode: "CLOUD" })))
    assert.isTrue(cloud(fromConfig({ mode: "cloud" })))
    assert.isTrue(cloud(fromConfig({ plan: { executionMode: "cloud" } })))
    assert.isFalse(cloud(fromConfig({ executionMode: "mcp" })))
    const mode = (stage: Stage) => onlyItem(stage).metadata.executionMode
    assert.strictEqual(mode(fromConfig({ plan: { executionMode: "mcp" }, executionMode: "cloud", execution_mode: "cloud", mode: "cloud" })), "mcp")
    assert.strictEqual(mode(fromConfig({ executionMode: "cloud", execution_mode: "mcp", mode: "mcp" })), "cloud")
    assert.strictEqual(mode(fromConfig({ execution_mode: "mcp", mode: "cloud" })), "mcp")
    assert.strictEqual(mode(fromConfig({ mode: "Cloud" })), "cloud")
  })
})

describe("PLN-3 targets (with D-4)", () => {
  it("matches the exact item id and selects only that item", () => {
    const plan = planOf(diagnostics, "diagnostics:lint")
    assert.strictEqual(plan.targetId, "diagnostics:lint")
    assert.deepStrictEqual(selectedIds(plan), ["diagnostics:lint"])
    assert.strictEqual(targetedStageId(plan), "lint")
  })

  it("matches a bare stage id case-insensitively", () => {
    assert.strictEqual(planOf(diagnostics, "test").targetId, "diagnostics:test")
    assert.strictEqual(planOf(diagnostics, "SPEC-GUARD").targetId, "diagnostics:spec-guard")
    assert.strictEqual(planOf(diagnostics, "Build").targetId, "diagnostics:build")
  })

  it("compares the part after the last colon", () => {
    assert.strictEqual(planOf(diagnostics, "other:lint").targetId, "diagnostics:lint")
    assert.strictEqual(planOf(diagnostics, "a:b:LINT").targetId, "diagnostics:lint")
    assert.strictEqual(planOf(diagnostics, "DIAGNOSTICS:BUILD").targetId, "diagnostics:build")
  })

  it("matches aliases case-insensitively", () => {
    assert.strictEqual(planOf(diagnostics, "unit").targetId, "diagnostics:test")
    assert.strictEqual(planOf(diagnostics, "ut").targetId, "diagnostics:test")
    assert.strictEqual(planOf(diagnostics, "diagnostics:UNIT").targetId, "diagnostics:test")
    assert.strictEqual(targetedStageId(planOf(diagnostics, "ut")), "test")
  })

  it("tries the whole target against stage ids and aliases before its last part (a stage id may hold a colon)", () => {
    const p = pipeline("p", [command("migrate"), command("db:migrate", { plan: { aliases: ["Schema:Up"] } })])
    assert.strictEqual(planOf(p, "db:migrate").targetId, "p:db:migrate")
    assert.strictEqual(planOf(p, "DB:Migrate").targetId, "p:db:migrate")
    assert.strictEqual(planOf(p, "schema:up").targetId, "p:db:migrate")
    assert.strictEqual(planOf(p, "other:migrate").targetId, "p:migrate")
  })

  it("prefers the exact item id over a stage id or alias match", () => {
    const p = pipeline("p", [command("first", { plan: { aliases: ["second"] } }), command("second")])
    assert.strictEqual(planOf(p, "p:second").targetId, "p:second")
    assert.deepStrictEqual(selectedIds(planOf(p, "p:second")), ["p:second"])
  })

  it("lets an explicit target win over a default target", () => {
    const p = pipeline("p", [command("a"), withPlan("b", { defaultTarget: true })])
    const plan = planOf(p, "a")
    assert.strictEqual(plan.targetId, "p:a")
    assert.deepStrictEqual(selectedIds(plan), ["p:a"])
  })

  it("rejects an unknown target, listing the valid stage ids", () => {
    const error = unknownTarget(diagnostics, "deploy")
    assert.strictEqual(error._tag, "UnknownTarget")
    assert.strictEqual(error.target, "deploy")
    assert.strictEqual(error.pipelineId, "diagnostics")
    assert.deepStrictEqual(error.valid, ["build", "lint", "test", "spec-guard"])
    assert.strictEqual(
      error.message,
      "Unknown target stage 'deploy' for pipeline 'diagnostics'. Valid stage ids: build, lint, test, spec-guard."
    )
  })

  it("rejects a target whose last segment is not a stage", () => {
    assert.strictEqual(unknownTarget(diagnostics, "build:nothing").target, "build:nothing")
    assert.strictEqual(unknownTarget(diagnostics, "diagnostics:").target, "diagnostics:")
    assert.strictEqual(unknownTarget(diagnostics, "").target, "")
  })

  it("says when the pipeline has no stages", () => {
    assert.strictEqual(
      unknownTarget(pipeline("empty", []), "x").message,
      "Unknown target stage 'x' for pipeline 'empty'. Valid stage ids: (the pipeline has no stages)."
    )
  })

  it("matchTarget returns the item or undefined", () => {
    const items = planOf(diagnostics).items
    assert.strictEqual(matchTarget(items, "UNIT")?.id, "diagnostics:test")
    assert.isUndefined(matchTarget(items, "nope"))
    assert.isUndefined(matchTarget([], "build"))
  })
})

describe("PLN-3 default target", () => {
  it("falls back to the first defaultTarget item", () => {
    const p = pipeline("p", [command("a"), withPlan("b", { defaultTarget: true }), withPlan("c", { defaultTarget: true })])
    const plan = planOf(p)
    assert.strictEqual(plan.targetId, "p:b")
    assert.deepStrictEqual(selectedIds(plan), [])
    assert.isUndefined(targetedStageId(plan))
  })

  it("accepts plan.default and plan.primary as default-target hints", () => {
    assert.strictEqual(planOf(pipeline("p", [command("a"), withPlan("b", { default: true })])).targetId, "p:b")
    assert.strictEqual(planOf(pipeline("p", [command("a"), withPlan("b", { primary: true })])).targetId, "p:b")
    assert.strictEqual(planOf(pipeline("p", [command("a"), withPlan("b", { defaultTarget: false })])).targetId, "p:a")
  })

  it("falls back to the first runnable item", () => {
    const p = pipeline("p", [withPlan("a", { runnable: false }), command("b"), command("c")])
    assert.strictEqual(planOf(p).targetId, "p:b")
  })

  it("prefers a default target even when it is not runnable", () => {
    const p = pipeline("p", [command("a"), withPlan("b", { runnable: false, defaultTarget: true })])
    assert.strictEqual(planOf(p).targetId, "p:b")
  })

  it("falls back to the first item when none is runnable", () => {
    const p = pipeline("p", [withPlan("a", { runnable: false }), withPlan("b", { runnable: false })])
    assert.strictEqual(planOf(p).targetId, "p:a")
  })

  it("has a null target for a pipeline without stages", () => {
    const plan = planOf(pipeline("empty", []))
    assert.strictEqual(plan.targetId, null)
    assert.deepStrictEqual(plan.items, [])
  })
})
