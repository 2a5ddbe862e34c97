/**
 * `plan` (SPEC CLI-5): prints what a pipeline would run and writes nothing; `--help` and `--version`.
 */
import { join } from "node:path"
import { assert, beforeAll, describe, it } from "vitest"
import {
  asArray,
  asObject,
  asString,
  commandStage,
  describeResult,
  listDir,
  packageRoot,
  parseJson,
  pipeline,
  readJson,
  requireBuiltCli,
  runCli,
  subpipelineStage,
  withRepo
} from "../support/cli.js"

beforeAll(requireBuiltCli)

const config = {
  pipelines: [
    pipeline(
      "p",
      [
        commandStage("one", "echo one >> trace.txt"),
        commandStage("two", "echo two >> trace.txt", {
          cwd: "sub",
          env: { A: "1", B: "two" },
          allowFailure: true,
          summaryHint: "hint"
        }),
        subpipelineStage("nested", "child")
      ],
      { description: "Plans things." }
    ),
    pipeline("child", [commandStage("inner", "echo inner >> trace.txt")])
  ]
}

describe.concurrent("plan", () => {
  it("prints the CLI-5 JSON and writes nothing", () =>
    withRepo(config, async (repo) => {
      const result = await runCli(["plan", "p", "--task", "t", "--format", "json"], { cwd: repo.dir })
      assert.strictEqual(result.code, 0, describeResult(result))
      const view = asObject(parseJson(result.stdout), "stdout")
      assert.deepStrictEqual(view["pipeline"], { id: "p", title: "Pipeline p", description: "Plans things.", source: "user" })

      const stages = asArray(view["stages"], "stages").map((s, i) => asObject(s, `stages[${i}]`))
      assert.strictEqual(stages.length, 3)
      const expectedOne = {
        index: 1,
        id: "one",
        title: "Stage one",
        kind: "command",
        command: "echo one >> trace.txt",
        cwd: null,
        env: null,
        allowFailure: false,
        summaryHint: null
      }
      for (const [key, value] of Object.entries(expectedOne)) assert.deepStrictEqual(stages[0]?.[key], value, `stages[0].${key}`)
      const expectedTwo = {
        index: 2,
        id: "two",
        kind: "command",
        cwd: "sub",
        env: { A: "1", B: "two" },
        allowFailure: true,
        summaryHint: "hint"
      }
      for (const [key, value] of Object.entries(expectedTwo)) assert.deepStrictEqual(stages[1]?.[key], value, `stages[1].${key}`)
      assert.deepStrictEqual(stages[2], {
        index: 3,
        id: "nested",
        title: "Nested child",
        kind: "subpipeline",
        pipeline: "child",
        optional: false
      })

      const plan = asObject(view["plan"], "plan")
      const items = asArray(plan["items"], "plan.items").map((item, i) => asObject(item, `items[${i}]`))
      assert.deepStrictEqual(items.map((item) => item["id"]), ["p:one", "p:two", "p:nested"])
      assert.strictEqual(plan["notes"], "Plans things.")
      assert.strictEqual(plan["targetId"], "p:one")
      assert.strictEqual(view["targetId"], "p:one")

      assert.deepStrictEqual(listDir(repo.dir), ["codex.orchestrator.json"], "plan wrote files")
    }))

  it("marks the --target stage in the plan", () =>
    withRepo(config, async (repo) => {
      const result = await runCli(["plan", "p", "--target", "two", "--format", "json"], { cwd: repo.dir })
      assert.strictEqual(result.code, 0, describeResult(result))
      const view = asObject(parseJson(result.stdout), "stdout")
      assert.strictEqual(view["targetId"], "p:two")
      const items = asArray(asObject(view["plan"], "plan")["items"], "items").map((item, i) => asObject(item, `items[${i}]`))
      assert.deepStrictEqual(items.map((item) => item["selected"] === true), [false, true, false])
      assert.deepStrictEqual(listDir(repo.dir), ["codex.orchestrator.json"])
    }))

  it("prints the CLI-5 text form", () =>
    withRepo(config, async (repo) => {
      const result = await runCli(["plan", "p"], { cwd: repo.dir })
      assert.strictEqual(result.code, 0, describeResult(result))
      const lines = result.stdout.split("\n")
      assert.strictEqual(lines[0], "Pipeline: p — Pipeline p [user]")
      assert.strictEqual(lines[1], "Description: Plans things.")
      assert.strictEqual(lines[2], "Stages:")
      assert.strictEqual(lines[3], "  1. [command] Stage one (one)")
      assert.strictEqual(lines[4], "     command: echo one >> trace.txt")
      assert.strictEqual(lines[5], "  2. [command] Stage two (two)")
      for (const line of ["     cwd: sub", "     env: A=1, B=two", "     allowFailure: true", "     summaryHint: hint"]) {
        assert.include(lines, line)
      }
      assert.include(lines, "  3. [subpipeline] Nested child (nested)")
      assert.include(lines, "     pipeline: child")
      assert.include(lines, "Notes: Plans things.")
      assert.notInclude(result.stdout, "[Codex-Orchestrator]")
      assert.deepStrictEqual(listDir(repo.dir), ["codex.orchestrator.json"])
    }))

  it("plans a built-in pipeline without any config (source default)", () =>
    withRepo(undefined, async (repo) => {
      const result = await runCli(["plan", "diagnostics", "--format", "json"], { cwd: repo.dir })
      assert.strictEqual(result.code, 0, describeResult(result))
      const view = asObject(parseJson(result.stdout), "stdout")
      const source = asObject(view["pipeline"], "pipeline")
      assert.strictEqual(source["id"], "diagnostics")
      assert.strictEqual(source["source"], "default")
      assert.deepStrictEqual(listDir(repo.dir), [])
      // CFG-1: one stderr line says the file is missing and which built-ins are used.
      assert.deepStrictEqual(result.stderr.split("\n").filter((line) => line.length > 0), [
        `[Codex-Orchestrator] warning: No codex.orchestrator.json in ${repo.dir}: using the built-in pipelines (design-reference, diagnostics-with-eval, diagnostics, docs-review, hi-fi-design-toolkit, implementation-gate-devtools, implementation-gate, tfgrpo-learning).`
      ])
    }))

  it("says nothing about the config file when there is one", () =>
    withRepo(config, async (repo) => {
      const result = await runCli(["plan", "p", "--format", "json"], { cwd: repo.dir })
      assert.strictEqual(result.code, 0, describeResult(result))
      assert.notInclude(result.stderr, "codex.orchestrator.json")
    }))
})

describe.concurrent("--help and --version", () => {
  const version = asString(readJson(join(packageRoot, "package.json"))["version"], "package.json version")

  it("--version exits 0 and prints the package version", () =>
    withRepo(undefined, async (repo) => {
      const result = await runCli(["--version"], { cwd: repo.dir })
      assert.strictEqual(result.code, 0, describeResult(result))
      assert.include(result.stdout, version)
      assert.deepStrictEqual(listDir(repo.dir), [])
    }))

  it("--help exits 0 and lists the commands", () =>
    withRepo(undefined, async (repo) => {
      const result = await runCli(["--help"], { cwd: repo.dir })
      assert.strictEqual(result.code, 0, describeResult(result))
      assert.include(result.stdout, "start")
      assert.include(result.stdout, "plan")
      assert.deepStrictEqual(listDir(repo.dir), [])
    }))
})
