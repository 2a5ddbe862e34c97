/**
 * The last 64 KiB a stream printed (SPEC EXE-4), kept for stage summaries and error files while the
 * whole output goes to disk. Memory stays bounded whatever the stage prints (DECISIONS D-12).
 */
import { concatBytes } from "../../domain/Bytes.js"
import { startOutside } from "../../domain/Privacy.js"

export const tailLimitBytes = 64 * 1024

/**
 * How much of what was dropped is kept to see a secret that began before the tail: a tail that
 * starts inside one starts after it (issue 16), for a secret of up to this many bytes before the cut.
 */
const contextBytes = 4096

export interface OutputTail {
  readonly push: (bytes: Uint8Array) => void
  /** Total bytes seen, not only those retained. */
  readonly totalBytes: () => number
  readonly text: () => string
}

const released = new Uint8Array(0)

export const makeOutputTail = (limit: number = tailLimitBytes): OutputTail => {
  // A queue with a moving head: dropping the oldest chunk is O(1), compaction is amortised.
  let chunks: Array<Uint8Array> = []
  let head = 0
  let retained = 0
  let total = 0
  // What was dropped last, up to contextBytes (empty when nothing was dropped), in one buffer that is
  // shifted in place: many small reads dropped one by one allocate nothing.
  const context = new Uint8Array(contextBytes)
  let contextLength = 0
  const dropped = (bytes: Uint8Array) => {
    if (bytes.length >= contextBytes) {
      context.set(bytes.subarray(bytes.length - contextBytes))
      contextLength = contextBytes
      return
    }
    const keep = Math.min(contextLength, contextBytes - bytes.length)
    context.copyWithin(0, contextLength - keep, contextLength)
    context.set(bytes, keep)
    contextLength = keep + bytes.length
  }
  return {
    push: (bytes) => {
      total += bytes.length
      // A copy of an oversized chunk's end, so the rest of its buffer can be freed.
      if (bytes.length > limit) dropped(bytes.subarray(Math.max(0, bytes.length - limit - contextBytes), bytes.length - limit))
      const kept = bytes.length > limit ? bytes.slice(bytes.length - limit) : bytes
      chunks.push(kept)
      retained += kept.length
      while (chunks.length - head > 1 && retained - (chunks[head]?.length ?? 0) >= limit) {
        retained -= chunks[head]?.length ?? 0
        dropped(chunks[head] ?? released)
        chunks[head] = released // drop the reference now, not at the next compaction
        head++
      }
      if (head > 1024 && head * 2 > chunks.length) {
        chunks = chunks.slice(head)
        head = 0
      }
    },
    totalBytes: () => total,
    text: () => {
      const joined = new Uint8Array(retained)
      let offset = 0
      for (const chunk of chunks.slice(head)) {
        joined.set(chunk, offset)
        offset += chunk.length
      }
      const cut = Math.max(0, retained - limit)
      // A tail never starts inside a character: the bytes of one whose first byte was dropped would
      // read as U+FFFD. They go with what came before (at most three continuation bytes).
      let start = cut
      while (start < retained && start - cut < 3 && (joined[start]! & 0xc0) === 0x80) start++
      const text = new TextDecoder().decode(joined.subarray(start))
      const lead = cut > 0 ? joined.subarray(Math.max(0, start - contextBytes), start) : concatBytes([context.subarray(0, contextLength), joined.subarray(0, start)])
      // A tail that starts in the middle of a line drops that fragment: half a line reads as noise,
      // and half a secret would slip past the privacy rules (D-13).
      const cutMidLine = lead.length > 0 && lead[lead.length - 1] !== 10
      if (!cutMidLine) return text
      const firstBreak = text.indexOf("\n")
      if (firstBreak >= 0) return text.slice(firstBreak + 1)
      // One line longer than the tail: it starts after any secret the cut went through.
      const before = new TextDecoder().decode(lead)
      return (before + text).slice(startOutside(before + text, before.length))
    }
  }
}
