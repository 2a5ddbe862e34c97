/**
 * Time as every file we write records it: ISO-8601 in UTC with milliseconds
 * (`2025-11-24T00:30:09.180Z`), read from the Clock so that TestClock drives it in tests.
 */
import { Clock, Effect } from "effect"

/** A Clock reading (epoch milliseconds) as the files record it. */
export const iso = (ms: number): string => new Date(ms).toISOString()

/** Now, from the Clock. */
export const isoNow: Effect.Effect<string> = Effect.map(Clock.currentTimeMillis, iso)
