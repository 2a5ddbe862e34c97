/**
 * Which earlier design runs retention removes (SPEC DES-1 `retention`): a run older than
 * `retention.days`, or beyond the newest `retention.maxRuns` runs of its task (the run being written
 * counts as the newest and is always kept). Pure: the caller lists the runs and deletes.
 */
import { DateTime, Option } from "effect"

const runIdShape = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z-[0-9a-f]{8}$/

/** When a run started, read from its id (ID-2); undefined for an id of another shape. */
export const runStartedMs = (runId: string): number | undefined => {
  const match = runIdShape.exec(runId)
  if (match === null) return undefined
  const [, day, hours, minutes, seconds, millis] = match
  return Option.getOrUndefined(
    Option.map(DateTime.make(`${day}T${hours}:${minutes}:${seconds}.${millis}Z`), DateTime.toEpochMillis)
  )
}

export interface RetentionCandidate {
  readonly runId: string
  readonly startedMs: number
}

export interface RetentionVerdict extends RetentionCandidate {
  readonly reason: "expired" | "over-max-runs"
  readonly ageDays: number
}

const dayMs = 24 * 60 * 60 * 1000

/** The earlier runs (never `currentRunId`) to remove, oldest last; ties broken by run id. */
export const runsToPurge = (
  candidates: ReadonlyArray<RetentionCandidate>,
  bounds: { readonly nowMs: number; readonly days: number; readonly maxRuns: number | undefined; readonly currentRunId: string }
): ReadonlyArray<RetentionVerdict> => {
  const earlier = candidates
    .filter((candidate) => candidate.runId !== bounds.currentRunId)
    .sort((a, b) => b.startedMs - a.startedMs || b.runId.localeCompare(a.runId))
  // The run being written is one of the kept runs.
  let keptSlots = bounds.maxRuns === undefined ? Number.POSITIVE_INFINITY : bounds.maxRuns - 1
  return earlier.flatMap((candidate): ReadonlyArray<RetentionVerdict> => {
    const ageDays = Math.max(0, bounds.nowMs - candidate.startedMs) / dayMs
    if (ageDays >= bounds.days) return [{ ...candidate, reason: "expired", ageDays }]
    if (keptSlots > 0) {
      keptSlots -= 1
      return []
    }
    return [{ ...candidate, reason: "over-max-runs", ageDays }]
  })
}
