import { Context, type Effect } from "effect"

/**
 * The app's randomness: run-id suffixes, resume tokens, correlation, session and handle ids,
 * experience ids. Production's (EntropyLive) comes from Web Crypto, because these must not repeat
 * across processes and a resume token must not be guessable; the test kit's (EntropySeeded) is a
 * seeded generator, so a run on the in-memory app is reproducible byte for byte.
 */
export class Entropy extends Context.Tag("orchestrator/Entropy")<
  Entropy,
  {
    /** `bytes` random bytes as lowercase hex (twice as many characters). */
    readonly hex: (bytes: number) => Effect.Effect<string>
    /** A random UUID (version 4). */
    readonly uuid: Effect.Effect<string>
  }
>() {}
