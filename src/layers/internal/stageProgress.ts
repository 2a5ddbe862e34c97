/**
 * A stage that runs long says so on the progress log (stderr), once a minute of its attempt:
 * `[2/5] build still running (3m)`, so a build that prints nothing for ten minutes is not ten minutes
 * of silence. Local and remote attempts alike: it follows the attempt, not its executor.
 */
import { Clock, Duration, Effect, Schedule } from "effect"

const every = Duration.minutes(1)

/** Says the attempt labelled `label`, started at `startedMs`, is still running, every minute; never ends. */
export const stillRunning = (label: string, startedMs: number): Effect.Effect<never> =>
  Clock.currentTimeMillis.pipe(
    Effect.flatMap((now) =>
      Effect.logInfo(`${label} still running (${Duration.format(Duration.minutes(Math.round((now - startedMs) / 60_000)))})`)
    ),
    Effect.repeat(Schedule.spaced(every)),
    Effect.delay(every),
    Effect.zipRight(Effect.never)
  )
