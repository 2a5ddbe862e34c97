/**
 * The last 64 KiB a stream printed (SPEC EXE-4), kept for stage summaries and error files while the
 * whole output goes to disk. Memory stays bounded whatever the stage prints (DECISIONS D-12).
 */
export const tailLimitBytes = 64 * 1024

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
  // The byte just before what is retained (a newline when nothing was dropped).
  let before = 10
  return {
    push: (bytes) => {
      total += bytes.length
      // A copy of an oversized chunk's end, so the rest of its buffer can be freed.
      if (bytes.length > limit) before = bytes[bytes.length - limit - 1] ?? 10
      const kept = bytes.length > limit ? bytes.slice(bytes.length - limit) : bytes
      chunks.push(kept)
      retained += kept.length
      while (chunks.length - head > 1 && retained - (chunks[head]?.length ?? 0) >= limit) {
        retained -= chunks[head]?.length ?? 0
        before = chunks[head]?.[(chunks[head]?.length ?? 1) - 1] ?? 10
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
      const start = Math.max(0, retained - limit)
      const text = new TextDecoder().decode(joined.subarray(start))
      // A tail that starts in the middle of a line drops that fragment: half a line reads as noise,
      // and half a secret would slip past the privacy rules (D-13).
      const cutMidLine = (start > 0 ? joined[start - 1] : before) !== 10
      const firstBreak = text.indexOf("\n")
      return cutMidLine && firstBreak >= 0 ? text.slice(firstBreak + 1) : text
    }
  }
}
