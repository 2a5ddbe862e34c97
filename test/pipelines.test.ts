import { FileSystem, Path } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { decodeJsonFile } from "../src/domain/FileErrors.js"
import {
  checkNestedPipelines,
  configFileName,
  type PipelineCatalogData,
  PipelineConfigFile,
  PipelineDefinition,
  resolvePipeline
} from "../src/domain/Pipeline.js"
import { buildPlan, UnknownTarget } from "../src/domain/Plan.js"
import { OrchestratorConfigTest } from "../src/layers/OrchestratorConfig.js"
import { FilesLive, FilesMemorySeeded, InMemoryFiles } from "../src/layers/Files.js"
import { builtinPipelinesUrl, PipelineCatalogLive } from "../src/layers/PipelineCatalog.js"
import { PipelineCatalog } from "../src/services/PipelineCatalog.js"

/** The repository's own pipeline files, decoded with the same schemas the CLI uses. */
const loadRepository = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const builtinsDir = yield* path.fromFileUrl(builtinPipelinesUrl)
  const repoRoot = yield* path.fromFileUrl(new URL("../", import.meta.url))
  const names = (yield* fs.readDirectory(builtinsDir)).filter((name) => name.endsWith(".json")).sort()
  const builtins = yield* Effect.forEach(names, (name) => {
    const file = path.join(builtinsDir, name)
    return fs.readFileString(file).pipe(Effect.flatMap(decodeJsonFile(PipelineDefinition, file)))
  })
  const configPath = path.join(repoRoot, configFileName)
  const config = yield* fs.readFileString(configPath).pipe(Effect.flatMap(decodeJsonFile(PipelineConfigFile, configPath)))
  const catalog: PipelineCatalogData = {
    configPath: configFileName,
    configFound: true,
    user: config.pipelines,
    defaultPipeline: config.defaultPipeline,
    builtins
  }
  return { names, builtins, config, catalog, repoRoot }
})

describe("repository pipelines", () => {
  it.effect("decodes every built-in and names each file after its pipeline", () =>
    Effect.gen(function*() {
      const { builtins, names } = yield* loadRepository
      assert.isAbove(names.length, 0)
      assert.deepStrictEqual(builtins.map((p) => `${p.id}.json`), names)
      const ids = builtins.map((p) => p.id)
      assert.strictEqual(new Set(ids).size, ids.length, "built-in ids are unique")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("ships the CFG-6 diagnostics pipeline: npm scripts guarded by their presence, then the spec guard", () =>
    Effect.gen(function*() {
      const { builtins } = yield* loadRepository
      const diagnostics = builtins.find((p) => p.id === "diagnostics")
      if (diagnostics === undefined) return assert.fail("no built-in diagnostics pipeline")
      assert.strictEqual(diagnostics.title, "Diagnostics Pipeline")
      assert.deepStrictEqual(diagnostics.tags, ["diagnostics-primary", "diagnostics-secondary"])
      assert.deepStrictEqual(
        diagnostics.stages.map((s) => [s.id, s.title]),
        [["build", "npm run build"], ["lint", "npm run lint"], ["test", "npm run test"], ["spec-guard", "codex-orchestrator guard spec --dry-run"]]
      )
      for (const stage of diagnostics.stages.slice(0, 3)) {
        assert(stage.kind === "command")
        assert.include(stage.command, `then npm run ${stage.id}; else echo 'skipped: package.json has no "${stage.id}" script'; exit 78; fi`)
        assert.strictEqual(stage.skipExitCode, 78)
      }
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("ships the CFG-7 gate pipelines, each ending in its guard or review stages", () =>
    Effect.gen(function*() {
      const { builtins } = yield* loadRepository
      const stagesOf = (id: string) => builtins.find((p) => p.id === id)?.stages.map((s) => s.id)
      const gate = ["spec-guard", "build", "lint", "test", "docs-check", "diff-budget", "review"]
      assert.deepStrictEqual(stagesOf("implementation-gate"), gate)
      assert.deepStrictEqual(stagesOf("implementation-gate-devtools"), gate)
      assert.deepStrictEqual(stagesOf("docs-review"), ["spec-guard", "docs-check", "review"])
      assert.deepStrictEqual(stagesOf("diagnostics-with-eval"), ["build", "lint", "test", "eval", "spec-guard"])
      assert.deepStrictEqual(stagesOf("tfgrpo-learning"), ["epoch-1", "epoch-2", "epoch-3", "spec-guard"])
      const envOf = (id: string, stage: string) => {
        const found = builtins.find((p) => p.id === id)?.stages.find((s) => s.id === stage)
        return found?.kind === "command" ? found.env : undefined
      }
      assert.deepStrictEqual(envOf("implementation-gate", "review"), { DIFF_BUDGET_STAGE: "1" })
      assert.deepStrictEqual(envOf("implementation-gate-devtools", "review"), { DIFF_BUDGET_STAGE: "1", CODEX_REVIEW_DEVTOOLS: "1" })
      assert.deepStrictEqual(envOf("docs-review", "review"), { SKIP_DIFF_BUDGET: "1" })
      assert.strictEqual(envOf("tfgrpo-learning", "epoch-2")?.["TFGRPO_EPOCH"], "2")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("decodes codex.orchestrator.json and resolves its default pipeline", () =>
    Effect.gen(function*() {
      const { config, catalog } = yield* loadRepository
      assert.isAbove(config.pipelines.length, 0)
      const ids = config.pipelines.map((p) => p.id)
      assert.strictEqual(new Set(ids).size, ids.length, "user pipeline ids are unique")
      const resolved = resolvePipeline(catalog, undefined)
      if (!("pipeline" in resolved)) return assert.fail(resolved.message)
      assert.strictEqual(resolved.pipeline.id, config.defaultPipeline ?? "diagnostics")
      if (config.defaultPipeline !== undefined) {
        assert.include(ids.concat(catalog.builtins.map((p) => p.id)), config.defaultPipeline)
      }
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("every nested reference resolves and no pipeline contains itself", () =>
    Effect.gen(function*() {
      const { catalog } = yield* loadRepository
      for (const pipeline of [...catalog.user, ...catalog.builtins]) {
        const problem = checkNestedPipelines(catalog, pipeline)
        assert.isUndefined(problem, `${pipeline.id}: ${problem?.message}`)
      }
      const nested = catalog.user.flatMap((p) => p.stages.filter((s) => s.kind === "subpipeline"))
      for (const stage of nested) {
        const target = resolvePipeline(catalog, stage.pipeline)
        assert.isTrue("pipeline" in target, `${stage.id} -> ${stage.pipeline}`)
      }
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("every pipeline plans, and every stage id is a valid target", () =>
    Effect.gen(function*() {
      const { catalog } = yield* loadRepository
      for (const pipeline of [...catalog.user, ...catalog.builtins]) {
        const plan = buildPlan(pipeline, undefined)
        if (plan instanceof UnknownTarget) return assert.fail(plan.message)
        assert.strictEqual(plan.items.length, pipeline.stages.length)
        for (const stage of pipeline.stages) {
          const targeted = buildPlan(pipeline, stage.id)
          if (targeted instanceof UnknownTarget) return assert.fail(targeted.message)
          assert.strictEqual(targeted.targetId, `${pipeline.id}:${stage.id}`)
        }
      }
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("the catalog layer loads the same pipelines from the repository root", () =>
    Effect.gen(function*() {
      const { catalog: expected, repoRoot } = yield* loadRepository
      const loaded = yield* Effect.flatMap(PipelineCatalog, (catalog) => catalog.load).pipe(
        Effect.provide(PipelineCatalogLive().pipe(Layer.provide(Layer.merge(OrchestratorConfigTest(repoRoot), FilesLive))))
      )
      assert.isTrue(loaded.configFound)
      assert.deepStrictEqual(loaded.user, expected.user)
      assert.deepStrictEqual(loaded.builtins, expected.builtins)
      assert.strictEqual(loaded.defaultPipeline, expected.defaultPipeline)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("the catalog reads the config anew each time: a changed file is seen, a broken one fails", () =>
    Effect.gen(function*() {
      const files = yield* InMemoryFiles
      const catalog = yield* PipelineCatalog
      const config = (id: string, notify: string) =>
        JSON.stringify({ notify: [notify], pipelines: [{ id, title: id, stages: [{ kind: "command", id: "s", title: "S", command: "true" }] }] })
      yield* files.write("/repo/codex.orchestrator.json", config("first", "https://a.example/hook"))
      assert.deepStrictEqual(yield* catalog.notifyTargets, ["https://a.example/hook"])
      assert.deepStrictEqual((yield* catalog.load).user.map((p) => p.id), ["first"])
      // The same text again is the same answer; a new text is decoded.
      assert.deepStrictEqual((yield* catalog.load).user.map((p) => p.id), ["first"])
      yield* files.write("/repo/codex.orchestrator.json", config("second", "https://b.example/hook"))
      assert.deepStrictEqual((yield* catalog.load).user.map((p) => p.id), ["second"])
      assert.deepStrictEqual(yield* catalog.notifyTargets, ["https://b.example/hook"])
      yield* files.write("/repo/codex.orchestrator.json", "{\"pipelines\": 3}")
      const broken = yield* Effect.flip(catalog.load)
      assert.strictEqual(broken._tag, "InvalidFile")
      assert.include(broken.message, "pipelines")
    }).pipe(
      Effect.provide(PipelineCatalogLive("/builtins").pipe(
        Layer.provideMerge(Layer.mergeAll(OrchestratorConfigTest("/repo"), FilesMemorySeeded("/builtins", {
          "only.json": JSON.stringify({ id: "only", title: "Only", stages: [{ kind: "command", id: "x", title: "X", command: "true" }] })
        })))
      )),
      Effect.provide(NodeContext.layer)
    ))
})
