/**
 * Randomness that must not repeat across processes: run-id suffixes, resume tokens, correlation ids.
 * Effect's `Random` is a seeded PRNG meant for reproducible tests, so these come from Web Crypto.
 */
import { Effect } from "effect"

export const randomHex = (bytes: number): Effect.Effect<string> =>
  Effect.sync(() =>
    Array.from(globalThis.crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("")
  )

export const randomUuid: Effect.Effect<string> = Effect.sync(() => globalThis.crypto.randomUUID())
