/**
 * A stage's execution mode through the real CLI (D-23, CFG-5): a config file's legacy spelling is
 * read as `executionMode` and decides the run's mode; a mode word that is neither `mcp` nor `cloud`
 * is bad configuration (exit 2, one line naming the field, nothing written).
 */
import { assert, beforeAll, describe, it } from "vitest"
import {
  commandStage,
  describeResult,
  listDir,
  pipeline,
  requireBuiltCli,
  runCli,
  startJson,
  withRepo
} from "../support/cli.js"

beforeAll(requireBuiltCli)

const configWith = (extra: Readonly<Record<string, unknown>>) => ({
  pipelines: [pipeline("p", [commandStage("one", "echo one", extra)])]
})

describe.concurrent("a stage's execution mode in a config file", () => {
  it("requires_cloud: true is read as executionMode cloud: the run is cloud, run locally for want of an executor", () =>
    withRepo(configWith({ requires_cloud: true }), async (repo) => {
      const run = await startJson(repo, ["p", "--task", "modes"])
      assert.strictEqual(run.result.code, 0, describeResult(run.result))
      assert.strictEqual(run.output["execution_mode"], "cloud")
      assert.strictEqual(run.manifest["execution_mode"], "cloud")
      assert.match(run.result.stderr, /Execution mode cloud: no cloud executor is configured/)
    }))

  it("mode: \"local\" is refused: exit 2, the field and the fix on one line, nothing written", () =>
    withRepo(configWith({ mode: "local" }), async (repo) => {
      const result = await runCli(["start", "p", "--task", "modes", "--format", "json"], { cwd: repo.dir })
      assert.strictEqual(result.code, 2, describeResult(result))
      assert.strictEqual(result.stdout, "")
      assert.include(result.stderr, "pipelines.0.stages.0.mode (pipeline \"p\", stage \"one\"): must be \"mcp\" or \"cloud\" (got \"local\")")
      assert.deepStrictEqual(listDir(repo.dir), ["codex.orchestrator.json"])
    }))
})
