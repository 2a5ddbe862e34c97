/**
 * Stopping a stage's whole process group (DECISIONS D-8): the shell and everything it started in the
 * background, whether or not the shell itself is still alive. SIGTERM first; what is still alive
 * after the grace period (a process that ignores SIGTERM) gets SIGKILL. Shared by a stage that is
 * cancelled or times out (ProcessRunner) and by resume stopping what a crashed orchestrator left.
 */
import { Duration, Effect, Schedule } from "effect"
import type { Host } from "../../services/Host.js"

/** How long a stage's processes get to exit after SIGTERM before SIGKILL. */
export const stopGrace = Duration.seconds(5)

/** True when the group was still running and had to be stopped. */
export const stopProcessGroup = (host: Host["Type"], pgid: number, grace: Duration.DurationInput = stopGrace) =>
  Effect.gen(function*() {
    if (!(yield* host.isGroupAlive(pgid)) || !(yield* host.signalGroup(pgid, "SIGTERM"))) return false
    // The schedule ends the wait by itself: this runs in finalizers, which cannot be interrupted (so
    // a timeout around the wait would never fire).
    yield* host.isGroupAlive(pgid).pipe(
      Effect.repeat({ schedule: Schedule.spaced("50 millis").pipe(Schedule.upTo(grace)), while: (alive) => alive })
    )
    if (yield* host.isGroupAlive(pgid)) yield* host.signalGroup(pgid, "SIGKILL")
    return true
  })
