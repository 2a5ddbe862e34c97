/** `guard spec` (GRD-1) on real git repositories through the built CLI: messages, exit codes, base selection. */
import { assert, beforeAll, describe, it } from "vitest"
import { describeResult, requireBuiltCli } from "../support/cli.js"
import { utcDate, withGitRepo } from "../support/gitRepo.js"

beforeAll(requireBuiltCli)

const missingSpec = "code/migrations changed but no spec updated under tasks/specs or tasks/index.json"
const initial = { "src/index.ts": "export const a = 1\n", "README.md": "# demo\n" }

describe("guard spec", () => {
  it("fails when code changed without a spec, and --dry-run reports the same but exits 0", () =>
    withGitRepo(initial, async (repo) => {
      repo.commit("code", { "src/index.ts": "export const a = 2\n" })
      const failed = await repo.cli(["guard", "spec"])
      assert.strictEqual(failed.code, 1, describeResult(failed))
      assert.strictEqual(failed.stdout, `❌ Spec guard: issues detected\n - ${missingSpec}\n`)
      assert.strictEqual(failed.stderr, "")
      const dry = await repo.cli(["guard", "spec", "--dry-run"])
      assert.strictEqual(dry.code, 0, describeResult(dry))
      assert.strictEqual(dry.stdout, `❌ Spec guard: issues detected\n - ${missingSpec}\nDry run: exiting successfully despite failures.\n`)
    }))

  it("passes when code changed with a fresh spec, or when only tasks/index.json changed with it", () =>
    withGitRepo(initial, async (repo) => {
      repo.commit("code and spec", {
        "src/index.ts": "export const a = 3\n",
        "tasks/specs/0001-demo.md": `# Spec\nlast_review: ${utcDate(0)}\n`
      })
      const ok = await repo.cli(["guard", "spec"])
      assert.strictEqual(ok.code, 0, describeResult(ok))
      assert.strictEqual(ok.stdout, "✅ Spec guard: OK\n")
      repo.commit("index", { "migrations/001.sql": "create table t();\n", "tasks/index.json": "{\"items\": []}\n" })
      assert.strictEqual((await repo.cli(["guard", "spec"])).code, 0)
    }))

  it("checks every spec file's last_review: missing, invalid, older than 30 days; README.md and nested files are not specs", () =>
    withGitRepo(initial, async (repo) => {
      repo.commit("specs", {
        "tasks/specs/a-missing.md": "# no review line\n",
        "tasks/specs/b-invalid.md": "last_review: 2026-02-31\n",
        "docs/design/specs/c-stale.md": `  last_review: ${utcDate(40)}\n`,
        "tasks/specs/d-fresh.md": `last_review: ${utcDate(30)}\n`,
        "tasks/specs/README.md": "not a spec\n",
        "tasks/specs/nested/e.md": "not checked\n"
      })
      const result = await repo.cli(["guard", "spec"])
      assert.strictEqual(result.code, 1, describeResult(result))
      assert.strictEqual(
        result.stdout,
        [
          "❌ Spec guard: issues detected",
          " - tasks/specs/a-missing.md: missing last_review field",
          " - tasks/specs/b-invalid.md: invalid last_review date '2026-02-31'",
          ` - docs/design/specs/c-stale.md: last_review ${utcDate(40)} is 40 days old (must be ≤30 days)`,
          ""
        ].join("\n")
      )
    }))

  it("diffs against BASE_SHA when it names a commit, else origin/main, else the first commit", () =>
    withGitRepo(initial, async (repo) => {
      const codeCommit = repo.commit("code without spec", { "src/index.ts": "export const a = 4\n" })
      repo.commit("docs only", { "README.md": "# demo, documented\n" })
      const fromRoot = await repo.cli(["guard", "spec"])
      assert.strictEqual(fromRoot.code, 1, describeResult(fromRoot))
      const fromBase = await repo.cli(["guard", "spec"], { BASE_SHA: codeCommit })
      assert.strictEqual(fromBase.code, 0, describeResult(fromBase))
      const badBase = await repo.cli(["guard", "spec"], { BASE_SHA: "no-such-ref" })
      assert.strictEqual(badBase.code, 1, `an unknown BASE_SHA falls back to the first commit\n${describeResult(badBase)}`)
      repo.git("update-ref", "refs/remotes/origin/main", codeCommit)
      const fromOrigin = await repo.cli(["guard", "spec"])
      assert.strictEqual(fromOrigin.code, 0, describeResult(fromOrigin))
    }))

  it("falls back to HEAD~1..HEAD when nothing changed since the base", () =>
    withGitRepo(initial, async (repo) => {
      const head = repo.commit("code", { "src/index.ts": "export const a = 5\n" })
      const result = await repo.cli(["guard", "spec"], { BASE_SHA: head })
      assert.strictEqual(result.code, 1, describeResult(result))
      assert.include(result.stdout, missingSpec)
    }))

  it("exits 2 outside a git repository and on an unknown option", () =>
    withGitRepo(undefined, async (repo) => {
      const noCommit = await repo.cli(["guard", "spec"])
      assert.strictEqual(noCommit.code, 2, describeResult(noCommit))
      assert.match(noCommit.stderr, /is not a git repository \(it has no commit yet\)/)
      assert.strictEqual(noCommit.stdout, "")
      const unknown = await repo.cli(["guard", "spec", "--fast"])
      assert.strictEqual(unknown.code, 2, describeResult(unknown))
    }))
})
