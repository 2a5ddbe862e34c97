/**
 * The diff budget's arithmetic (SPEC GRD-2), pure: what counts, how much, against which limits, and
 * the report a reviewer reads. The git and file access live in the Guards layer.
 */
import { hasControlCharacter, oneLine } from "./OneLine.js"

export const defaultMaxFiles = 25
export const defaultMaxLines = 800
/** An untracked file larger than this is not read to count its lines; it fails the budget instead. */
export const maxUntrackedBytes = 1024 * 1024

const ignoredExact = new Set(["package-lock.json"])
const ignoredPrefixes = [".runs/", "archives/", "dist/", "node_modules/", "out/"]

/** Generated or recorded paths that never count against the budget. */
export const isIgnoredPath = (file: string): boolean =>
  file.length === 0 || ignoredExact.has(file) || ignoredPrefixes.some((prefix) => file.startsWith(prefix))

/** One file of `git diff --numstat`: a binary file has no line counts (git prints `-`). */
export interface NumstatEntry {
  readonly path: string
  readonly added: number
  readonly deleted: number
  readonly binary: boolean
}

/** The entries of a NUL-separated list (`git ... -z`). */
export const parseNulList = (text: string): ReadonlyArray<string> => text.split("\0").filter((item) => item.length > 0)

/** `git diff --numstat --no-renames -z`: each record is `added<TAB>deleted<TAB>path` ended by NUL. */
export const parseNumstat = (text: string): ReadonlyArray<NumstatEntry> =>
  parseNulList(text).flatMap((record) => {
    const [added, deleted, ...rest] = record.split("\t")
    const path = rest.join("\t").replace(/^\n+/, "")
    if (path.length === 0 || added === undefined || deleted === undefined) return []
    const binary = added === "-" || deleted === "-"
    const count = (raw: string) => (binary || !/^\d+$/.test(raw) ? 0 : Number(raw))
    return [{ path, added: count(added), deleted: count(deleted), binary }]
  })

/**
 * A limit from the environment: a non-negative number (floored); anything else falls back to the
 * default with a warning naming the variable, so a typo does not silently change the gate.
 */
export const limitFromEnv = (name: string, raw: string | undefined, fallback: number) => {
  if (raw === undefined || raw.trim().length === 0) return { value: fallback, warning: undefined }
  const parsed = Number(raw)
  return Number.isFinite(parsed) && parsed >= 0
    ? { value: Math.floor(parsed), warning: undefined }
    : { value: fallback, warning: `${name}=${raw} is not a non-negative number; using ${fallback}.` }
}

/** How an untracked file was measured. */
export type UntrackedMeasure =
  | { readonly _tag: "Lines"; readonly lines: number; readonly binary: boolean }
  | { readonly _tag: "TooLarge"; readonly bytes: number }
  | { readonly _tag: "Unreadable"; readonly reason: string }

/** Lines as git counts them: one per newline, plus an unterminated last line; a file with NUL bytes is binary. */
export const measureText = (text: string): UntrackedMeasure => {
  if (text.includes("\0")) return { _tag: "Lines", lines: 0, binary: true }
  if (text.length === 0) return { _tag: "Lines", lines: 0, binary: false }
  const newlines = text.split("\n").length - 1
  return { _tag: "Lines", lines: newlines + (text.endsWith("\n") ? 0 : 1), binary: false }
}

/** What the budget is measured on: the working tree against a base, or one commit. */
export type DiffScope =
  | { readonly _tag: "WorkingTree"; readonly base: string }
  | { readonly _tag: "Commit"; readonly commit: string }

export interface DiffMeasurements {
  readonly scope: DiffScope
  readonly changed: ReadonlyArray<string>
  readonly numstat: ReadonlyArray<NumstatEntry>
  readonly untracked: ReadonlyArray<{ readonly path: string; readonly measure: UntrackedMeasure }>
}

export interface DiffBudgetLimits {
  readonly maxFiles: number
  readonly maxLines: number
  /** `DIFF_BUDGET_OVERRIDE_REASON`, trimmed; empty counts as none. */
  readonly overrideReason: string | undefined
}

export interface FileLines {
  readonly path: string
  readonly lines: number
  readonly binary: boolean
}

/** The budget's verdict, in the shape `--format json` prints. */
export interface DiffBudgetReport {
  readonly ok: boolean
  readonly scope: string
  readonly files: { readonly count: number; readonly max: number }
  readonly lines: { readonly total: number; readonly max: number; readonly added: number; readonly deleted: number }
  readonly failures: ReadonlyArray<string>
  readonly top_files: ReadonlyArray<FileLines>
  readonly untracked_issues: ReadonlyArray<{ readonly path: string; readonly issue: string }>
  readonly override_reason: string | null
}

export const scopeLabel = (scope: DiffScope): string =>
  scope._tag === "WorkingTree" ? `base=${scope.base}` : `commit=${scope.commit}`

const issueText = (measure: Exclude<UntrackedMeasure, { readonly _tag: "Lines" }>): string =>
  measure._tag === "TooLarge" ? `too large to measure (${measure.bytes} bytes)` : `unreadable (${measure.reason})`

/** Counts every changed path that is not ignored, once, and checks the totals against the limits. */
export const evaluateBudget = (m: DiffMeasurements, limits: DiffBudgetLimits): DiffBudgetReport => {
  const numstat = new Map(m.numstat.map((entry) => [entry.path, entry]))
  const untracked = new Map(m.untracked.map((entry) => [entry.path, entry.measure]))
  const paths = [...new Set([...m.changed, ...m.untracked.map((u) => u.path)])].filter((p) => !isIgnoredPath(p)).sort()
  let added = 0
  let deleted = 0
  const perFile: Array<FileLines> = []
  const issues: Array<{ path: string; issue: string }> = []
  for (const path of paths) {
    const stat = numstat.get(path)
    const measure = untracked.get(path)
    if (stat !== undefined) {
      added += stat.added
      deleted += stat.deleted
      perFile.push({ path, lines: stat.added + stat.deleted, binary: stat.binary })
    } else if (measure !== undefined && measure._tag === "Lines") {
      added += measure.lines
      perFile.push({ path, lines: measure.lines, binary: measure.binary })
    } else if (measure !== undefined) {
      perFile.push({ path, lines: 0, binary: true })
      issues.push({ path, issue: issueText(measure) })
    } else {
      perFile.push({ path, lines: 0, binary: false })
    }
  }
  const total = added + deleted
  const failures = [
    ...(paths.length > limits.maxFiles ? [`changed files ${paths.length} > ${limits.maxFiles}`] : []),
    ...(total > limits.maxLines ? [`total lines changed ${total} > ${limits.maxLines}`] : []),
    ...(issues.length > 0 ? [`untracked files could not be measured: ${issues.length}`] : [])
  ]
  return {
    ok: failures.length === 0,
    scope: scopeLabel(m.scope),
    files: { count: paths.length, max: limits.maxFiles },
    lines: { total, max: limits.maxLines, added, deleted },
    failures,
    top_files: [...perFile].sort((a, b) => b.lines - a.lines).slice(0, 10),
    untracked_issues: issues,
    override_reason: limits.overrideReason ?? null
  }
}

/** Whether the command fails: over budget, with no override and no `--dry-run`. */
export const budgetFails = (report: DiffBudgetReport, dryRun: boolean): boolean =>
  !report.ok && report.override_reason === null && !dryRun

/** A path as a report line shows it: quoted with its control characters escaped (a newline in a name would split the line). */
const shownPath = (path: string): string => (hasControlCharacter(path) ? oneLine(JSON.stringify(path)) : path)

/** GRD-2's text report. */
export const renderBudget = (report: DiffBudgetReport, dryRun: boolean): ReadonlyArray<string> => {
  const { files, lines } = report
  if (report.ok) {
    return [
      `✅ Diff budget: OK (${report.scope}, files=${files.count}/${files.max}, lines=${lines.total}/${lines.max}, +${lines.added}/-${lines.deleted})`
    ]
  }
  const override = report.override_reason
  return [
    `${override === null ? "❌ Diff budget exceeded" : "⚠️ Diff budget exceeded (override applied)"} (${report.scope})`,
    ...report.failures.map((failure) => ` - ${failure}`),
    ...(report.top_files.length > 0 ? ["Top changed files:"] : []),
    ...report.top_files.map((f) => `  - ${shownPath(f.path)}: ${f.lines}${f.binary ? " (binary/unknown)" : ""}`),
    ...(report.untracked_issues.length > 0 ? ["Untracked measurement issues:"] : []),
    ...report.untracked_issues.map((u) => `  - ${shownPath(u.path)}: ${u.issue}`),
    "",
    ...(override !== null
      ? [`Override accepted via DIFF_BUDGET_OVERRIDE_REASON: ${override}`]
      : [
        "To proceed, either split the change into smaller diffs or set an explicit justification:",
        "  DIFF_BUDGET_OVERRIDE_REASON=\"why this diff must be large\" codex-orchestrator guard diff-budget",
        ...(dryRun ? ["Dry run: exiting successfully despite failures."] : [])
      ])
  ]
}
