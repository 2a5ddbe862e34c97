/**
 * An incremental SHA-256 for the learning tarball (LRN-2), fed chunk by chunk as the bytes are written
 * so that a large tarball is never held in memory. Web Crypto (`sha256.ts`) only digests a whole
 * buffer at once, hence Node's crypto here, kept to this one module.
 */
import { createHash } from "node:crypto"

export interface IncrementalDigest {
  readonly update: (bytes: Uint8Array) => void
  /** Lowercase hex; call once, at the end. */
  readonly hex: () => string
}

export const makeSha256 = (): IncrementalDigest => {
  const hash = createHash("sha256")
  return {
    update: (bytes) => {
      hash.update(bytes)
    },
    hex: () => hash.digest("hex")
  }
}
