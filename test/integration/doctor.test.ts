/** `doctor` through the built CLI on a healthy repository and on a broken one: one line a check, the exit code. */
import { writeFileSync } from "node:fs"
import { assert, beforeAll, describe, it } from "vitest"
import { asArray, asObject, describeResult, parseJson, requireBuiltCli, runCli, withRepo } from "../support/cli.js"
import { writeFakeCodex } from "../support/fakeCodex.js"
import { withGitRepo } from "../support/gitRepo.js"

beforeAll(requireBuiltCli)

const statuses = (stdout: string) => stdout.trim().split("\n").slice(0, -1).map((line) => line.slice(0, line.indexOf(":")))

describe("doctor", () => {
  it("a healthy repository: every required check ok, exit 0; --format json says the same", () =>
    withGitRepo({ "codex.orchestrator.json": JSON.stringify({ defaultPipeline: "diagnostics", pipelines: [] }) }, async (repo) => {
      const bin = repo.path(".bin")
      writeFakeCodex(bin)
      const env = { PATH: `${bin}:${process.env["PATH"] ?? ""}`, CODEX_CLUSTER_DATABASE_URL: undefined }
      const text = await repo.cli(["doctor"], env)
      assert.strictEqual(text.code, 0, describeResult(text))
      assert.deepStrictEqual(statuses(text.stdout), ["ok   git", "ok   node", "ok   config", "ok   runs", "ok   codex", "skip cluster"])
      assert.match(text.stdout, /\nok {3}config: codex\.orchestrator\.json: 0 pipeline\(s\), default "diagnostics"/)
      assert.match(text.stdout, /\ndoctor: OK \(5 ok, 0 warning\(s\), 0 failed, 1 skipped\)\n$/)
      const json = await repo.cli(["doctor", "--format", "json"], env)
      assert.strictEqual(json.code, 0, describeResult(json))
      const report = asObject(parseJson(json.stdout), "stdout")
      assert.strictEqual(report["ok"], true)
      assert.deepStrictEqual(asArray(report["checks"], "checks").map((c) => asObject(c, "check")["id"]), ["git", "node", "config", "runs", "codex", "cluster"])
    }))

  it("a broken repository: each problem is a line with its fix, exit 1", () =>
    withRepo({ defaultPipeline: "missing", pipelines: [] }, async (repo) => {
      writeFileSync(repo.path("a-file"), "not a folder\n")
      const result = await runCli(["doctor"], {
        cwd: repo.dir,
        env: {
          CODEX_BIN: repo.path("no-codex"),
          CODEX_ORCHESTRATOR_RUNS_DIR: repo.path("a-file", "runs"),
          CODEX_CLUSTER_DATABASE_URL: "http://not-postgres"
        }
      })
      assert.strictEqual(result.code, 1, describeResult(result))
      assert.deepStrictEqual(statuses(result.stdout), ["FAIL git", "ok   node", "FAIL config", "FAIL runs", "warn codex", "FAIL cluster"])
      const lines = result.stdout.trim().split("\n")
      assert.include(lines[0], `${repo.dir} is not a git repository (fix: run \`git init\` there`)
      assert.include(lines[2], "missing")
      assert.include(lines[3], repo.path("a-file", "runs"))
      assert.include(lines[4], "(fix: install the Codex CLI or set CODEX_BIN")
      assert.include(lines[5], "is not a PostgreSQL URL")
      for (const line of lines.slice(0, -1).filter((l) => !l.startsWith("ok"))) assert.include(line, "(fix: ")
      assert.strictEqual(lines.at(-1), "doctor: a required check failed (1 ok, 1 warning(s), 4 failed, 0 skipped)")
    }))
})
