/**
 * Which earlier design runs retention removes (SPEC DES-1 `retention`): a run older than
 * `retention.days`, or beyond the newest `retention.maxRuns` runs of its task (the run being written
 * counts as the newest and is always kept). Pure: the caller lists the runs and deletes.
 */
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
