/**
 * Writes `exec:chunk` log lines straight from the output bytes into one reusable buffer: the JSON
 * escaping is done on bytes, so a chunk costs no intermediate strings (no decoded text, no JSON
 * string; V8's JSON.stringify of decoded text measured slower than this, ~2.8 against ~2.6 ns a
 * byte of base64 on Node 20). The bytes are scanned four at a time, and a run of bytes that need no
 * escaping (valid UTF-8 included) is moved with one copyWithin (issue 19). That keeps the garbage
 * per chunk near zero and memory flat (DECISIONS D-11) at any output size. The line is
 * byte-for-byte what `JSON.stringify` of the event (with `data` decoded as streaming UTF-8) would
 * give, except that no byte is lost: one that is not part of valid UTF-8 is written as the lone
 * surrogate U+DC00 + byte (`\udcff`, LOG-1), and a character split across two chunks is carried over
 * to the next chunk of the same stream.
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

/** `\udc`, then a byte's two lowercase hex digits: how JSON.stringify writes the lone surrogate U+DC00 + byte. */
const surrogateEscape = new TextEncoder().encode("\\udc")
const hexByte = new TextEncoder().encode(hex)

/** 1 for the bytes copied as they are (printable ASCII other than `"` and `\\`): one load per byte on the hot path. */
const plain = new Uint8Array(256)
for (let byte = 0x20; byte < 0x80; byte++) plain[byte] = byte === 0x22 || byte === 0x5c ? 0 : 1

/** Length of a UTF-8 sequence starting with `lead`, 0 if `lead` cannot start one (WHATWG decoder). */
const sequenceLength = (lead: number) =>
  lead < 0x80 ? 1 : lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0

/** The valid range of the second byte after `lead` (the rest are always 0x80..0xbf). */
const secondByteLow = (lead: number) => (lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80)
const secondByteHigh = (lead: number) => (lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf)

const wordMask = 0x80808080
const hasZeroByte = (word: number) => (word - 0x01010101) & ~word & wordMask

/**
 * Whether any of the four bytes of `word` needs more than copying: a control character, `"`, `\`,
 * or a byte of a multi-byte sequence (checked byte by byte). The classic SWAR tests: a byte under
 * 0x20 borrows into its top bit, a byte equal to `"` or `\` is zero after the XOR.
 */
const needsLook = (word: number) =>
  ((word | ((word - 0x20202020) & ~word) | hasZeroByte(word ^ 0x22222222) | hasZeroByte(word ^ 0x5c5c5c5c)) & wordMask) !== 0

/**
 * Moves `buffer[from, to)` to `at`, returns the new end. A plain function, not a closure over the
 * scan's counters: V8 would keep captured counters in a heap context, slowing every step of the loop.
 * copyWithin costs a call: a short run (JSON output, quotes every few bytes) is copied by hand.
 */
const moveRun = (buffer: Uint8Array, at: number, from: number, to: number) => {
  if (to - from > 32) {
    buffer.copyWithin(at, from, to)
    return at + to - from
  }
  let end = at
  for (let k = from; k < to; k++) buffer[end++] = buffer[k]!
  return end
}

/**
 * Escapes the `n` bytes staged at `stage` of `out` into `out` from `from` on; returns where the
 * escaped text ends and the incomplete sequence at the end, to carry over. `stage` is a multiple of 4
 * past the room the escaped form may take (6 bytes a byte), so the writes never reach what is still
 * to be read.
 */
const escapeStaged = (out: Uint8Array, outWords: Int32Array, from: number, stage: number, n: number, final: boolean) => {
  let at = from
  let i = 0
  // The start of the words skipped but not yet moved to the output: they need no escaping.
  let run = 0
  while (i < n) {
    if ((i & 3) === 0 && i + 4 <= n && !needsLook(outWords[(stage + i) >> 2]!)) {
      i += 4
      continue
    }
    // Byte by byte from here, as in dense text (JSON, with quotes every few bytes) where runs are short.
    if (i > run) at = moveRun(out, at, stage + run, stage + i)
    const lead = out[stage + i]!
    if (plain[lead] === 1) {
      out[at++] = lead
      run = ++i
      continue
    }
    if (lead < 0x80) {
      const escape = escapes[lead]!
      for (let k = 0; k < escape.length; k++) out[at++] = escape[k]!
      run = ++i
      continue
    }
    const size = sequenceLength(lead)
    let valid = 1
    if (size > 0) {
      for (; valid < size && i + valid < n; valid++) {
        const byte = out[stage + i + valid]!
        const low = valid === 1 ? secondByteLow(lead) : 0x80
        const high = valid === 1 ? secondByteHigh(lead) : 0xbf
        if (byte < low || byte > high) break
      }
      if (valid === size) {
        for (let k = 0; k < size; k++) out[at++] = out[stage + i + k]!
        i += size
        run = i
        continue
      }
      // A sequence cut by the chunk's end is carried over to the next chunk of this stream; at the
      // stream's end (final) there is none, and its bytes are kept as escapes.
      if (i + valid === n && !final) return { at, carry: out.slice(stage + i, stage + n) }
    }
    // Invalid: this byte is kept as the escape \udcXX (LOG-1), and the next byte is looked at anew.
    // (A continuation byte never starts a sequence, so escaping the bytes of an invalid sequence one
    // by one gives what escaping the whole of it would.)
    for (let k = 0; k < 4; k++) out[at++] = surrogateEscape[k]!
    out[at++] = hexByte[lead >> 4]!
    out[at++] = hexByte[lead & 15]!
    i += 1
    run = i
  }
  if (i > run) at = moveRun(out, at, stage + run, stage + i)
  return { at, carry: empty }
}

export const makeChunkLineEncoder = () => {
  const encoder = new TextEncoder()
  // Allocated on the first chunk: a stage that prints nothing (most short stages) costs no buffer.
  let buffer = new Uint8Array(0)
  let words = new Int32Array(0)
  const carried: Record<"stdout" | "stderr", Uint8Array> = { stdout: new Uint8Array(0), stderr: new Uint8Array(0) }
  let length = 0

  const ensure = (extra: number) => {
    if (length + extra <= buffer.length) return
    const size = Math.max(64 * 1024, buffer.length * 2, length + extra)
    const grown = new Uint8Array(size + ((4 - (size & 3)) & 3))
    grown.set(buffer.subarray(0, length))
    buffer = grown
    words = new Int32Array(grown.buffer)
  }
  const putText = (text: string) => {
    ensure(text.length * 3)
    length += encoder.encodeInto(text, buffer.subarray(length)).written
  }

  /** Escapes `previous` then `bytes` into the buffer; returns the incomplete sequence at the end. */
  const putData = (previous: Uint8Array, bytes: Uint8Array, final: boolean): Uint8Array => {
    const n = previous.length + bytes.length
    const stage = (length + n * 6 + 3) & ~3
    ensure(stage - length + n)
    buffer.set(previous, stage)
    buffer.set(bytes, stage + previous.length)
    const escaped = escapeStaged(buffer, words, length, stage, n, final)
    length = escaped.at
    return escaped.carry
  }

  return {
    /**
     * The JSON line for one output chunk; valid until the next call. `final`: the stream's last chunk,
     * after which nothing is carried (LOG-1: a character cut short by the stream's end is kept as escapes).
     */
    encode: (meta: ChunkLine, bytes: Uint8Array, final = false): Uint8Array => {
      length = 0
      putText(`{"type":"exec:chunk","correlation_id":${JSON.stringify(meta.correlationId)},"attempt":${meta.attempt},"stream":"${meta.stream}","sequence":${meta.sequence},"bytes":${bytes.length},"data":"`)
      carried[meta.stream] = putData(carried[meta.stream], bytes, final)
      putText(`","timestamp":"${meta.timestamp}","index":${meta.index}}\n`)
      return buffer.subarray(0, length)
    },
    /** Whether the stream's last chunk ended inside a character, whose bytes wait for the next chunk. */
    carrying: (stream: "stdout" | "stderr"): boolean => carried[stream].length > 0
  }
}
