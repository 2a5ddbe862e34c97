/** The built-in gate pipelines run end to end in a repository that is not this one, through the built CLI. */
import { assert, beforeAll, describe, it } from "vitest"
import { asObject, commandAt, describeResult, parseJson, readJson, requireBuiltCli } from "../support/cli.js"
import { fakeCodexCalls, writeFakeCodex } from "../support/fakeCodex.js"
import { utcDate, withGitRepo } from "../support/gitRepo.js"

beforeAll(requireBuiltCli)

const repoFiles = {
  ".gitignore": ".runs/\nout/\n.bin/\n",
  "package.json": JSON.stringify({ name: "demo", scripts: { test: "node -e \"console.log('1 test passed')\"" } }),
  "src/index.ts": "export const a = 1\n",
  "tasks/specs/0001-demo.md": `last_review: ${utcDate(0)}\n`
}

describe("built-in gate pipelines", () => {
  it("diagnostics skips the missing npm scripts with a summary, runs the others and records the guardrail", () =>
    withGitRepo(repoFiles, async (repo) => {
      const result = await repo.cli(["start", "diagnostics", "--task", "demo", "--format", "json"])
      assert.strictEqual(result.code, 0, describeResult(result))
      const output = asObject(parseJson(result.stdout), "stdout")
      const manifest = readJson(repo.path(String(output["manifest"])))
      const summaries = [0, 1, 2, 3].map((i) => [commandAt(manifest, i)["status"], commandAt(manifest, i)["summary"]])
      assert.deepStrictEqual(summaries.slice(0, 2), [
        ["skipped", "skipped: package.json has no \"build\" script"],
        ["skipped", "skipped: package.json has no \"lint\" script"]
      ])
      assert.strictEqual(summaries[2]?.[0], "succeeded")
      assert.match(String(summaries[2]?.[1]), /\n1 test passed$/)
      assert.deepStrictEqual(summaries[3], ["succeeded", "✅ Spec guard: OK"])
      assert.strictEqual(asObject(manifest["guardrail_status"], "guardrail_status")["present"], true)
    }))

  it("implementation-gate runs the guards, the npm scripts and codex review on the run's own manifest", () =>
    withGitRepo(repoFiles, async (repo) => {
      const codex = writeFakeCodex(repo.path(".bin"))
      const log = repo.path(".bin", "calls.log")
      repo.commit("change", { "src/index.ts": "export const a = 2\n", "tasks/specs/0001-demo.md": `last_review: ${utcDate(0)}\n\nupdated\n` })
      const result = await repo.cli(["start", "implementation-gate", "--task", "x", "--format", "json"], {
        CODEX_BIN: codex,
        FAKE_CODEX_LOG: log,
        NOTES: "Goal: g | Summary: s | Risks: r"
      })
      assert.strictEqual(result.code, 0, describeResult(result))
      const output = asObject(parseJson(result.stdout), "stdout")
      const manifest = readJson(repo.path(String(output["manifest"])))
      const stages = [0, 1, 2, 3, 4, 5, 6].map((i) => [commandAt(manifest, i)["id"], commandAt(manifest, i)["status"]])
      // The repository has no build or lint script: those stages are skipped (skipExitCode), the others succeed.
      assert.deepStrictEqual(stages.map((s) => s[1]), ["succeeded", "skipped", "skipped", "succeeded", "succeeded", "succeeded", "succeeded"], JSON.stringify(stages))
      const review = fakeCodexCalls(log).filter((call) => call[1] === "review")
      assert.strictEqual(review.length, 1)
      assert.include(review[0]?.[2] ?? "", `Evidence manifest: ${String(output["manifest"])}\n`)
      const guardrails = asObject(manifest["guardrail_status"], "guardrail_status")
      assert.deepStrictEqual(guardrails["counts"], { total: 3, succeeded: 3, failed: 0, skipped: 0, other: 0 })
    }))

  it("plan works for every gate pipeline", () =>
    withGitRepo(repoFiles, async (repo) => {
      for (const id of ["diagnostics", "implementation-gate", "implementation-gate-devtools", "docs-review", "diagnostics-with-eval", "tfgrpo-learning"]) {
        const result = await repo.cli(["plan", id, "--format", "json"])
        assert.strictEqual(result.code, 0, `${id}\n${describeResult(result)}`)
        assert.strictEqual(asObject(asObject(parseJson(result.stdout), "plan")["pipeline"], "pipeline")["id"], id)
      }
    }))
})
