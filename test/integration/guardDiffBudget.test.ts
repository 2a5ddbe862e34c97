/** `guard diff-budget` (GRD-2) on real git repositories through the built CLI. */
import { symlinkSync } from "node:fs"
import { join } from "node:path"
import { assert, beforeAll, describe, it } from "vitest"
import { asArray, asObject, describeResult, parseJson, requireBuiltCli } from "../support/cli.js"
import { withGitRepo } from "../support/gitRepo.js"

beforeAll(requireBuiltCli)

const lines = (n: number, tag = "line") => Array.from({ length: n }, (_, i) => `${tag} ${i}\n`).join("")
const initial = { "src/a.ts": lines(10), "README.md": "# demo\n" }

describe("guard diff-budget", () => {
  it("passes within budget with the OK line, counting untracked files and skipping ignored paths", () =>
    withGitRepo(initial, async (repo) => {
      const root = repo.git("rev-parse", "HEAD").trim()
      repo.write({
        "src/a.ts": lines(12),
        "notes.txt": "one\ntwo\nthree",
        "package-lock.json": lines(500),
        "dist/out.js": lines(500),
        ".runs/x/manifest.json": "{}\n"
      })
      const result = await repo.cli(["guard", "diff-budget"])
      assert.strictEqual(result.code, 0, describeResult(result))
      // src/a.ts: +2 lines ("line 10", "line 11"); notes.txt: 3 lines (the last unterminated)
      assert.strictEqual(result.stdout, `✅ Diff budget: OK (base=${root}, files=2/25, lines=5/800, +5/-0)\n`)
    }))

  it("fails over budget with reasons and top files; the override reason and --dry-run exit 0", () =>
    withGitRepo(initial, async (repo) => {
      repo.commit("big", { "src/a.ts": lines(3), "src/b.ts": lines(40, "b"), "src/c.ts": lines(5, "c") })
      const args = ["guard", "diff-budget", "--max-files", "2", "--max-lines=30", "--base", "HEAD~1"]
      const failed = await repo.cli(args)
      assert.strictEqual(failed.code, 1, describeResult(failed))
      assert.strictEqual(
        failed.stdout,
        [
          "❌ Diff budget exceeded (base=HEAD~1)",
          " - changed files 3 > 2",
          " - total lines changed 52 > 30",
          "Top changed files:",
          "  - src/b.ts: 40",
          "  - src/a.ts: 7",
          "  - src/c.ts: 5",
          "",
          "To proceed, either split the change into smaller diffs or set an explicit justification:",
          "  DIFF_BUDGET_OVERRIDE_REASON=\"why this diff must be large\" codex-orchestrator guard diff-budget",
          ""
        ].join("\n")
      )
      const dry = await repo.cli([...args, "--dry-run"])
      assert.strictEqual(dry.code, 0, describeResult(dry))
      assert.match(dry.stdout, /Dry run: exiting successfully despite failures\.\n$/)
      const overridden = await repo.cli(args, { DIFF_BUDGET_OVERRIDE_REASON: "  generated fixtures  " })
      assert.strictEqual(overridden.code, 0, describeResult(overridden))
      assert.match(overridden.stdout, /^⚠️ Diff budget exceeded \(override applied\) \(base=HEAD~1\)\n/)
      assert.match(overridden.stdout, /\nOverride accepted via DIFF_BUDGET_OVERRIDE_REASON: generated fixtures\n$/)
    }))

  it("reads limits and the base from the environment; a bad limit falls back to the default with a warning", () =>
    withGitRepo(initial, async (repo) => {
      const first = repo.git("rev-parse", "HEAD").trim()
      const second = repo.commit("one", { "src/a.ts": lines(20) })
      repo.commit("two", { "src/b.ts": lines(3, "b") })
      const fromEnvBase = await repo.cli(["guard", "diff-budget"], { DIFF_BUDGET_BASE: second, DIFF_BUDGET_MAX_LINES: "2" })
      assert.strictEqual(fromEnvBase.code, 1, describeResult(fromEnvBase))
      assert.include(fromEnvBase.stdout, `❌ Diff budget exceeded (base=${second})\n - total lines changed 3 > 2\n`)
      const shaWins = await repo.cli(["guard", "diff-budget"], { BASE_SHA: first, DIFF_BUDGET_BASE: second })
      assert.include(shaWins.stdout, `(base=${first}, files=2/25, lines=13/800, +13/-0)`)
      const flagWins = await repo.cli(["guard", "diff-budget", "--base", second], { BASE_SHA: first, DIFF_BUDGET_MAX_FILES: "lots" })
      assert.strictEqual(flagWins.code, 0, describeResult(flagWins))
      assert.strictEqual(flagWins.stdout, `✅ Diff budget: OK (base=${second}, files=1/25, lines=3/800, +3/-0)\n`)
      assert.include(flagWins.stderr, "warning: DIFF_BUDGET_MAX_FILES=lots is not a non-negative number; using 25.")
    }))

  it("--commit measures that commit alone; binary files count 0 lines", () =>
    withGitRepo(initial, async (repo) => {
      const binary = repo.commit("binary", { "assets/logo.bin": new Uint8Array([0, 1, 2, 0, 255]), "src/a.ts": lines(11) })
      repo.write({ "untracked.txt": lines(1000) })
      const result = await repo.cli(["guard", "diff-budget", "--commit", binary, "--max-lines", "0"])
      assert.strictEqual(result.code, 1, describeResult(result))
      assert.strictEqual(
        result.stdout.split("\n").slice(0, 5).join("\n"),
        [`❌ Diff budget exceeded (commit=${binary})`, " - total lines changed 1 > 0", "Top changed files:", "  - src/a.ts: 1", "  - assets/logo.bin: 0 (binary/unknown)"].join("\n")
      )
    }))

  it("an untracked file over 1 MiB cannot be measured and fails the budget; --format json says the same", () =>
    withGitRepo(initial, async (repo) => {
      repo.write({ "big.bin": new Uint8Array(1024 * 1024 + 100) })
      const text = await repo.cli(["guard", "diff-budget"])
      assert.strictEqual(text.code, 1, describeResult(text))
      assert.include(text.stdout, " - untracked files could not be measured: 1\n")
      assert.include(text.stdout, "Untracked measurement issues:\n  - big.bin: too large to measure (1048676 bytes)\n")
      const json = await repo.cli(["guard", "diff-budget", "--format", "json"])
      assert.strictEqual(json.code, 1, describeResult(json))
      const report = asObject(parseJson(json.stdout), "stdout")
      assert.strictEqual(report["ok"], false)
      assert.strictEqual(report["passed"], false)
      assert.deepStrictEqual(report["files"], { count: 1, max: 25 })
      assert.deepStrictEqual(asArray(report["untracked_issues"], "untracked_issues"), [
        { path: "big.bin", issue: "too large to measure (1048676 bytes)" }
      ])
      assert.deepStrictEqual(report["failures"], ["untracked files could not be measured: 1"])
    }))

  it("an untracked symbolic link counts as git counts it, one line, whatever it points at", () =>
    withGitRepo(initial, async (repo) => {
      const root = repo.git("rev-parse", "HEAD").trim()
      symlinkSync("/tmp", join(repo.dir, "to-a-folder"))
      symlinkSync("nowhere", join(repo.dir, "dangling"))
      symlinkSync("src/a.ts", join(repo.dir, "to-a-file"))
      const result = await repo.cli(["guard", "diff-budget"])
      assert.strictEqual(result.code, 0, describeResult(result))
      assert.strictEqual(result.stdout, `✅ Diff budget: OK (base=${root}, files=3/25, lines=3/800, +3/-0)\n`)
      repo.git("add", "-A") // git's own count of the same links, staged
      const staged = await repo.cli(["guard", "diff-budget"])
      assert.strictEqual(staged.stdout, result.stdout, describeResult(staged))
    }))

  it("exits 2 on an unknown --base or --commit, --base with --commit, and a negative limit", () =>
    withGitRepo(initial, async (repo) => {
      for (const args of [["--base", "nope"], ["--commit", "deadbeef"], ["--base", "HEAD", "--commit", "HEAD"], ["--max-files", "-1"]]) {
        const result = await repo.cli(["guard", "diff-budget", ...args])
        assert.strictEqual(result.code, 2, `${args.join(" ")}\n${describeResult(result)}`)
        assert.strictEqual(result.stdout, "")
        assert.match(result.stderr, /^error: .+\n$/)
      }
    }))
})
