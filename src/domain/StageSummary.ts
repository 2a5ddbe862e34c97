/**
 * The one-line summary of a finished command stage (SPEC RUN-6), built from bounded output tails
 * (EXE-4), never from the whole output.
 */

import { cutOutside } from "./Privacy.js"

const maxEmbedded = 240

/** The head of `text`, cut before any secret the cut would split (it is redacted whole, or not shown). */
const clip = (text: string) => (text.length > maxEmbedded ? `${text.slice(0, cutOutside(text, maxEmbedded))}…` : text)

export interface StageOutcome {
  readonly exitCode: number
  readonly signal: string | null
  readonly stdoutTail: string
  readonly stderrTail: string
}

export const commandSummary = (outcome: StageOutcome, summaryHint: string | undefined): string => {
  if (summaryHint !== undefined) return summaryHint
  const stdout = outcome.stdoutTail.trim()
  const stderr = outcome.stderrTail.trim()
  const withStderr = (head: string) => (stderr.length > 0 ? `${head} — ${clip(stderr)}` : head)
  if (outcome.signal !== null) return withStderr(`Terminated with signal ${outcome.signal}`)
  if (outcome.exitCode !== 0) return withStderr(`Exited with code ${outcome.exitCode}`)
  if (stdout.length > 0) return clip(stdout)
  if (stderr.length > 0) return clip(stderr)
  return `Command completed with code ${outcome.exitCode}`
}

/** RUN-4: the exit code recorded for a process: its code, else 128 when a signal ended it. */
export const recordedExitCode = (exitCode: number | null, signal: string | null): number =>
  exitCode ?? (signal !== null ? 128 : 0)

/**
 * How one attempt of a command stage ended, as `exec:end` and the stage's tool run record it: an exit
 * with the stage's `skipExitCode` is the command saying it had nothing to do (`skipped`, as its entry
 * records it), not a failure.
 */
export const attemptStatus = (exitCode: number | null, skipExitCode: number | undefined): "succeeded" | "skipped" | "failed" =>
  exitCode === 0 ? "succeeded" : exitCode !== null && exitCode === skipExitCode ? "skipped" : "failed"

/**
 * RUN-4: the status a command stage's entry records for how its last attempt ended: the attempt's,
 * with a failure of an `allowFailure` stage recorded `skipped` (the run goes on).
 */
export const commandEntryStatus = (
  exitCode: number | null,
  stage: { readonly skipExitCode?: number | undefined; readonly allowFailure?: boolean | undefined }
): "succeeded" | "skipped" | "failed" => {
  const status = attemptStatus(exitCode, stage.skipExitCode)
  return status === "failed" && stage.allowFailure === true ? "skipped" : status
}
