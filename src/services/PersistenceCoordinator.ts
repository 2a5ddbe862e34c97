import { Context, type Effect } from "effect"
import type { RunSummary } from "../domain/RunSummary.js"

/** What persisting one run summary did. */
export interface PersistenceOutcome {
  /** `out/<task>/runs.json` was updated. */
  readonly snapshotRecorded: boolean
  /** The task's lock stayed busy: the run's record waits in `runs.pending/` for the next holder. */
  readonly snapshotQueued: boolean
  /** `.runs/<task>/<run>/manifest.json` was written. */
  readonly manifestWritten: boolean
}

/**
 * Turns `run:completed` into the task-level records (SPEC PER-1): the task-state snapshot, then the
 * run summary manifest, which is written even when the snapshot could not be (a record queued
 * behind a busy lock is a warning). Never fails. Its Live layer subscribes to the EventBus for as long as it is alive.
 */
export class PersistenceCoordinator extends Context.Tag("orchestrator/PersistenceCoordinator")<
  PersistenceCoordinator,
  { readonly persist: (summary: RunSummary) => Effect.Effect<PersistenceOutcome> }
>() {}
