/** GRD-5's review prompt to the exact text (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { buildReviewPrompt, checklistLines, listsReview, prdBulletsOf, reviewChecklist } from "../../src/domain/ReviewPrompt.js"

const checklist = ["Review checklist:", ...reviewChecklist.map((item) => `- ${item}`)].join("\n")

describe("buildReviewPrompt, exactly", () => {
  it("a commit's review with task context, an override and git's short status kept as printed", () => {
    const prompt = buildReviewPrompt({
      task: "t",
      manifestPath: "m.json",
      taskFile: { path: "tasks/tasks-t.md", checklist: ["- [ ] a", "- [x] b"] },
      prdBullets: ["- goal"],
      notes: "Goal: x",
      scope: { _tag: "Commit", commit: "abc123" },
      gitSummary: "\n\n M src/a.ts\n\n",
      overrideReason: "big refactor"
    })
    assert.strictEqual(
      prompt,
      [
        "Review task: t\nEvidence manifest: m.json",
        "Task context:\n- Task checklist: tasks/tasks-t.md\n  - [ ] a\n  - [x] b\n- PRD summary (docs/PRD.md):\n  - goal",
        "Agent notes:\nGoal: x",
        checklist,
        "Scope: commit abc123 only (git show abc123).\n M src/a.ts",
        "Diff budget override: big refactor"
      ].join("\n\n") + "\n"
    )
  })

  it("uncommitted changes with only PRD bullets, or only a task file, and an empty summary", () => {
    const base = { task: "t", manifestPath: "m.json", notes: "", gitSummary: "\n" }
    assert.strictEqual(
      buildReviewPrompt({ ...base, prdBullets: ["- p"], scope: { _tag: "Uncommitted" } }),
      [
        "Review task: t\nEvidence manifest: m.json",
        "Task context:\n- PRD summary (docs/PRD.md):\n  - p",
        "Agent notes:\n",
        checklist,
        "Scope: the uncommitted changes in the working tree (git diff HEAD, plus untracked files)."
      ].join("\n\n") + "\n"
    )
    assert.include(
      buildReviewPrompt({ ...base, prdBullets: [], taskFile: { path: "x.md", checklist: [] }, scope: { _tag: "Base", base: "main" } }),
      "\n\nTask context:\n- Task checklist: x.md\n\nAgent notes:"
    )
    // Only leading blank lines go: the lines of git's output stay apart.
    assert.isTrue(
      buildReviewPrompt({ ...base, gitSummary: " M a\n M b\n", prdBullets: [], scope: { _tag: "Uncommitted" } })
        .endsWith("(git diff HEAD, plus untracked files).\n M a\n M b\n")
    )
  })
})

describe("task file and PRD lines, exactly", () => {
  it("indented lines count once trimmed; a box or bullet further into a line does not", () => {
    assert.deepStrictEqual(checklistLines("  - [ ] a\ntext - [x] b\n\t* [X] c"), ["- [ ] a", "* [X] c"])
    assert.deepStrictEqual(checklistLines(Array.from({ length: 25 }, (_, i) => `- [ ] ${i}`).join("\n")).length, 20)
    assert.deepStrictEqual(prdBulletsOf("  - one\nsee - two\n   * [ ] box\n- \n* three\n- see - [ ] later"), ["- one", "* three", "- see - [ ] later"])
  })

  it("review is listed at the start of a line or before a comma, not inside a word", () => {
    assert.isTrue(listsReview("review, exec"))
    assert.isTrue(listsReview("commands: exec review"))
    assert.isFalse(listsReview("prereview"))
    assert.isFalse(listsReview("review-mode"))
  })
})
