import { assert, describe, it } from "@effect/vitest"
import { outputBytes } from "../../src/domain/RunLog.js"
import { makeChunkLineEncoder } from "../../src/layers/internal/chunkLineEncoder.js"

const meta = (sequence: number, stream: "stdout" | "stderr" = "stdout") => ({
  correlationId: "c-1",
  attempt: 1,
  stream,
  sequence,
  timestamp: "2026-11-25T00:00:00.000Z",
  index: 2
})

/**
 * A streaming UTF-8 decoder that keeps every byte: valid sequences become their characters, a
 * sequence cut by the chunk's end waits for the next chunk, and any other byte b becomes the lone
 * surrogate U+DC00 + b ("surrogateescape"). Built on a fatal TextDecoder, not on the encoder's rules.
 */
const makeKeepingDecoder = () => {
  let carry = new Uint8Array(0)
  const decodes = (bytes: Uint8Array) => {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes)
    } catch {
      return undefined
    }
  }
  const isPrefix = (bytes: Uint8Array) => {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes, { stream: true }) === ""
    } catch {
      return false
    }
  }
  return (chunk: Uint8Array) => {
    const bytes = new Uint8Array(carry.length + chunk.length)
    bytes.set(carry)
    bytes.set(chunk, carry.length)
    carry = new Uint8Array(0)
    let text = ""
    let i = 0
    while (i < bytes.length) {
      let size = 0
      for (let k = 1; k <= 4 && i + k <= bytes.length; k++) {
        const one = decodes(bytes.subarray(i, i + k))
        if (one !== undefined && [...one].length === 1) {
          size = k
          break
        }
      }
      if (size > 0) {
        text += decodes(bytes.subarray(i, i + size))
        i += size
      } else if (bytes.length - i < 4 && isPrefix(bytes.subarray(i))) {
        carry = bytes.slice(i)
        break
      } else {
        text += String.fromCharCode(0xdc00 + bytes[i]!)
        i += 1
      }
    }
    return text
  }
}

/** What the log line must be: JSON.stringify of the event, `data` decoded keeping every byte. */
const reference = (chunks: ReadonlyArray<Uint8Array>) => {
  const decode = makeKeepingDecoder()
  return chunks.map((bytes, i) =>
    `${
      JSON.stringify({
        type: "exec:chunk",
        correlation_id: "c-1",
        attempt: 1,
        stream: "stdout",
        sequence: i + 1,
        bytes: bytes.length,
        data: decode(bytes),
        timestamp: "2026-11-25T00:00:00.000Z",
        index: 2
      })
    }\n`
  )
}

const encodeAll = (chunks: ReadonlyArray<Uint8Array>) => {
  const encoder = makeChunkLineEncoder()
  const decoder = new TextDecoder()
  return chunks.map((bytes, i) => decoder.decode(encoder.encode(meta(i + 1), bytes)))
}

const bytesOf = (...values: ReadonlyArray<number>) => Uint8Array.from(values)

describe("chunk line encoder (D-11)", () => {
  it("escapes quotes, backslashes and control characters like JSON.stringify", () => {
    const text = "say \"hi\" \\ path\n\ttab\r\u0000\u0001\u001f\u007f end"
    const chunks = [new TextEncoder().encode(text)]
    assert.deepStrictEqual(encodeAll(chunks), reference(chunks))
  })

  it("keeps multi-byte characters, also when split across chunks", () => {
    const all = new TextEncoder().encode("héllo wörld — 日本語 😀 ok")
    for (let cut = 0; cut <= all.length; cut++) {
      const chunks = [all.slice(0, cut), all.slice(cut)]
      assert.deepStrictEqual(encodeAll(chunks), reference(chunks), `cut at ${cut}`)
    }
  })

  it("keeps an invalid byte as the escape \\udcXX, so the output's bytes can be read back exactly", () => {
    const line = (bytes: Uint8Array) => new TextDecoder().decode(makeChunkLineEncoder().encode(meta(1), bytes))
    assert.include(line(bytesOf(0x41, 0xff, 0x42)), String.raw`"data":"A\udcffB"`)
    assert.include(line(bytesOf(0xe2, 0x82, 0x41)), String.raw`"data":"\udce2\udc82A"`)
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i)
    const data = JSON.parse(line(bytes)).data as string
    assert.deepStrictEqual(outputBytes(data), bytes)
    // A character whose second UTF-16 unit lies in the escapes' range (U+10080 is D800 DC80) is text.
    const text = "a\u{10080}b\u{1F600}"
    assert.deepStrictEqual(outputBytes(text), new TextEncoder().encode(text))
    assert.deepStrictEqual(outputBytes(`${text}\udc80`), Uint8Array.of(...new TextEncoder().encode(text), 0x80))
  })

  it("a stream's last chunk (final) keeps a character cut short as escapes instead of carrying it", () => {
    const encoder = makeChunkLineEncoder()
    const line = (bytes: Uint8Array, final?: boolean) => JSON.parse(new TextDecoder().decode(encoder.encode(meta(1), bytes, final)))
    assert.strictEqual(line(bytesOf(0x41, 0xe2, 0x82)).data, "A")
    assert.isTrue(encoder.carrying("stdout"))
    assert.isFalse(encoder.carrying("stderr"))
    const last = line(new Uint8Array(0), true)
    assert.deepStrictEqual([last.data, last.bytes], ["\udce2\udc82", 0])
    assert.isFalse(encoder.carrying("stdout"))
    assert.strictEqual(line(bytesOf(0xe2, 0x82, 0xac)).data, "€", "nothing of the cut character is carried into a later chunk")
  })

  it("keeps invalid bytes exactly as the reference decoder does", () => {
    const cases = [
      bytesOf(0xff, 0x41),
      bytesOf(0xc0, 0x80, 0x41),
      bytesOf(0xe0, 0x80, 0x80),
      bytesOf(0xed, 0xa0, 0x80),
      bytesOf(0xf4, 0x90, 0x80, 0x80),
      bytesOf(0xe2, 0x82, 0x41),
      bytesOf(0xf0, 0x9f, 0x98)
    ]
    for (const bytes of cases) assert.deepStrictEqual(encodeAll([bytes]), reference([bytes]), `bytes ${bytes.join(",")}`)
  })

  it("matches the reference on random bytes cut at random points", () => {
    let seed = 42
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed
    }
    for (let round = 0; round < 200; round++) {
      const chunks = Array.from({ length: 1 + (next() % 4) }, () =>
        Uint8Array.from({ length: next() % 40 }, () => {
          const r = next() % 10
          // Mostly UTF-8 lead and continuation bytes, so that valid and invalid sequences both occur.
          return r < 3 ? next() % 0x80 : r < 6 ? 0x80 + (next() % 0x40) : 0xc0 + (next() % 0x40)
        }))
      assert.deepStrictEqual(encodeAll(chunks), reference(chunks), `round ${round}`)
    }
  })

  it("carries a split character per stream, not across streams", () => {
    const encoder = makeChunkLineEncoder()
    const euro = new TextEncoder().encode("€")
    const first = new TextDecoder().decode(encoder.encode(meta(1, "stdout"), euro.slice(0, 1)))
    const other = new TextDecoder().decode(encoder.encode(meta(2, "stderr"), new TextEncoder().encode("x")))
    const rest = new TextDecoder().decode(encoder.encode(meta(3, "stdout"), euro.slice(1)))
    assert.include(first, "\"data\":\"\"")
    assert.include(other, "\"data\":\"x\"")
    assert.include(rest, "\"data\":\"€\"")
  })

  it("grows its buffer for a chunk of escapes larger than the initial buffer", () => {
    const bytes = new Uint8Array(300 * 1024) // NUL bytes: 6 output bytes each
    const line = JSON.parse(new TextDecoder().decode(makeChunkLineEncoder().encode(meta(1), bytes)))
    assert.strictEqual(line.data.length, bytes.length)
    assert.strictEqual(line.bytes, bytes.length)
  })
})

describe("chunk line encoder, word-at-a-time scan", () => {
  it("matches the reference on long, mostly plain chunks at every alignment", () => {
    let seed = 7
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed
    }
    // Plain text with, now and then, each kind of byte the scan must stop at: control characters,
    // quotes, backslashes, valid and invalid multi-byte sequences, and DEL (copied as it is).
    const special = [0x0a, 0x09, 0x00, 0x1f, 0x22, 0x5c, 0x7f, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80, 0xff, 0x80]
    for (let round = 0; round < 60; round++) {
      const backing = Uint8Array.from({ length: 600 + (next() % 400) }, () =>
        next() % 23 === 0 ? special[next() % special.length]! : 0x20 + (next() % 0x5f))
      const chunks: Array<Uint8Array> = []
      // Chunks that start anywhere in their buffer, as a pipe's reads may.
      for (let at = 0; at < backing.length;) {
        const size = Math.min(backing.length - at, 1 + (next() % 200))
        chunks.push(backing.subarray(at, at + size))
        at += size
      }
      assert.deepStrictEqual(encodeAll(chunks), reference(chunks), `round ${round}`)
    }
  })
})
