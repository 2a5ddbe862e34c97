/**
 * The review hand-off (SPEC GRD-5), pure: the prompt `codex review` gets (task, evidence manifest,
 * task context, the agent's notes, a fixed checklist, the scope) and the command line that runs it.
 */
import { Duration } from "effect"
import { isTruthy } from "./Env.js"

/** What a reviewer checks on every hand-off, whatever the task. */
export const reviewChecklist: ReadonlyArray<string> = [
  "Does the change do what the task and the notes say, and nothing more?",
  "Do the tests exercise the change (would they fail without it), and does the evidence manifest show them passing?",
  "Are failures handled: errors carry their cause, nothing is swallowed, bad input gets a clear message?",
  "Are the docs, the spec and the task checklist updated with the change?",
  "Is anything risky (security, data loss, performance, compatibility) left unmentioned in the notes?"
]

/** The template `NOTES` should follow (Review Handoff in the README). */
export const notesTemplate = "Goal: ... | Summary: ... | Risks: ... | Questions (optional): ..."

/** What the review covers, as the diff budget measured it. */
export type ReviewScope =
  | { readonly _tag: "Commit"; readonly commit: string }
  | { readonly _tag: "Base"; readonly base: string }
  | { readonly _tag: "Uncommitted" }

export interface ReviewPromptInput {
  readonly task: string
  readonly manifestPath: string
  /** `tasks/tasks-<key>.md` and its checklist lines, when the file exists. */
  readonly taskFile?: { readonly path: string; readonly checklist: ReadonlyArray<string> } | undefined
  /** Up to six bullet lines of docs/PRD.md. */
  readonly prdBullets: ReadonlyArray<string>
  readonly notes: string
  readonly scope: ReviewScope
  /** `git diff --stat` (or `git show --stat`) of the scope, as git printed it. */
  readonly gitSummary: string
  readonly overrideReason?: string | undefined
}

const scopeLine = (scope: ReviewScope): string =>
  scope._tag === "Commit"
    ? `Scope: commit ${scope.commit} only (git show ${scope.commit}).`
    : scope._tag === "Base"
    ? `Scope: the changes since ${scope.base} (git diff ${scope.base}), uncommitted ones included.`
    : "Scope: the uncommitted changes in the working tree (git diff HEAD, plus untracked files)."

/** The hand-off prompt, one section per paragraph. */
export const buildReviewPrompt = (input: ReviewPromptInput): string => {
  const sections: Array<ReadonlyArray<string>> = [
    [`Review task: ${input.task}`, `Evidence manifest: ${input.manifestPath}`]
  ]
  if (input.taskFile !== undefined || input.prdBullets.length > 0) {
    sections.push([
      "Task context:",
      ...(input.taskFile === undefined ? [] : [`- Task checklist: ${input.taskFile.path}`, ...input.taskFile.checklist.map((l) => `  ${l}`)]),
      ...(input.prdBullets.length === 0 ? [] : ["- PRD summary (docs/PRD.md):", ...input.prdBullets.map((b) => `  ${b}`)])
    ])
  }
  sections.push(["Agent notes:", input.notes.trim()])
  sections.push(["Review checklist:", ...reviewChecklist.map((item) => `- ${item}`)])
  // Leading spaces are part of git's short status (" M file"); only blank lines around it go.
  const summary = input.gitSummary.replace(/^\n+/, "").trimEnd()
  sections.push([scopeLine(input.scope), ...(summary.length === 0 ? [] : [summary])])
  if (input.overrideReason !== undefined) sections.push([`Diff budget override: ${input.overrideReason}`])
  return `${sections.map((lines) => lines.join("\n")).join("\n\n")}\n`
}

/** The checklist lines (`- [ ]`/`- [x]`) of a task file, at most 20. */
export const checklistLines = (text: string): ReadonlyArray<string> =>
  text.split("\n").map((l) => l.trim()).filter((l) => /^[-*] \[[ xX]\]/.test(l)).slice(0, 20)

/** The first six bullet lines of a PRD. */
export const prdBulletsOf = (text: string): ReadonlyArray<string> =>
  text.split("\n").map((l) => l.trim()).filter((l) => /^[-*] \S/.test(l) && !/^[-*] \[[ xX]\]/.test(l)).slice(0, 6)

/**
 * How long `codex --help` may take before `doctor` and `review` give up on it: a codex (CODEX_BIN)
 * that never answers must not hold them, nor the gate pipelines' review stage, for ever.
 */
export const codexHelpTimeout = Duration.seconds(10)

/** `codex --help` lists a `review` command. */
export const listsReview = (help: string): boolean => /(^|\s)review(\s|,|$)/.test(help)

/**
 * The argv that runs the review. With devtools, an executable `scripts/codex-devtools.sh` replaces
 * codex; otherwise codex gets the Chrome DevTools MCP server switched on for this call.
 */
export const reviewArgv = (options: {
  readonly codex: string
  readonly devtools: boolean
  readonly devtoolsScript: string | undefined
  readonly title: string | undefined
  readonly prompt: string
}): ReadonlyArray<string> => {
  const tail = ["review", ...(options.title === undefined ? [] : ["--title", options.title]), options.prompt]
  if (!options.devtools) return [options.codex, ...tail]
  return options.devtoolsScript === undefined
    ? [options.codex, "-c", "mcp_servers.chrome-devtools.enabled=true", ...tail]
    : [options.devtoolsScript, ...tail]
}

/** DIFF_BUDGET_STAGE (the pipeline ran the budget as its own stage) or SKIP_DIFF_BUDGET skips the budget. */
export const skipsDiffBudget = (stage: string | undefined, skip: string | undefined): boolean => isTruthy(stage) || isTruthy(skip)
