import { Effect, Layer, Random } from "effect"
import { Entropy } from "../services/Entropy.js"

const hexOf = (bytes: ReadonlyArray<number>) => bytes.map((b) => b.toString(16).padStart(2, "0")).join("")

/** RFC 4122 version 4: the version nibble and the variant bits set on 16 random bytes. */
const uuidOf = (bytes: ReadonlyArray<number>) => {
  const hex = hexOf(bytes.map((b, i) => (i === 6 ? (b & 0x0f) | 0x40 : i === 8 ? (b & 0x3f) | 0x80 : b)))
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** Production: Web Crypto (Effect's `Random` is a PRNG seeded per process, guessable and not meant for tokens). */
export const EntropyLive = Layer.succeed(
  Entropy,
  Entropy.of({
    hex: (bytes) => Effect.sync(() => hexOf(Array.from(globalThis.crypto.getRandomValues(new Uint8Array(bytes))))),
    uuid: Effect.sync(() => globalThis.crypto.randomUUID())
  })
)

/**
 * The test kit's: a generator seeded with `seed`, fresh each time the layer is built, so the same
 * program on the same seed draws the same ids and tokens.
 */
export const EntropySeeded = (seed: number) =>
  Layer.sync(Entropy, () => {
    const random = Random.make(seed)
    const bytes = (count: number) => Effect.forEach(Array.from({ length: count }), () => random.nextIntBetween(0, 256))
    return Entropy.of({ hex: (count) => Effect.map(bytes(count), hexOf), uuid: Effect.map(bytes(16), uuidOf) })
  })
