/**
 * The learning pipeline (SPEC LRN-1..7, DECISIONS D-17): after a succeeded run, the working tree is
 * captured (git tag, tarball, diff), a scenario is synthesized from the run, and the scenario is
 * replayed on the clean tree. This module holds the manifest's `learning` section (MAN-3) and the
 * pure rules: the status machine, the scenario picking and the alerts. No I/O.
 *
 * Like CliManifest, every schema here is JSON-safe: its Type is its Encoded form (no transformations).
 */
import { Schema } from "effect"
// Types only from Manifest.ts: the manifest's schema embeds LearningSection, so a value import back
// would be a module cycle.
import type { CommandEntry } from "./ManifestStatus.js"

// ---------------------------------------------------------------------------------------------
// Enums (LRN-7)

export const ValidationStatus = Schema.Literal(
  "pending",
  "validated",
  "snapshot_failed",
  "stalled_snapshot",
  "needs_manual_scenario"
)
export type ValidationStatus = typeof ValidationStatus.Type

export const SnapshotStatus = Schema.Literal("pending", "captured", "snapshot_failed", "stalled_snapshot")
export type SnapshotStatus = typeof SnapshotStatus.Type

export const AlertType = Schema.Literal("snapshot_failed", "stalled_snapshot", "needs_manual_scenario", "budget_exceeded")
export type AlertType = typeof AlertType.Type

export const AlertChannel = Schema.Literal("slack", "pagerduty")
export type AlertChannel = typeof AlertChannel.Type

export const ScenarioStatus = Schema.Literal("pending", "synthesized", "needs_manual_scenario")
export type ScenarioStatus = typeof ScenarioStatus.Type

/** Where the scenario's command came from (LRN-5), in order of preference. */
export const ScenarioSource = Schema.Literal("execution_history", "prompt", "diff")
export type ScenarioSource = typeof ScenarioSource.Type

export const ValidationMode = Schema.Literal("per-task", "grouped")

// ---------------------------------------------------------------------------------------------
// The manifest section (MAN-3, LRN-3..6)

const NullableString = Schema.NullOr(Schema.String)

/** LRN-5: a grouping sets the validation mode to `grouped`; the CLI flow has none. */
export const LearningGrouping = Schema.Struct({
  id: Schema.String,
  members: Schema.Array(Schema.String),
  window_hours: Schema.optional(Schema.Number)
})

export const LearningValidation = Schema.Struct({
  mode: ValidationMode,
  grouping: Schema.NullOr(LearningGrouping),
  status: ValidationStatus,
  reason: Schema.optional(NullableString),
  log_path: Schema.optional(NullableString),
  last_error: Schema.optional(NullableString),
  git_status_path: Schema.optional(NullableString),
  git_log_path: Schema.optional(NullableString)
})
export type LearningValidation = typeof LearningValidation.Type

export const LearningAlert = Schema.Struct({
  type: AlertType,
  channel: AlertChannel,
  target: Schema.String,
  message: Schema.String,
  created_at: Schema.String
})
export type LearningAlert = typeof LearningAlert.Type

/** A reviewer's decision on a learning candidate (MAN-4's shape); the pipeline itself adds none. */
export const LearningApproval = Schema.Struct({
  actor: Schema.String,
  timestamp: Schema.String,
  reason: Schema.optional(Schema.String)
})

/** LRN-3 on success; LRN-4 on failure, with `unknown`/`unavailable` placeholders for what is missing. */
export const LearningSnapshot = Schema.Struct({
  tag: Schema.String,
  commit_sha: Schema.String,
  tarball_path: Schema.String,
  tarball_digest: Schema.String,
  storage_path: Schema.String,
  retention_days: Schema.Int,
  status: SnapshotStatus,
  attempts: Schema.Int,
  created_at: Schema.String,
  last_error: NullableString,
  /** `learning/snapshot-files.txt` and how many files it lists (what the tarball holds). */
  file_list_path: Schema.optional(Schema.String),
  file_count: Schema.optional(Schema.Int)
})
export type LearningSnapshot = typeof LearningSnapshot.Type

export const LearningQueue = Schema.Struct({
  snapshot_id: Schema.String,
  diff_path: NullableString,
  prompt_path: NullableString,
  execution_history_path: Schema.String,
  manifest_path: Schema.String,
  enqueued_at: Schema.String,
  payload_path: Schema.String,
  status: Schema.Literal("queued")
})
export type LearningQueue = typeof LearningQueue.Type

export const LearningScenario = Schema.Struct({
  path: NullableString,
  generated_at: Schema.String,
  source: Schema.NullOr(ScenarioSource),
  status: ScenarioStatus,
  attempts: Schema.Int,
  partial_path: NullableString,
  manual_template: NullableString,
  approver: NullableString,
  reason: NullableString
})
export type LearningScenario = typeof LearningScenario.Type

/** The manifest's `learning` field (MAN-3). */
export const LearningSection = Schema.Struct({
  validation: LearningValidation,
  alerts: Schema.Array(LearningAlert),
  approvals: Schema.Array(LearningApproval),
  snapshot: Schema.optional(LearningSnapshot),
  queue: Schema.optional(LearningQueue),
  scenario: Schema.optional(LearningScenario)
})
export type LearningSection = typeof LearningSection.Type

/** MAN-3: what a new manifest holds before any capture. */
export const initialLearningSection: LearningSection = {
  validation: { mode: "per-task", grouping: null, status: "pending" },
  alerts: [],
  approvals: []
}

// ---------------------------------------------------------------------------------------------
// Files under `learning/` (LRN-2, LRN-5)

/** `learning/queue-payload.json` (LRN-2). */
export const QueuePayload = Schema.Struct({
  snapshot_id: Schema.String,
  snapshot_commit: Schema.String,
  diff_path: NullableString,
  prompt_path: NullableString,
  execution_history_path: Schema.String,
  manifest_path: Schema.String
})
export type QueuePayload = typeof QueuePayload.Type

/** A command the run executed, as the scenario's context records it. */
export const HistoryEntry = Schema.Struct({
  index: Schema.Int,
  id: Schema.String,
  command: Schema.String,
  status: Schema.String,
  exit_code: Schema.NullOr(Schema.Int),
  completed_at: NullableString
})
export type HistoryEntry = typeof HistoryEntry.Type

/** `learning/scenario.json`, or `scenario.partial.json` (no command, plus reason and template). */
export const ScenarioFile = Schema.Struct({
  id: Schema.String,
  entrypoint: NullableString,
  commands: Schema.Array(Schema.String),
  validation: Schema.Struct({ requiresCleanFixture: Schema.Boolean }),
  context: Schema.Struct({
    prompt: NullableString,
    /** The changed files the diff heuristic looked at, one a line; null when it was not needed. */
    diff: NullableString,
    execution_history: Schema.Array(HistoryEntry)
  }),
  generated_at: Schema.String,
  reason: Schema.optional(Schema.String),
  manual_template: Schema.optional(Schema.String)
})
export type ScenarioFile = typeof ScenarioFile.Type

// ---------------------------------------------------------------------------------------------
// Constants

/** LRN-1: exactly `1`, unlike the other boolean variables (ENV-6). */
export const isLearningEnabled = (value: string | undefined): boolean => value === "1"

/** LRN-2: three attempts, 500 ms then 1000 ms apart (a RetryPolicy for `retrySchedule`). */
export const snapshotRetryPolicy = { attempts: 3, initialDelayMs: 500, factor: 2 } as const

export const snapshotRetentionDays = 30
export const snapshotTagPrefix = "learning-snapshot-"
export const manualScenarioTemplate = ".agent/task/templates/manual-scenario-template.md"
export const cleanFixtureReason = "Validation requires a clean fixture"
export const slackTarget = "#learning-alerts"
export const pagerdutyTarget = "learning-pipeline"

// ---------------------------------------------------------------------------------------------
// Scenario picking (LRN-5)

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

// ---------------------------------------------------------------------------------------------
// Paths: what the snapshot leaves out

/**
 * Repo-relative folders the orchestrator writes to (runs root, out root, snapshot storage): never
 * packed and never counted as dirt. `relativeDirs` are the roots relative to the repo; those outside
 * it (`../…`, absolute) or equal to it are ignored.
 */
export const excludedFolders = (relativeDirs: ReadonlyArray<string>): ReadonlyArray<string> =>
  relativeDirs
    .map((dir) => dir.replace(/\\/g, "/").replace(/\/+$/, ""))
    .filter((dir) => dir.length > 0 && dir !== "." && dir !== ".." && !dir.startsWith("../") && !dir.startsWith("/"))

/** Whether a repo-relative path (as git prints it; a folder may end in `/`) lies in one of `folders`. */
export const isExcluded = (file: string, folders: ReadonlyArray<string>): boolean => {
  const normalized = file.replace(/\/+$/, "")
  return folders.some((folder) => normalized === folder || normalized.startsWith(`${folder}/`))
}

/** Splits `-z` output (NUL-terminated records). */
export const splitNul = (text: string): ReadonlyArray<string> => text.split("\0").filter((record) => record.length > 0)

/** The file list to pack: `git ls-files` output minus deleted files and the excluded folders, deduplicated. */
export const snapshotFileList = (
  listed: ReadonlyArray<string>,
  deleted: ReadonlyArray<string>,
  folders: ReadonlyArray<string>
): ReadonlyArray<string> => {
  const gone = new Set(deleted)
  return [...new Set(listed)].filter((file) => !gone.has(file) && !isExcluded(file, folders))
}

/** One `sh` word: left bare when it holds no character the shell reads, single-quoted otherwise. */
export const shellWord = (word: string): string =>
  /^[A-Za-z0-9_./=:@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`

/**
 * LRN-2's `diff_path` file, as the `sh -c` command that prints it: the tracked changes of the working
 * tree against the snapshot's commit, binary files included (`--binary`, so `git apply` can replay
 * it). Untracked files are not in it: the tarball holds them already, with everything else. Like
 * `git ls-files`, only the repository root's part of the work tree counts (`.`), and the excluded
 * folders are left out, their names taken literally (`*` in a folder name is no wildcard). Paths
 * stay relative to the top of the work tree, as `git apply` reads them. Color, external diff
 * drivers and textconv filters are off, and the a/ b/ prefixes and top-level paths forced, so that no
 * user setting turns the patch into a rendering.
 */
export const snapshotDiffCommand = (commit: string, folders: ReadonlyArray<string>): string =>
  [
    "git",
    "diff",
    "--binary",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    // diff.noprefix, diff.mnemonicPrefix and diff.relative would change the paths `git apply -p1` reads.
    "--src-prefix=a/",
    "--dst-prefix=b/",
    "--no-relative",
    commit,
    "--",
    ".",
    ...folders.map((folder) => `:(exclude,literal)${folder}`)
  ].map(shellWord).join(" ")

/**
 * `git status --porcelain -z` records as `XY path` lines, without those in the excluded folders. git
 * prints paths from the top of the work tree; `prefix` (`git rev-parse --show-prefix`: where the
 * repository root lies below it, `""` or `sub/dir/`) is cut so paths are relative to the repository
 * root like the folders. A rename or copy carries its source as the next record, which is dropped.
 */
export const dirtyEntries = (porcelainZ: string, folders: ReadonlyArray<string>, prefix = ""): ReadonlyArray<string> => {
  const records = splitNul(porcelainZ)
  const lines: Array<string> = []
  for (let i = 0; i < records.length; i++) {
    const record = records[i] ?? ""
    const xy = record.slice(0, 2)
    if (xy.includes("R") || xy.includes("C")) i++
    const fromTop = record.slice(3)
    const file = prefix.length > 0 && fromTop.startsWith(prefix) ? fromTop.slice(prefix.length) : fromTop
    if (!isExcluded(file, folders)) lines.push(`${xy} ${file}`)
  }
  return lines
}

/** The changed files of `git status --porcelain -z` (their paths), excluded folders left out. */
export const changedFiles = (porcelainZ: string, folders: ReadonlyArray<string>, prefix = ""): ReadonlyArray<string> =>
  dirtyEntries(porcelainZ, folders, prefix).map((line) => line.slice(3))

// ---------------------------------------------------------------------------------------------
// The status machine

export interface RunRef {
  readonly taskId: string
  readonly runId: string
}

/** LRN-4: one failed snapshot attempt raises a Slack alert and a PagerDuty page. */
export const snapshotFailureAlerts = (
  run: RunRef,
  attempt: number,
  message: string,
  at: string
): ReadonlyArray<LearningAlert> => [
  { type: "snapshot_failed", channel: "slack", target: slackTarget, message: `Snapshot attempt ${attempt} failed: ${message}`, created_at: at },
  {
    type: "snapshot_failed",
    channel: "pagerduty",
    target: pagerdutyTarget,
    message: `Snapshot attempt ${attempt} failed for ${run.taskId}/${run.runId}`,
    created_at: at
  }
]

/**
 * LRN-4: a failed attempt. The snapshot keeps what is unknown as placeholders; the validation turns
 * `snapshot_failed` only after the last attempt (`final`), with the error as its reason.
 */
export const onSnapshotAttemptFailed = (
  section: LearningSection,
  input: { readonly run: RunRef; readonly attempt: number; readonly message: string; readonly at: string; readonly final: boolean }
): LearningSection => ({
  ...section,
  snapshot: {
    tag: section.snapshot?.tag ?? "unknown",
    commit_sha: "unknown",
    tarball_path: "unavailable",
    tarball_digest: "unavailable",
    storage_path: "unavailable",
    retention_days: snapshotRetentionDays,
    status: "snapshot_failed",
    attempts: input.attempt,
    created_at: input.at,
    last_error: input.message
  },
  alerts: [...section.alerts, ...snapshotFailureAlerts(input.run, input.attempt, input.message, input.at)],
  validation: input.final
    ? { ...section.validation, status: "snapshot_failed", reason: input.message, last_error: input.message }
    : section.validation
})

/** LRN-3: captured and queued; a validation left `snapshot_failed` by an earlier attempt is `pending` again. */
export const onSnapshotCaptured = (
  section: LearningSection,
  snapshot: LearningSnapshot,
  queue: LearningQueue
): LearningSection => ({
  ...section,
  snapshot,
  queue,
  validation: section.validation.status === "snapshot_failed"
    ? { mode: section.validation.mode, grouping: section.validation.grouping, status: "pending" }
    : section.validation
})

export const onScenarioSynthesized = (section: LearningSection, scenario: LearningScenario): LearningSection => ({
  ...section,
  scenario
})

/**
 * LRN-5: no scenario could be synthesized. The seed waits for a second attempt before asking for a
 * manual scenario; the CLI captures once per run, so the first attempt is the last one.
 */
export const onManualScenarioNeeded = (
  section: LearningSection,
  input: { readonly run: RunRef; readonly partialPath: string; readonly at: string }
): LearningSection => ({
  ...section,
  scenario: {
    path: null,
    generated_at: input.at,
    source: null,
    status: "needs_manual_scenario",
    attempts: 1,
    partial_path: input.partialPath,
    manual_template: manualScenarioTemplate,
    approver: null,
    reason: manualScenarioReason
  },
  validation: { ...section.validation, status: "needs_manual_scenario", reason: manualScenarioReason },
  alerts: [...section.alerts, {
    type: "needs_manual_scenario",
    channel: "slack",
    target: slackTarget,
    message: `Manual scenario needed for ${input.run.taskId}/${input.run.runId}: ${manualScenarioReason}`,
    created_at: input.at
  }]
})

/** LRN-6: the outcome of replaying the scenario. */
export type ValidationOutcome =
  | { readonly _tag: "Validated" }
  | { readonly _tag: "Dirty"; readonly gitStatusPath: string; readonly gitLogPath: string }
  | { readonly _tag: "CommandFailed"; readonly reason: string; readonly lastError: string }
  | { readonly _tag: "Unusable"; readonly reason: string }

export const onValidated = (
  section: LearningSection,
  logPath: string,
  outcome: ValidationOutcome
): LearningSection => {
  const base = { mode: section.validation.mode, grouping: section.validation.grouping, log_path: logPath }
  switch (outcome._tag) {
    case "Validated":
      return { ...section, validation: { ...base, status: "validated", reason: null, last_error: null } }
    case "Dirty":
      return {
        ...section,
        validation: {
          ...base,
          status: "stalled_snapshot",
          reason: cleanFixtureReason,
          last_error: null,
          git_status_path: outcome.gitStatusPath,
          git_log_path: outcome.gitLogPath
        }
      }
    case "CommandFailed":
      return { ...section, validation: { ...base, status: "snapshot_failed", reason: outcome.reason, last_error: outcome.lastError } }
    case "Unusable":
      return { ...section, validation: { ...base, status: "snapshot_failed", reason: outcome.reason, last_error: outcome.reason } }
  }
}
