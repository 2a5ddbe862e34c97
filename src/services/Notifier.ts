import { Context, type Effect } from "effect"
import type { NotificationsReport, RunSummaryEvent } from "../domain/RunSummaryEvent.js"

/**
 * Tells other systems that a run finished (SPEC EXEC-4, DECISIONS B-6): the `run:summary` event is
 * POSTed as JSON to each target. Delivery never fails: what could not be delivered after its
 * retries is reported (and logged as a warning), and the run's outcome stays what it was.
 */
export class Notifier extends Context.Tag("orchestrator/Notifier")<
  Notifier,
  {
    /** Posts `event` to every target at once; the report lists them, where it arrived and what failed. */
    readonly deliver: (targets: ReadonlyArray<string>, event: RunSummaryEvent) => Effect.Effect<NotificationsReport>
  }
>() {}
