import { Clock, Effect } from "effect"

/** An ISO-8601 timestamp of a Clock reading, as every file we write records time. */
export const iso = (ms: number): string => new Date(ms).toISOString()

/** Now, from the Clock (TestClock in tests). */
export const isoNow: Effect.Effect<string> = Effect.map(Clock.currentTimeMillis, iso)
