/**
 * The Codex CLI prompt files `prompts install` writes (seed README, "Codex CLI prompts"):
 * `/prompts:diagnostics TASK=<task-id> MANIFEST=<path> [NOTES=<free text>]` and
 * `/prompts:review-handoff TASK=<task-id> MANIFEST=<path> NOTES=<goal + summary + risks>`. Codex
 * fills `$TASK`, `$MANIFEST` and `$NOTES` from the `KEY=value` arguments and shows the front
 * matter's `description` and `argument-hint` in its palette. Pure: the layer reads and writes.
 */

/** One prompt file: its name in the prompts folder and what we write. */
export interface CodexPrompt {
  readonly name: string
  readonly text: string
}

const evidenceTargets =
  "`tasks/` (the task's checklist), `docs/TASKS.md`, `.agent/task/`, `.runs/$TASK/metrics.json` and `out/$TASK/state.json`"

const diagnostics: CodexPrompt = {
  name: "diagnostics.md",
  text: [
    "---",
    "description: Run the orchestrator's diagnostics pipeline for a task and record its evidence",
    "argument-hint: TASK=<task-id> MANIFEST=<path> [NOTES=<free text>]",
    "---",
    "Run the diagnostics pipeline for task $TASK with codex-orchestrator and record the evidence.",
    "",
    "1. `export MCP_RUNNER_TASK_ID=$TASK` so every orchestrator command lands in this task.",
    "2. `npx codex-orchestrator start diagnostics --format json`; note the `run_id` and `manifest` it prints.",
    "3. Follow the run until it ends: `npx codex-orchestrator status --run <run-id> --watch`, or read",
    "   `.runs/$TASK/cli/<run-id>/manifest.json`.",
    "4. If a stage failed, read its log (`commands/` in the run folder) and its error file, and say what failed and why.",
    `5. Record the evidence in ${evidenceTargets}, linking each checked item to $MANIFEST (the manifest that proves it).`,
    "",
    "Any NOTES given with the command are context for this run: keep them with the evidence.",
    ""
  ].join("\n")
}

const reviewHandoff: CodexPrompt = {
  name: "review-handoff.md",
  text: [
    "---",
    "description: Run the review gate's checks for a task and hand the change to codex review",
    "argument-hint: TASK=<task-id> MANIFEST=<path> NOTES=<goal + summary + risks + optional questions>",
    "---",
    "Hand the change for task $TASK to review, with $MANIFEST as evidence.",
    "",
    "1. `export MCP_RUNNER_TASK_ID=$TASK`",
    "2. `npx codex-orchestrator guard spec --dry-run` and fix what it reports about specs.",
    "3. `npm run lint` and `npm run test` (and `npm run eval:test` when the repository has evaluation fixtures).",
    "4. `NOTES=\"$NOTES\" npx codex-orchestrator review --manifest $MANIFEST`: it checks the diff budget, then runs",
    "   `codex review` with the manifest as evidence and saves the prompt next to it.",
    "5. Log every approval you gave or received in $MANIFEST, and mirror the evidence to",
    `   ${evidenceTargets}.`,
    "",
    "Notes for the reviewer (Goal | Summary | Risks | Questions): $NOTES",
    ""
  ].join("\n")
}

/** Every prompt `prompts install` writes, in the order it reports them. */
export const codexPrompts: ReadonlyArray<CodexPrompt> = [diagnostics, reviewHandoff]

/**
 * SHA-256 (hex) of every earlier text of each prompt this package shipped: a file still equal to one
 * of them was not changed by its user, so installing replaces it. When a prompt's text changes, add
 * the old text's hash here; a file nobody listed is treated as the user's (kept), which is the safe side.
 */
export const shippedEarlier: Readonly<Record<string, ReadonlyArray<string>>> = {
  "diagnostics.md": [],
  "review-handoff.md": []
}

/** What installing did with one file. */
export type PromptOutcome = "written" | "unchanged" | "updated" | "kept" | "overwritten"

/**
 * The outcome for a file that holds `existing` (undefined: no file). `shipped`: `existing` is a text
 * this package wrote earlier. A file the user changed is kept unless `force`.
 */
export const promptOutcome = (existing: string | undefined, template: string, shipped: boolean, force: boolean): PromptOutcome =>
  existing === undefined
    ? "written"
    : existing === template
    ? "unchanged"
    : shipped
    ? "updated"
    : force
    ? "overwritten"
    : "kept"

/** Whether the outcome writes the file. */
export const writesFile = (outcome: PromptOutcome): boolean => outcome === "written" || outcome === "updated" || outcome === "overwritten"

/** One report line: the outcome, padded, then the path (and why a kept file was kept). */
export const renderPromptOutcome = (outcome: PromptOutcome, path: string): string =>
  `${outcome.padEnd(11)} ${path}${outcome === "kept" ? " (changed since it was installed; --force replaces it)" : ""}`
