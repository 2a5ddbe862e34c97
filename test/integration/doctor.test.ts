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
      assert.deepStrictEqual(statuses(text.stdout), ["ok   git", "ok   node", "ok   settings", "ok   config", "ok   runs", "ok   codex", "skip cluster"])
      assert.match(text.stdout, /\nok {3}config: codex\.orchestrator\.json: 0 pipeline\(s\), default "diagnostics"/)
      assert.match(text.stdout, /\ndoctor: OK \(6 ok, 0 warning\(s\), 0 failed, 1 skipped\)\n$/)
      const json = await repo.cli(["doctor", "--format", "json"], env)
      assert.strictEqual(json.code, 0, describeResult(json))
      const report = asObject(parseJson(json.stdout), "stdout")
      assert.strictEqual(report["ok"], true)
      assert.deepStrictEqual(asArray(report["checks"], "checks").map((c) => asObject(c, "check")["id"]), ["git", "node", "settings", "config", "runs", "codex", "cluster"])
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
      assert.deepStrictEqual(statuses(result.stdout), ["FAIL git", "ok   node", "FAIL settings", "FAIL config", "FAIL runs", "warn codex", "FAIL cluster"])
      const lines = result.stdout.trim().split("\n")
      assert.include(lines[0], `${repo.dir} is not a git repository (fix: run \`git init\` there`)
      // The bad URL is a bad setting too (the cluster's settings), and the cluster row says why it cannot connect.
      assert.include(lines[2], "CODEX_CLUSTER_DATABASE_URL")
      assert.include(lines[3], "missing")
      const fileFix = `(fix: move ${repo.path("a-file")} aside, or set CODEX_ORCHESTRATOR_RUNS_DIR to a writable folder)`
      assert.strictEqual(lines[4], `FAIL runs: ${repo.path("a-file")} is a file, so ${repo.path("a-file", "runs")} cannot be created in it ${fileFix}`)
      assert.include(lines[5], "(fix: install the Codex CLI or set CODEX_BIN")
      assert.include(lines[6], "is not a PostgreSQL URL")
      for (const line of lines.slice(0, -1).filter((l) => !l.startsWith("ok"))) assert.include(line, "(fix: ")
      assert.strictEqual(lines.at(-1), "doctor: a required check failed (1 ok, 1 warning(s), 5 failed, 0 skipped)")
      const runsFile = await runCli(["doctor"], { cwd: repo.dir, env: { CODEX_BIN: repo.path("no-codex"), CODEX_ORCHESTRATOR_RUNS_DIR: repo.path("a-file") } })
      assert.include(runsFile.stdout, `\nFAIL runs: ${repo.path("a-file")} is a file, not a folder ${fileFix}\n`, describeResult(runsFile))
    }))

  it("a codex whose --help never answers is a warning after 10 s, not a doctor that waits for ever", () =>
    withGitRepo({}, async (repo) => {
      const hang = repo.path("hanging-codex")
      writeFileSync(hang, "#!/bin/sh\nsleep 120\n", { mode: 0o755 })
      const started = Date.now()
      const result = await repo.cli(["doctor"], { CODEX_BIN: hang, CODEX_CLUSTER_DATABASE_URL: undefined })
      assert.isBelow(Date.now() - started, 30_000, describeResult(result))
      assert.include(result.stdout, `warn codex: "${hang} --help" did not answer within 10 s`, describeResult(result))
    }), 60_000)

  it("bad settings are one FAIL row naming each variable, and every other check still runs", () =>
    withGitRepo({ "codex.orchestrator.json": JSON.stringify({ defaultPipeline: "diagnostics", pipelines: [] }) }, async (repo) => {
      const env = {
        CODEX_ORCHESTRATOR_SUBSCRIBER_GRACE_SECONDS: "abc",
        TFGRPO_EPOCH: "soon",
        CODEX_CLUSTER_DATABASE_URL: undefined
      }
      // Before: exit 2 with the engine setting's line alone, no check run.
      const result = await repo.cli(["doctor"], env)
      assert.strictEqual(result.code, 1, describeResult(result))
      assert.deepStrictEqual(statuses(result.stdout), ["ok   git", "ok   node", "FAIL settings", "ok   config", "ok   runs", "warn codex", "skip cluster"])
      const row = result.stdout.split("\n")[2] ?? ""
      assert.include(row, 'CODEX_ORCHESTRATOR_SUBSCRIBER_GRACE_SECONDS="abc" is not a number ≥ 0.')
      assert.include(row, 'TFGRPO_EPOCH="soon" is not a positive integer.')
      assert.include(row, "(fix: set each variable named as its message says, or unset it to use the default)")
      assert.strictEqual(result.stderr.includes("error:"), false, describeResult(result))
    }))
})
