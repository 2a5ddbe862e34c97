/** CFG-12 end to end: tasks/index.json gives the manifest's task_slug; a malformed one is bad input. */
import { existsSync, mkdirSync, writeFileSync } from "node:fs"
import { assert, beforeAll, describe, it } from "vitest"
import { commandStage, describeResult, pipeline, requireBuiltCli, runCli, startJson, withRepo } from "../support/cli.js"

beforeAll(requireBuiltCli)

const config = { pipelines: [pipeline("p", [commandStage("one", "echo one")])] }

describe.concurrent("task metadata (CFG-12)", () => {
  it("an entry in tasks/index.json gives the slug; other tasks keep their id", () =>
    withRepo(config, async (repo) => {
      mkdirSync(repo.path("tasks"))
      writeFileSync(repo.path("tasks", "index.json"), JSON.stringify({ items: [{ id: "t-7", slug: "login-page", title: "Login" }] }))
      const named = await startJson(repo, ["p", "--task", "t-7"])
      assert.strictEqual(named.result.code, 0, describeResult(named.result))
      assert.strictEqual(named.manifest["task_slug"], "login-page")
      const other = await startJson(repo, ["p", "--task", "t-8"])
      assert.strictEqual(other.manifest["task_slug"], "t-8")
    }))

  it("a malformed tasks/index.json is bad input: exit 2 naming the file and field, nothing written", () =>
    withRepo(config, async (repo) => {
      mkdirSync(repo.path("tasks"))
      writeFileSync(repo.path("tasks", "index.json"), JSON.stringify({ items: [{ id: "t-7", title: "no slug" }] }))
      const result = await runCli(["start", "p", "--task", "t-7"], { cwd: repo.dir })
      assert.strictEqual(result.code, 2, describeResult(result))
      assert.include(result.stderr, "tasks/index.json is not valid: items.0.slug (item \"t-7\"): is missing", describeResult(result))
      assert.isFalse(existsSync(repo.path(".runs")))
    }))
})
