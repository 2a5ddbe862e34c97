/**
 * What `init` writes (seed README, "Customizing for New Projects"): a config with a default pipeline
 * that works in any repository, the task index, a dated spec, the task checklist and its mirrors, the
 * docs and `.agent/` templates, and AGENTS.md. Pure: the layer checks the files and writes them.
 *
 * Every template passes the repository's own gate as written: the spec guard (a `last_review` of
 * today), the docs check (no `npm run` of a script a fresh repository lacks, only paths that exist,
 * only pipelines that exist).
 */
import { checklistOf, renderAgentMirror, withManagedBlock } from "./DocsSync.js"

/** The task `init` scaffolds: its id (`--task`), slug and title. */
export interface ScaffoldTask {
  readonly id: string
  readonly slug: string
  readonly title: string
}

/** One file `init` writes, relative to the repository root. */
export interface ScaffoldFile {
  readonly path: string
  readonly text: string
}

/** The slug and title of the task `init` scaffolds; the user renames them in tasks/index.json. */
export const scaffoldTask = (id: string): ScaffoldTask => ({ id, slug: "kickoff", title: "Project kickoff" })

/** The scaffolded pipeline's id (the config's defaultPipeline). */
export const scaffoldPipelineId = "checks"

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`

const config = json({
  defaultPipeline: scaffoldPipelineId,
  pipelines: [{
    id: scaffoldPipelineId,
    title: "Project checks",
    description: "This repository's checks: the built-in diagnostics (npm build, lint and test when package.json has " +
      "them, then the spec guard) and the docs check. Add your own command stages here.",
    stages: [
      { kind: "subpipeline", id: "diagnostics", title: "Diagnostics", pipeline: "diagnostics" },
      { kind: "command", id: "docs-check", title: "codex-orchestrator guard docs", command: "codex-orchestrator guard docs" }
    ]
  }]
})

const checklist = (task: ScaffoldTask) => [
  `# Task ${task.id} — ${task.title}`,
  "",
  "Edit the goal and the checklist; flip `[ ]` to `[x]` only with the run manifest that proves the item.",
  "",
  "## Checklist",
  "- [ ] Describe the goal in docs/PRD.md and the design in docs/TECH_SPEC.md",
  "- [ ] Plan the steps in docs/ACTION_PLAN.md",
  `- [ ] Diagnostics pass: \`codex-orchestrator start --task ${task.id}\` (attach the manifest path)`,
  `- [ ] Review gate passes: \`codex-orchestrator start implementation-gate --task ${task.id}\``,
  ""
].join("\n")

const spec = (task: ScaffoldTask, today: string) => [
  `# Spec ${task.id} — ${task.title}`,
  "",
  `last_review: ${today}`,
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
].join("\n")

const doc = (title: string, lines: ReadonlyArray<string>) => [`# ${title}`, "", ...lines, ""].join("\n")

const agents = (task: ScaffoldTask) => [
  "# Agent instructions",
  "",
  "Read before working in this repository. The orchestrator hashes this file into every run's manifest.",
  "",
  `- Work on a task from tasks/index.json; set \`MCP_RUNNER_TASK_ID\` (or pass \`--task\`, e.g. \`--task ${task.id}\`).`,
  "- Run the checks with `codex-orchestrator start` before asking for review; attach the manifest path it prints.",
  "- Keep the spec under tasks/specs/ current: `codex-orchestrator guard spec` fails when code changes without it.",
  "- Hand the change to review with `codex-orchestrator start implementation-gate` (set `NOTES` first:",
  "  `Goal: ... | Summary: ... | Risks: ...`).",
  "- Mirror checklist status into .agent/task/ and docs/TASKS.md with `codex-orchestrator guard docs --sync --task <id>`.",
  ""
].join("\n")

const sop = doc("SOP: review gate", [
  "1. `codex-orchestrator guard spec` and `codex-orchestrator guard docs`: fix what they report.",
  "2. `codex-orchestrator guard diff-budget`: keep changes reviewable (25 files / 800 lines by default); when a",
  "   change must be larger, say why in `DIFF_BUDGET_OVERRIDE_REASON`.",
  "3. `codex-orchestrator start implementation-gate --task <id>` with `NOTES` set; it ends with `codex review`.",
  "4. Record escalation contacts and where artifacts live for this project below.",
  "",
  "## Contacts and artifacts",
  "- Runs: .runs/ (manifests, logs); summaries: out/."
])

/** Every file `init` writes for `task`, with `today` (YYYY-MM-DD, UTC) as the spec's review date. */
export const projectFiles = (task: ScaffoldTask, today: string): ReadonlyArray<ScaffoldFile> => {
  const key = `${task.id}-${task.slug}`
  const source = checklist(task)
  const items = checklistOf(source) ?? ""
  return [
    { path: "codex.orchestrator.json", text: config },
    { path: "tasks/index.json", text: json({ items: [{ id: task.id, slug: task.slug, title: task.title }] }) },
    { path: `tasks/specs/${key}.md`, text: spec(task, today) },
    { path: `tasks/tasks-${key}.md`, text: source },
    { path: `.agent/task/${key}.md`, text: renderAgentMirror(task.id, key, source, items) },
    { path: ".agent/SOPs/review-gate.md", text: sop },
    { path: "docs/PRD.md", text: doc("Product requirements", ["- Who it is for:", "- The problem:", "- What success looks like:"]) },
    { path: "docs/TECH_SPEC.md", text: doc("Technical spec", ["Architecture, data, interfaces, risks. Link the evidence (run manifests under .runs/)."]) },
    { path: "docs/ACTION_PLAN.md", text: doc("Action plan", ["1. First step (task " + task.id + ")"]) },
    { path: "docs/TASKS.md", text: withManagedBlock("", key, items) ?? "" },
    { path: "AGENTS.md", text: agents(task) }
  ]
}
