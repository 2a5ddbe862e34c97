/**
 * The spec guard's rules (SPEC GRD-1), pure: which changed paths need a spec, which count as one, and
 * how fresh every spec file's `last_review` must be. The git and file access live in the Guards layer.
 */

/** Paths whose change needs a spec update in the same diff. */
const codePrefixes = ["src/", "app/", "server/", "migrations/", "db/migrations/", "prisma/migrations/"]
const specPrefixes = ["tasks/specs/", "docs/design/specs/"]

/** The folders whose `*.md` files (directly inside, README.md aside) must carry a fresh `last_review`. */
export const specDirectories: ReadonlyArray<string> = ["tasks/specs", "docs/design/specs"]

/** How old a spec's review may be, in whole UTC days. */
export const maxReviewAgeDays = 30

export const isCodePath = (file: string): boolean => codePrefixes.some((prefix) => file.startsWith(prefix))

export const isSpecPath = (file: string): boolean =>
  file === "tasks/index.json" || specPrefixes.some((prefix) => file.startsWith(prefix))

/** Whether a folder entry is a spec file the freshness rule reads. */
export const isSpecFileName = (name: string): boolean => name.endsWith(".md") && name !== "README.md"

export const missingSpecMessage = "code/migrations changed but no spec updated under tasks/specs or tasks/index.json"

/** The rule on the changed paths: code changed, and no spec did. */
export const changeIssues = (changed: ReadonlyArray<string>): ReadonlyArray<string> =>
  changed.some(isCodePath) && !changed.some(isSpecPath) ? [missingSpecMessage] : []

const isoDate = /^(\d{4})-(\d{2})-(\d{2})$/

/** Days since 1970-01-01 of a `YYYY-MM-DD` that names a real calendar day, else undefined. */
export const epochDayOf = (value: string): number | undefined => {
  const match = isoDate.exec(value)
  if (match === null) return undefined
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])]
  const ms = Date.UTC(year, month - 1, day)
  const back = new Date(ms)
  // Date.UTC rolls 2026-02-31 over into March; a real date reads back the same.
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day) return undefined
  return Math.floor(ms / 86_400_000)
}

/** The UTC day (days since 1970-01-01) of an epoch-millisecond instant. */
export const utcDayOf = (epochMs: number): number => Math.floor(epochMs / 86_400_000)

/**
 * The freshness rule on one spec file: the first line that starts (after spaces) with `last_review:`
 * must hold a real `YYYY-MM-DD` at most 30 UTC days before `today` (a UTC day number).
 */
export const freshnessIssue = (file: string, text: string, today: number): string | undefined => {
  const line = text.split(/\r?\n/).find((l) => l.trim().startsWith("last_review:"))
  if (line === undefined) return `${file}: missing last_review field`
  const value = line.slice(line.indexOf(":") + 1).trim()
  const day = epochDayOf(value)
  if (day === undefined) return `${file}: invalid last_review date '${value}'`
  const age = today - day
  return age > maxReviewAgeDays ? `${file}: last_review ${value} is ${age} days old (must be ≤30 days)` : undefined
}

/** What `guard spec` found. */
export interface SpecGuardReport {
  readonly base: string
  readonly changed: ReadonlyArray<string>
  readonly specFiles: ReadonlyArray<string>
  readonly issues: ReadonlyArray<string>
}

/** GRD-1's output lines, and whether the command fails (issues and no `--dry-run`). */
export const renderSpecGuard = (report: SpecGuardReport, dryRun: boolean) => {
  if (report.issues.length === 0) return { lines: ["✅ Spec guard: OK"], failed: false }
  return {
    lines: [
      "❌ Spec guard: issues detected",
      ...report.issues.map((issue) => ` - ${issue}`),
      ...(dryRun ? ["Dry run: exiting successfully despite failures."] : [])
    ],
    failed: !dryRun
  }
}
