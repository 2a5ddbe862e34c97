/**
 * The learning scenario's command (SPEC LRN-5, LRN-6): picked from the run's succeeded commands, else
 * from the task prompt, else from the changed files; and the words for a command that failed replay.
 */
import type { HistoryEntry, ScenarioSource } from "./LearningRecords.js"
import type { CommandEntry } from "./ManifestStatus.js"

/**
 * The entry point: the most recent command stage that succeeded with exit 0 (latest `completed_at`,
 * then highest index). Nested pipelines have no command of their own and never count.
 */
export const pickEntrypoint = (commands: ReadonlyArray<CommandEntry>): string | undefined => {
  let best: CommandEntry | undefined
  for (const entry of commands) {
    if (entry.kind !== "command" || entry.status !== "succeeded" || entry.exit_code !== 0) continue
    if (entry.command === null || entry.command.trim().length === 0) continue
    if (
      best === undefined ||
      (entry.completed_at ?? "") > (best.completed_at ?? "") ||
      ((entry.completed_at ?? "") === (best.completed_at ?? "") && entry.index > best.index)
    ) best = entry
  }
  return best?.command ?? undefined
}

const testFilePattern = /(^|\/)(test|tests|__tests__)\/|\.(test|spec)\.[cm]?[jt]sx?$/
const sourceFilePattern = /\.[cm]?[jt]sx?$/

/**
 * LRN-5 fallback over the changed files (repo-relative, in git's order): the first test file gives
 * `npm test <path>`, else the first TypeScript/JavaScript file gives `npm test -- <path>`.
 */
export const diffScenarioCommand = (changedFiles: ReadonlyArray<string>): string | undefined => {
  const test = changedFiles.find((file) => testFilePattern.test(file) && sourceFilePattern.test(file))
  if (test !== undefined) return `npm test ${test}`
  const source = changedFiles.find((file) => sourceFilePattern.test(file))
  return source === undefined ? undefined : `npm test -- ${source}`
}

/** Fence info strings that mark a block of shell commands (an untagged fence counts too). */
const shellFence = /^(|sh|bash|zsh|shell|console|shell-session)$/i

const commandLine = (line: string) => line.trim().replace(/^\$\s+/, "")

/**
 * LRN-5 prompt fallback: the first command the prompt shows, looked for in this order: the first
 * non-empty line of the first shell code fence (untagged, sh, bash, zsh, shell, console), the first
 * inline code span with a space in it (`npm test -- a.ts`, not a bare file name), the first line
 * starting with `$ `. A leading `$ ` is dropped.
 */
export const promptScenarioCommand = (prompt: string): string | undefined => {
  for (const fence of prompt.matchAll(/^[ \t]*```([^\n`]*)\n([\s\S]*?)^[ \t]*```/gm)) {
    if (!shellFence.test((fence[1] ?? "").trim())) continue
    const line = (fence[2] ?? "").split("\n").map(commandLine).find((candidate) => candidate.length > 0)
    if (line !== undefined) return line
  }
  const withoutFences = prompt.replace(/^[ \t]*```[\s\S]*?^[ \t]*```/gm, "")
  for (const span of withoutFences.matchAll(/(?<!`)`([^`\n]+)`(?!`)/g)) {
    const text = commandLine(span[1] ?? "")
    if (/\s/.test(text)) return text
  }
  const dollar = withoutFences.match(/^[ \t]*\$ +(\S.*)$/m)
  return dollar?.[1]?.trim()
}

/** The scenario's single command and where it came from, or undefined: a manual scenario is needed. */
export const synthesizeScenario = (
  commands: ReadonlyArray<CommandEntry>,
  prompt: string | undefined,
  changedFiles: ReadonlyArray<string>
): { readonly source: ScenarioSource; readonly command: string } | undefined => {
  const entrypoint = pickEntrypoint(commands)
  if (entrypoint !== undefined) return { source: "execution_history", command: entrypoint }
  const fromPrompt = prompt === undefined ? undefined : promptScenarioCommand(prompt)
  if (fromPrompt !== undefined) return { source: "prompt", command: fromPrompt }
  const fromDiff = diffScenarioCommand(changedFiles)
  return fromDiff === undefined ? undefined : { source: "diff", command: fromDiff }
}

/** The commands the run executed, for the scenario's context. */
export const executionHistory = (commands: ReadonlyArray<CommandEntry>): ReadonlyArray<HistoryEntry> =>
  commands.flatMap((entry) =>
    entry.kind === "command" && entry.command !== null && entry.started_at !== null
      ? [{
        index: entry.index,
        id: entry.id,
        command: entry.command,
        status: entry.status,
        exit_code: entry.exit_code,
        completed_at: entry.completed_at
      }]
      : []
  )

export const manualScenarioReason = "No successful command in the run and no test or source file among the changed files"

/** LRN-6: why a scenario command failed validation. */
export const commandFailureReason = (command: string, exit: { readonly exitCode: number | null; readonly signal: string | null }) =>
  exit.exitCode === null
    ? `Command "${command}" was killed by ${exit.signal ?? "a signal"}`
    : `Command "${command}" exited with code ${exit.exitCode}`
