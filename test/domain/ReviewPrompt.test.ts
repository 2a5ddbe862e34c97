import { assert, describe, it } from "@effect/vitest"
import { buildReviewPrompt, checklistLines, listsReview, prdBulletsOf, reviewArgv, skipsDiffBudget } from "../../src/domain/ReviewPrompt.js"
import { shellCommand } from "../../src/domain/Shell.js"

describe("GRD-5 review hand-off", () => {
  it("builds the prompt: task, manifest, notes, checklist, scope; context and override only when present", () => {
    const prompt = buildReviewPrompt({
      task: "t", manifestPath: ".runs/t/cli/r/manifest.json", prdBullets: [], notes: "  Goal: x  ", scope: { _tag: "Base", base: "main" }, gitSummary: "\n 1 file changed\n\n"
    })
    assert.match(prompt, /^Review task: t\nEvidence manifest: \.runs\/t\/cli\/r\/manifest\.json\n\nAgent notes:\nGoal: x\n\nReview checklist:\n/)
    assert.match(prompt, /\n\nScope: the changes since main \(git diff main\), uncommitted ones included\.\n 1 file changed\n$/)
    assert.notInclude(prompt, "Task context")
    assert.notInclude(prompt, "Diff budget override")
  })

  it("picks checklist lines, PRD bullets and the codex argv", () => {
    assert.deepStrictEqual(checklistLines("# T\n- [ ] a\ntext\n* [x] b\n- c"), ["- [ ] a", "* [x] b"])
    assert.deepStrictEqual(prdBulletsOf("- 1\n- [ ] no\n- 2\n- 3\n- 4\n- 5\n- 6\n- 7"), ["- 1", "- 2", "- 3", "- 4", "- 5", "- 6"])
    assert.isTrue(listsReview("Commands:\n  exec  Run\n  review  Review"))
    assert.isFalse(listsReview("Commands:\n  exec  Run\n  reviewer-mode"))
    const base = { codex: "codex", title: undefined, prompt: "P", devtoolsScript: undefined }
    assert.deepStrictEqual(reviewArgv({ ...base, devtools: false }), ["codex", "review", "P"])
    assert.deepStrictEqual(reviewArgv({ ...base, devtools: true, title: "T" }), ["codex", "-c", "mcp_servers.chrome-devtools.enabled=true", "review", "--title", "T", "P"])
    assert.deepStrictEqual(reviewArgv({ ...base, devtools: true, devtoolsScript: "/r/scripts/codex-devtools.sh" }), ["/r/scripts/codex-devtools.sh", "review", "P"])
    assert.isTrue(skipsDiffBudget("1", undefined))
    assert.isTrue(skipsDiffBudget(undefined, "yes"))
    assert.isFalse(skipsDiffBudget("0", ""))
  })

  it("quotes shell words so that any argument reaches the process unchanged", () => {
    assert.strictEqual(shellCommand(["git", "diff", "a...HEAD"]), "git diff a...HEAD")
    assert.strictEqual(shellCommand(["codex", "it's $HOME; `x`"]), "codex 'it'\\''s $HOME; `x`'")
    assert.strictEqual(shellCommand([""]), "''")
  })
})
