/**
 * The stage cache's hashes (DECISIONS B-5), synchronous through node:crypto as sha256.ts explains:
 * the key (SHA-256 of the canonical parts), env values (HMAC-SHA-256 with the cache's own key, so a
 * stored digest says nothing about a secret to anyone without that key) and input files (git's blob
 * id, SHA-1 of `blob <size>\0<bytes>`, so a file hashed here and one whose id git gave agree).
 */
import { createHash, createHmac } from "node:crypto"
import { Effect, Stream } from "effect"
import type { FileAccessError } from "../../domain/FileErrors.js"

export const sha256Of = (text: string) => Effect.sync(() => createHash("sha256").update(text, "utf8").digest("hex"))

export const hmacOf = (key: string, text: string) => Effect.sync(() => createHmac("sha256", key).update(text, "utf8").digest("hex"))

/** Git's blob id of a file held whole (a small one: one read, no stream). */
export const blobIdOfBytes = (bytes: Uint8Array) =>
  Effect.sync(() => createHash("sha1").update(`blob ${bytes.length}\u0000`, "utf8").update(bytes).digest("hex"))

/** Git's blob id of a file streamed in `bytes`, `size` bytes long. */
export const blobIdOf = (size: number, bytes: Stream.Stream<Uint8Array, FileAccessError>) =>
  Effect.suspend(() => {
    const hash = createHash("sha1").update(`blob ${size}\u0000`, "utf8")
    return Stream.runForEach(bytes, (chunk) => Effect.sync(() => hash.update(chunk))).pipe(
      Effect.map(() => hash.digest("hex"))
    )
  })
