/**
 * The README's "Review gate" commands, run as written in a small repository that satisfies every
 * check: each must exit 0.
 */
import { assert, beforeAll, describe, it } from "vitest"
import { requireBuiltCli } from "../support/cli.js"
import { utcDate, withGitRepo } from "../support/gitRepo.js"
import { writeFakeCodex } from "../support/fakeCodex.js"
import { npxShim, readmeCommands, runLine } from "../support/readme.js"

beforeAll(requireBuiltCli)

const quiet = { BASE_SHA: undefined, DIFF_BUDGET_BASE: undefined, DIFF_BUDGET_MAX_FILES: undefined, DIFF_BUDGET_MAX_LINES: undefined }

describe("README: Review gate", () => {
  it("runs every guard and review example as written (codex: a fake on PATH)", () =>
    withGitRepo({
      "package.json": JSON.stringify({ name: "demo", scripts: { build: "true" } }),
      "src/index.ts": "export const a = 1\n",
      "tasks/index.json": JSON.stringify({ items: [{ id: "0001", slug: "demo", title: "Demo" }] }),
      "tasks/specs/0001-demo.md": `# Demo\nlast_review: ${utcDate(1)}\n`,
      "tasks/tasks-0001-demo.md": "# Task 0001 — Demo\n\n## Checklist\n- [ ] ship\n",
      "docs/TASKS.md": "# Tasks\n",
      ".gitignore": ".shim/\n.runs/\n"
    }, async (repo) => {
      repo.commit("change", { "src/index.ts": "export const a = 2\n", "tasks/specs/0001-demo.md": `# Demo\nlast_review: ${utcDate(0)}\n` })
      repo.write({ ".runs/0001/cli/run-1/manifest.json": JSON.stringify({ task_id: "0001" }) })
      const shim = npxShim(repo.dir)
      writeFakeCodex(shim)
      const commands = ["### guard spec", "### guard diff-budget", "### guard docs", "### review", "### Gate pipelines"].flatMap(readmeCommands)
      assert.isAtLeast(commands.length, 12)
      for (const line of commands) {
        const result = runLine(line, repo.dir, shim, quiet)
        assert.strictEqual(result.code, 0, `README line failed: ${line}\n${result.stdout}\n${result.stderr}`)
      }
    }))
})
