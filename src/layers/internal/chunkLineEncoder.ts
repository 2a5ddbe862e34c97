/**
 * Writes `exec:chunk` log lines straight from the output bytes into one reusable buffer: the JSON
 * escaping is done on bytes, so a chunk costs no intermediate strings (no decoded text, no JSON
 * string). That keeps the garbage per chunk near zero and memory flat (DECISIONS D-11) at any
 * output size. The line is byte-for-byte what `JSON.stringify` of the event (with `data` decoded by
 * a streaming UTF-8 TextDecoder) would give: invalid bytes become U+FFFD, and a character split
 * across two chunks is carried over to the next chunk of the same stream.
 */

import type { ChunkLine } from "../../domain/RunLog.js"

const escapes: Array<Uint8Array | undefined> = []
const hex = "0123456789abcdef"
for (let byte = 0; byte < 0x20; byte++) {
  const named: Record<number, string> = { 8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r" }
  const text = named[byte] ?? `\\u00${hex[byte >> 4]}${hex[byte & 15]}`
  escapes[byte] = new TextEncoder().encode(text)
}
escapes[0x22] = new TextEncoder().encode("\\\"")
escapes[0x5c] = new TextEncoder().encode("\\\\")

const empty = new Uint8Array(0)

/** 1 for the bytes copied as they are (printable ASCII other than `"` and `\\`): one load per byte on the hot path. */
const plain = new Uint8Array(256)
for (let byte = 0x20; byte < 0x80; byte++) plain[byte] = byte === 0x22 || byte === 0x5c ? 0 : 1

/** Length of a UTF-8 sequence starting with `lead`, 0 if `lead` cannot start one (WHATWG decoder). */
const sequenceLength = (lead: number) =>
  lead < 0x80 ? 1 : lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0

/** The valid range of the second byte after `lead` (the rest are always 0x80..0xbf). */
const secondByteLow = (lead: number) => (lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80)
const secondByteHigh = (lead: number) => (lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf)


export const makeChunkLineEncoder = () => {
  const encoder = new TextEncoder()
  // Allocated on the first chunk: a stage that prints nothing (most short stages) costs no buffer.
  let buffer = new Uint8Array(0)
  const carried: Record<"stdout" | "stderr", Uint8Array> = { stdout: new Uint8Array(0), stderr: new Uint8Array(0) }
  let length = 0

  const ensure = (extra: number) => {
    if (length + extra <= buffer.length) return
    const grown = new Uint8Array(Math.max(64 * 1024, buffer.length * 2, length + extra))
    grown.set(buffer.subarray(0, length))
    buffer = grown
  }
  const putText = (text: string) => {
    ensure(text.length * 3)
    length += encoder.encodeInto(text, buffer.subarray(length)).written
  }

  /** Escapes `bytes` into the buffer; returns the incomplete sequence at the end, to carry over. */
  const putData = (bytes: Uint8Array): Uint8Array => {
    ensure(bytes.length * 6)
    const out = buffer
    const n = bytes.length
    let at = length
    let i = 0
    while (i < n) {
      const lead = bytes[i]!
      // The hot path: printable ASCII other than `"` and `\` is copied as it is, byte by byte.
      if (plain[lead] === 1) {
        out[at++] = lead
        i++
        continue
      }
      if (lead < 0x80) {
        const escape = escapes[lead]!
        for (let k = 0; k < escape.length; k++) out[at++] = escape[k]!
        i++
        continue
      }
      const size = sequenceLength(lead)
      let valid = 1
      if (size > 0) {
        for (; valid < size && i + valid < n; valid++) {
          const byte = bytes[i + valid]!
          const low = valid === 1 ? secondByteLow(lead) : 0x80
          const high = valid === 1 ? secondByteHigh(lead) : 0xbf
          if (byte < low || byte > high) break
        }
        if (valid === size) {
          for (let k = 0; k < size; k++) out[at++] = bytes[i + k]!
          i += size
          continue
        }
        // A sequence cut by the chunk's end is carried over to the next chunk of this stream.
        if (i + valid === n) {
          length = at
          return bytes.slice(i)
        }
      }
      // Invalid: one replacement for the bytes consumed, then the offending byte is looked at again.
      out[at++] = 0xef
      out[at++] = 0xbf
      out[at++] = 0xbd
      i += size === 0 ? 1 : valid
    }
    length = at
    return empty
  }

  return {
    /** The JSON line for one output chunk; valid until the next call. */
    encode: (meta: ChunkLine, bytes: Uint8Array): Uint8Array => {
      length = 0
      putText(`{"type":"exec:chunk","correlation_id":${JSON.stringify(meta.correlationId)},"attempt":${meta.attempt},"stream":"${meta.stream}","sequence":${meta.sequence},"bytes":${bytes.length},"data":"`)
      const previous = carried[meta.stream]
      let input = bytes
      if (previous.length > 0) {
        input = new Uint8Array(previous.length + bytes.length)
        input.set(previous)
        input.set(bytes, previous.length)
      }
      carried[meta.stream] = putData(input)
      putText(`","timestamp":"${meta.timestamp}","index":${meta.index}}\n`)
      return buffer.subarray(0, length)
    }
  }
}
