import { assert, describe, it } from "@effect/vitest"
import { makeOutputTail, tailLimitBytes } from "../../src/layers/internal/outputTail.js"

const encoder = new TextEncoder()

/** Deterministic printable text where every position differs from its neighbours. */
const text = (length: number, seed = 0) => {
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
  let out = ""
  for (let i = 0; i < length; i++) out += alphabet[(i * 7 + seed + Math.floor(i / 61)) % alphabet.length]
  return out
}

describe("EXE-4 output tail", () => {
  it("keeps 64 KiB", () => {
    assert.strictEqual(tailLimitBytes, 65_536)
  })

  it("keeps everything below the limit", () => {
    const tail = makeOutputTail()
    assert.strictEqual(tail.text(), "")
    assert.strictEqual(tail.totalBytes(), 0)
    tail.push(encoder.encode("hello "))
    tail.push(encoder.encode("world\n"))
    assert.strictEqual(tail.text(), "hello world\n")
    assert.strictEqual(tail.totalBytes(), 12)
  })

  it("never starts inside a character: bytes of one whose head was dropped are not shown as U+FFFD", () => {
    // "é" is C3 A9; a tail of 3 bytes of "xxéyy" would start at A9.
    const cutInside = makeOutputTail(3)
    cutInside.push(encoder.encode("xx\u00e9yy"))
    assert.strictEqual(cutInside.text(), "yy")
    // Dropped chunk by chunk, the character's first byte goes with the dropped chunk.
    const byChunk = makeOutputTail(4)
    byChunk.push(encoder.encode("ab\u{1F600}".slice(0, 2)))
    byChunk.push(encoder.encode("\u{1F600}").subarray(0, 1))
    byChunk.push(encoder.encode("\u{1F600}").subarray(1))
    byChunk.push(encoder.encode("c\nok\n"))
    assert.strictEqual(byChunk.text(), "ok\n")
    const longLine = makeOutputTail(4)
    longLine.push(encoder.encode("a\u{1F600}"))
    longLine.push(encoder.encode("bcd"))
    assert.strictEqual(longLine.text(), "bcd")
  })

  it("keeps exactly the last 64 KiB across many small chunks of varying size", () => {
    const full = text(300_000)
    const tail = makeOutputTail()
    let offset = 0
    let size = 1
    while (offset < full.length) {
      tail.push(encoder.encode(full.slice(offset, offset + size)))
      offset += size
      size = (size * 7 + 3) % 997 + 1
    }
    assert.strictEqual(tail.totalBytes(), 300_000)
    const kept = tail.text()
    assert.strictEqual(kept.length, tailLimitBytes)
    assert.strictEqual(kept, full.slice(-tailLimitBytes))
  })

  it("is exact at every point while it fills past the limit", () => {
    const full = text(70_000, 3)
    const tail = makeOutputTail()
    for (let offset = 0; offset < full.length; offset += 1000) {
      tail.push(encoder.encode(full.slice(offset, offset + 1000)))
      const seen = full.slice(0, offset + 1000)
      assert.strictEqual(tail.text(), seen.slice(-tailLimitBytes))
    }
  })

  it("keeps the tail of one oversized chunk", () => {
    const big = text(100_000, 5)
    const tail = makeOutputTail()
    tail.push(encoder.encode("earlier output that must be dropped\n"))
    tail.push(encoder.encode(big))
    assert.strictEqual(tail.text(), big.slice(-tailLimitBytes))
    assert.strictEqual(tail.totalBytes(), 36 + 100_000)
    tail.push(encoder.encode("END"))
    assert.strictEqual(tail.text(), `${big}END`.slice(-tailLimitBytes))
    assert.isTrue(tail.text().endsWith("END"))
    assert.strictEqual(tail.totalBytes(), 36 + 100_003)
  })

  it("keeps a chunk of exactly the limit and drops it by the byte", () => {
    const exact = text(tailLimitBytes, 11)
    const tail = makeOutputTail()
    tail.push(encoder.encode(exact))
    assert.strictEqual(tail.text(), exact)
    tail.push(encoder.encode("!"))
    assert.strictEqual(tail.text(), `${exact.slice(1)}!`)
    assert.strictEqual(tail.totalBytes(), tailLimitBytes + 1)
  })

  it("honours a custom limit", () => {
    const tail = makeOutputTail(4)
    for (const chunk of ["ab", "cd", "efg", "h"]) tail.push(encoder.encode(chunk))
    assert.strictEqual(tail.text(), "efgh")
    tail.push(encoder.encode("0123456789"))
    assert.strictEqual(tail.text(), "6789")
    assert.strictEqual(tail.totalBytes(), 18)
  })

  it("ignores empty chunks", () => {
    const tail = makeOutputTail(4)
    tail.push(encoder.encode("abcd"))
    tail.push(new Uint8Array(0))
    assert.strictEqual(tail.text(), "abcd")
    assert.strictEqual(tail.totalBytes(), 4)
  })

  it("counts bytes, not characters", () => {
    const tail = makeOutputTail()
    tail.push(encoder.encode("héllo ✓"))
    assert.strictEqual(tail.totalBytes(), 10)
    assert.strictEqual(tail.text(), "héllo ✓")
  })

  it("handles 200k one-byte chunks and keeps the last 64 KiB", () => {
    const tail = makeOutputTail()
    const bytes = Array.from({ length: 26 }, (_, i) => Uint8Array.of(97 + i))
    for (let i = 0; i < 200_000; i++) tail.push(bytes[i % 26] ?? Uint8Array.of(0))
    assert.strictEqual(tail.totalBytes(), 200_000)
    const kept = tail.text()
    assert.strictEqual(kept.length, tailLimitBytes)
    const firstKept = 200_000 - tailLimitBytes
    let expected = ""
    for (let i = firstKept; i < 200_000; i++) expected += String.fromCharCode(97 + (i % 26))
    assert.strictEqual(kept, expected)
  })

  it("a tail that starts inside a secret's value starts after it (issue 16, item 15b)", () => {
    const tail = makeOutputTail(64)
    tail.push(encoder.encode(`${"x".repeat(100)} password=lCutSecretQQQ9 rest of the line goes on and on and on without a break`))
    const kept = tail.text()
    assert.notInclude(kept, "QQQ")
    assert.strictEqual(kept, " rest of the line goes on and on and on without a break")
    const split = makeOutputTail(64)
    split.push(encoder.encode(`${"y".repeat(90)} token=abcdefghijklmnop`))
    split.push(encoder.encode(`qrstuvwxyz0123456789 then ${"z".repeat(40)}`))
    assert.strictEqual(split.text(), ` then ${"z".repeat(40)}`)
  })
})
