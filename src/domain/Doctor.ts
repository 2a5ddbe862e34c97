/**
 * `doctor`'s checks, pure: what one check found, how the report reads, and the rules that need no
 * I/O (the Node version). A failed required check fails the command (exit 1); a warning (something
 * only some commands need) and a skipped check do not.
 */
import { oneLine } from "./OneLine.js"

/** ok: fine; warn: missing but optional; fail: a run will not work; skip: not configured, not checked. */
export type CheckStatus = "ok" | "warn" | "fail" | "skip"

export interface DoctorCheck {
  readonly id: "git" | "node" | "settings" | "config" | "runs" | "codex" | "cluster"
  readonly status: CheckStatus
  /** Whether a failure here fails the doctor (the others warn). */
  readonly required: boolean
  /** What was found, in one line. */
  readonly detail: string
  /** What to do about it, when it is not ok. */
  readonly fix?: string | undefined
}

/** The oldest Node the package supports (package.json `engines`, DECISIONS S-3). */
export const minimumNodeMajor = 20

/** `node --version` output (`v20.19.0`) judged against the minimum; undefined when it is not a version. */
export const nodeVersionOk = (output: string): boolean | undefined => {
  const match = /^v?(\d+)\.\d+\.\d+/.exec(output.trim())
  return match?.[1] === undefined ? undefined : Number(match[1]) >= minimumNodeMajor
}

/** Whether the checks pass: no required check failed. */
export const doctorPassed = (checks: ReadonlyArray<DoctorCheck>): boolean =>
  !checks.some((check) => check.required && check.status === "fail")

const marks: Readonly<Record<CheckStatus, string>> = { ok: "ok  ", warn: "warn", fail: "FAIL", skip: "skip" }

/** One line a check (`ok   git: ...`, with `fix: ...` when not ok), then a totals line. */
export const renderDoctor = (checks: ReadonlyArray<DoctorCheck>): ReadonlyArray<string> => {
  const count = (status: CheckStatus) => checks.filter((check) => check.status === status).length
  return [
    ...checks.map((check) =>
      `${marks[check.status]} ${check.id}: ${oneLine(check.detail)}${
        check.fix === undefined || check.status === "ok" ? "" : ` (fix: ${oneLine(check.fix)})`
      }`
    ),
    `${doctorPassed(checks) ? "doctor: OK" : "doctor: a required check failed"} (${count("ok")} ok, ${count("warn")} warning(s), ` +
    `${count("fail")} failed, ${count("skip")} skipped)`
  ]
}
