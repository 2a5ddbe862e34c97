import { createHash } from "node:crypto"
import { Effect } from "effect"

/**
 * SHA-256 of the UTF-8 bytes, lowercase hex. Synchronous (node:crypto, as learningDigest): Web
 * Crypto's digest is a Promise that settles outside the Effect runtime, so a run hashing its
 * instructions or prompt packs could not be stepped deterministically by the TestClock.
 */
export const sha256Hex = (text: string): Effect.Effect<string> =>
  Effect.sync(() => createHash("sha256").update(text, "utf8").digest("hex"))
