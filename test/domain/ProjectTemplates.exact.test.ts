/** What `init` writes, every file to the exact text (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { projectFiles, scaffoldPipelineId, scaffoldTask } from "../../src/domain/ProjectTemplates.js"

/** The files for task 0001 on 2026-01-02, each as its lines (the text is them joined by newlines). */
const expected: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
  ["tasks/specs/0001-kickoff.md", [
    "# Spec 0001 — Project kickoff",
    "",
    "last_review: 2026-01-02",
    "",
    "The spec guard (`codex-orchestrator guard spec`) wants a spec change with every code change, and this",
    "date within the last 30 days: update it whenever you review the spec.",
    "",
    "## Problem",
    "What is wrong or missing today, for whom.",
    "",
    "## Proposal",
    "What changes, and how we will know it works.",
    "",
    "## Out of scope",
    "What this task does not do.",
    ""
  ]],
  ["tasks/tasks-0001-kickoff.md", [
    "# Task 0001 — Project kickoff",
    "",
    "Edit the goal and the checklist; flip `[ ]` to `[x]` only with the run manifest that proves the item.",
    "",
    "## Checklist",
    "- [ ] Describe the goal in docs/PRD.md and the design in docs/TECH_SPEC.md",
    "- [ ] Plan the steps in docs/ACTION_PLAN.md",
    "- [ ] Diagnostics pass: `codex-orchestrator start --task 0001` (attach the manifest path)",
    "- [ ] Review gate passes: `codex-orchestrator start implementation-gate --task 0001`",
    ""
  ]],
  [".agent/task/0001-kickoff.md", [
    "# Task Checklist — Project kickoff (0001)",
    "",
    "> Set `MCP_RUNNER_TASK_ID=0001-kickoff` for orchestrator commands. Mirror status with `tasks/tasks-0001-kickoff.md` and `docs/TASKS.md`. Flip `[ ]` to `[x]` only with manifest evidence (e.g., `.runs/0001-kickoff/cli/<run-id>/manifest.json`).",
    "",
    "- [ ] Describe the goal in docs/PRD.md and the design in docs/TECH_SPEC.md",
    "- [ ] Plan the steps in docs/ACTION_PLAN.md",
    "- [ ] Diagnostics pass: `codex-orchestrator start --task 0001` (attach the manifest path)",
    "- [ ] Review gate passes: `codex-orchestrator start implementation-gate --task 0001`",
    ""
  ]],
  [".agent/SOPs/review-gate.md", [
    "# SOP: review gate",
    "",
    "1. `codex-orchestrator guard spec` and `codex-orchestrator guard docs`: fix what they report.",
    "2. `codex-orchestrator guard diff-budget`: keep changes reviewable (25 files / 800 lines by default); when a",
    "   change must be larger, say why in `DIFF_BUDGET_OVERRIDE_REASON`.",
    "3. `codex-orchestrator start implementation-gate --task <id>` with `NOTES` set; it ends with `codex review`.",
    "4. Record escalation contacts and where artifacts live for this project below.",
    "",
    "## Contacts and artifacts",
    "- Runs: .runs/ (manifests, logs); summaries: out/.",
    ""
  ]],
  ["docs/PRD.md", [
    "# Product requirements",
    "",
    "- Who it is for:",
    "- The problem:",
    "- What success looks like:",
    ""
  ]],
  ["docs/TECH_SPEC.md", [
    "# Technical spec",
    "",
    "Architecture, data, interfaces, risks. Link the evidence (run manifests under .runs/).",
    ""
  ]],
  ["docs/ACTION_PLAN.md", [
    "# Action plan",
    "",
    "1. First step (task 0001)",
    ""
  ]],
  ["docs/TASKS.md", [
    "# Tasks",
    "",
    "<!-- docs-sync:begin 0001-kickoff -->",
    "## Checklist Mirror",
    "Mirror status with `tasks/tasks-0001-kickoff.md` and `.agent/task/0001-kickoff.md`. Keep `[ ]` until evidence is recorded.",
    "",
    "- [ ] Describe the goal in docs/PRD.md and the design in docs/TECH_SPEC.md",
    "- [ ] Plan the steps in docs/ACTION_PLAN.md",
    "- [ ] Diagnostics pass: `codex-orchestrator start --task 0001` (attach the manifest path)",
    "- [ ] Review gate passes: `codex-orchestrator start implementation-gate --task 0001`",
    "<!-- docs-sync:end 0001-kickoff -->",
    ""
  ]],
  ["AGENTS.md", [
    "# Agent instructions",
    "",
    "Read before working in this repository. The orchestrator hashes this file into every run's manifest.",
    "",
    "- Work on a task from tasks/index.json; set `MCP_RUNNER_TASK_ID` (or pass `--task`, e.g. `--task 0001`).",
    "- Run the checks with `codex-orchestrator start` before asking for review; attach the manifest path it prints.",
    "- Keep the spec under tasks/specs/ current: `codex-orchestrator guard spec` fails when code changes without it.",
    "- Hand the change to review with `codex-orchestrator start implementation-gate` (set `NOTES` first:",
    "  `Goal: ... | Summary: ... | Risks: ...`).",
    "- Mirror checklist status into .agent/task/ and docs/TASKS.md with `codex-orchestrator guard docs --sync --task <id>`.",
    ""
  ]]
]

describe("projectFiles, exactly", () => {
  it("writes the files in order, each with its exact text", () => {
    const files = projectFiles(scaffoldTask("0001"), "2026-01-02")
    assert.deepStrictEqual(files.map((file) => file.path), [
      "codex.orchestrator.json",
      "tasks/index.json",
      ...expected.map(([path]) => path)
    ])
    for (const [path, lines] of expected) {
      assert.strictEqual(files.find((file) => file.path === path)?.text, lines.join("\n"), path)
    }
    assert.strictEqual(files[1]?.text, `${JSON.stringify({ items: [{ id: "0001", slug: "kickoff", title: "Project kickoff" }] }, null, 2)}\n`)
    assert.isTrue(files[0]?.text.startsWith(`{\n  "defaultPipeline": "${scaffoldPipelineId}",\n`))
  })

  it("names the task's files and commands after its id", () => {
    const paths = projectFiles(scaffoldTask("0042"), "2026-03-04").map((file) => file.path)
    assert.includeMembers([...paths], ["tasks/specs/0042-kickoff.md", "tasks/tasks-0042-kickoff.md", ".agent/task/0042-kickoff.md"])
  })
})
