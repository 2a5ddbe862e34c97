/**
 * Encodes log events as UTF-8 JSON lines into one reusable buffer. A stage's output passes through
 * here chunk by chunk; reusing the buffer keeps the garbage per chunk to the JSON string itself, so
 * memory stays flat (DECISIONS D-11) instead of growing with freshly allocated byte arrays.
 * The returned bytes are valid until the next call: write them before encoding the next event.
 */
import type { RunLogEvent } from "../../domain/RunLog.js"

export const makeLineEncoder = () => {
  const encoder = new TextEncoder()
  let buffer = new Uint8Array(256 * 1024)
  return (event: RunLogEvent): Uint8Array => {
    const json = JSON.stringify(event)
    // UTF-8 takes at most 3 bytes per UTF-16 code unit, plus the newline.
    const needed = json.length * 3 + 1
    if (needed > buffer.length) buffer = new Uint8Array(needed)
    const { written } = encoder.encodeInto(json, buffer)
    buffer[written] = 10
    return buffer.subarray(0, written + 1)
  }
}
