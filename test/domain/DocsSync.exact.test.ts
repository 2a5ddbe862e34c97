/** GRD-4's docs sync to the exact text (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { checklistOf, renderAgentMirror, withManagedBlock } from "../../src/domain/DocsSync.js"

const block = (key: string, checklist: string) =>
  [
    `<!-- docs-sync:begin ${key} -->`,
    "## Checklist Mirror",
    `Mirror status with \`tasks/tasks-${key}.md\` and \`.agent/task/${key}.md\`. Keep \`[ ]\` until evidence is recorded.`,
    "",
    checklist,
    `<!-- docs-sync:end ${key} -->`
  ].join("\n")

describe("checklistOf, exactly", () => {
  it("reads the lines after the heading (first line or padded), without leading blank lines", () => {
    assert.strictEqual(checklistOf("## Checklist\n- [ ] a\n- [x] b\n\n"), "- [ ] a\n- [x] b")
    assert.strictEqual(checklistOf("# T\n## Checklist   \n   \n\n- [ ] a\n"), "- [ ] a")
    assert.strictEqual(checklistOf("# T\n## Checklist\nintro\n- [ ] a"), "intro\n- [ ] a")
  })
})

describe("renderAgentMirror, exactly", () => {
  const mirror = (source: string, checklist: string) => renderAgentMirror("7", "7-docs", source, checklist)
  const header = (title: string) => [
    `# Task Checklist — ${title} (7)`,
    "",
    "> Set `MCP_RUNNER_TASK_ID=7-docs` for orchestrator commands. Mirror status with `tasks/tasks-7-docs.md` and " +
    "`docs/TASKS.md`. Flip `[ ]` to `[x]` only with manifest evidence (e.g., `.runs/7-docs/cli/<run-id>/manifest.json`).",
    ""
  ]

  it("titles the mirror from the task's first line and promotes ### groups to ##", () => {
    assert.strictEqual(
      mirror("  # Task 7 —   Docs sync  \n# Task 7 — other", "### Group\n- [ ] a ### \n#### deep"),
      [...header("Docs sync"), "## Group\n- [ ] a ### \n#### deep", ""].join("\n")
    )
  })

  it("falls back to the task key when the first line is not the task's title", () => {
    assert.strictEqual(mirror("# Task 8 — Other\n", "- [ ] a"), [...header("7-docs"), "- [ ] a", ""].join("\n"))
    assert.strictEqual(mirror("", "- [ ] a"), [...header("7-docs"), "- [ ] a", ""].join("\n"))
  })
})

describe("withManagedBlock, exactly", () => {
  it("appends the block after a blank line, starting a file with # Tasks", () => {
    assert.strictEqual(withManagedBlock("", "k", "- [ ] a"), `# Tasks\n\n${block("k", "- [ ] a")}\n`)
    assert.strictEqual(withManagedBlock("intro", "k", "- [ ] a"), `intro\n\n${block("k", "- [ ] a")}\n`)
    assert.strictEqual(withManagedBlock("\nintro\n", "k", "- [ ] a"), `\nintro\n\n${block("k", "- [ ] a")}\n`)
    assert.strictEqual(withManagedBlock("intro\n", "k", "- [ ] a"), `intro\n\n${block("k", "- [ ] a")}\n`)
  })

  it("replaces a block that starts the file, keeping what follows", () => {
    assert.strictEqual(withManagedBlock(`${block("k", "old")}\ntail\n`, "k", "new"), `${block("k", "new")}\ntail\n`)
  })

  it("broken markers (one of the two, or in the wrong order) are undefined", () => {
    assert.strictEqual(withManagedBlock("<!-- docs-sync:begin k -->\nold", "k", "x"), undefined)
    assert.strictEqual(withManagedBlock("head\n<!-- docs-sync:begin k -->\nold", "k", "x"), undefined)
    assert.strictEqual(withManagedBlock("<!-- docs-sync:end k -->", "k", "x"), undefined)
    assert.strictEqual(withManagedBlock("head\n<!-- docs-sync:end k -->", "k", "x"), undefined)
  })
})
