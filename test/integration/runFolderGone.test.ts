/**
 * The run folder moved away while a stage runs (issue 16 item 16: "the run folder swapped away
 * mid-run"). The orchestrator holds the whole manifest, so it says what happened in one line, makes
 * the folder again at its path and records there what it knows: the stage that was running is
 * `failed` with `stage:<id>:error` and an error file, the run is `failed`, exit 1. What was moved
 * keeps the records written before.
 */
import { existsSync, renameSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, beforeAll, describe, it } from "vitest"
import {
  asArray,
  asObject,
  commandStage,
  describeResult,
  parseJson,
  pipeline,
  readJson,
  requireBuiltCli,
  runDirsOf,
  spawnCli,
  waitFor,
  withRepo
} from "../support/cli.js"

beforeAll(requireBuiltCli)

const config = {
  pipelines: [pipeline("p", [
    // Waits for the test to say go, so the folder is moved while this stage runs.
    commandStage("first", "while [ ! -f go ]; do sleep 0.05; done; echo first done"),
    commandStage("second", "echo second ran")
  ])]
}

describe("a run folder moved away mid-run", () => {
  it("is made again at its path with the run failed, the stage failed with its error file, exit 1", () =>
    withRepo(config, async (repo) => {
      const run = spawnCli(["start", "p", "--task", "t", "--format", "json"], { cwd: repo.dir })
      const runDir = await waitFor("the first stage running", () => {
        const dir = runDirsOf(repo, "t")[0]
        if (dir === undefined) return undefined
        const first = asObject(asArray(readJson(join(dir, "manifest.json"))["commands"], "commands")[0], "commands[0]")
        return first["status"] === "running" ? dir : undefined
      })
      renameSync(runDir, repo.path("moved-run"))
      writeFileSync(repo.path("go"), "")
      const result = await run.done
      assert.strictEqual(result.code, 1, describeResult(result))
      const errors = result.stderr.split("\n").filter((line) => line.includes("error: "))
      assert.match(errors[0] ?? "", /error: The run folder \S+ was moved or deleted while the run was in progress/, describeResult(result))
      assert.notInclude(result.stderr, "not found", describeResult(result))
      assert.notInclude(result.stderr, "second ran", "the stage after the failure did not run")

      const output = asObject(parseJson(result.stdout), "stdout")
      assert.strictEqual(output["status"], "failed")
      assert.strictEqual(output["status_detail"], "stage:first:error")

      const manifest = readJson(join(runDir, "manifest.json"))
      assert.strictEqual(manifest["status"], "failed")
      assert.strictEqual(manifest["status_detail"], "stage:first:error")
      const commands = asArray(manifest["commands"], "commands").map((c, i) => asObject(c, `commands[${i}]`))
      assert.deepStrictEqual(commands.map((c) => c["status"]), ["failed", "pending"])
      const errorFile = readJson(join(runDir, "errors", "01-first.json"))
      assert.strictEqual(errorFile["command_id"], "first")
      assert.strictEqual(errorFile["reason"], "command-error")
      assert.match(String(asObject(errorFile["details"], "details")["error"]), /moved or deleted/)
      assert.strictEqual(commands[0]?.["error_file"], join(".runs", "t", "cli", String(manifest["run_id"]), "errors", "01-first.json"))
      // The moved folder keeps what was written before it went.
      assert.isTrue(existsSync(repo.path("moved-run", "manifest.json")))
    }), 60_000)
})
