import { assert, describe, it } from "@effect/vitest"
import { hasControlCharacter, oneLine, shortened } from "../../src/domain/OneLine.js"

describe("oneLine", () => {
  it("escapes line breaks, tabs and terminal escapes, and leaves everything else as it is", () => {
    assert.strictEqual(oneLine("a\nb\r\tc"), "a\\nb\\r\\tc")
    assert.strictEqual(oneLine("x\u001b[31my\u0000z\u007f"), "x\\u001b[31my\\u0000z\\u007f")
    assert.strictEqual(oneLine("csi\u009b line\u2028para\u2029"), "csi\\u009b line\\u2028para\\u2029")
    assert.strictEqual(oneLine(`Pipeline 'é "q" \\ ok' ~`), `Pipeline 'é "q" \\ ok' ~`)
  })
})

describe("shortened", () => {
  it("keeps a text up to the limit whole, and shows a longer one's head and its size in bytes", () => {
    assert.strictEqual(shortened("abc", 3), "abc")
    assert.strictEqual(shortened("abcd", 3), "abc… (4 bytes)")
    assert.strictEqual(shortened("éééé", 2), "éé… (8 bytes)")
    const long = `echo ${"x".repeat(300)}`
    assert.strictEqual(shortened(long), `${long.slice(0, 240)}… (305 bytes)`)
  })

  it("never shows half of a character written as two UTF-16 units", () => {
    assert.strictEqual(shortened("ab\u{1F600}cd", 3), "ab… (8 bytes)")
    assert.strictEqual(shortened("ab\u{1F600}cd", 4), "ab\u{1F600}… (8 bytes)")
  })

  it("cuts before a secret the limit falls inside, never through it", () => {
    // "password=hunter2hunter2" spans [4, 27).
    assert.strictEqual(shortened("see password=hunter2hunter2 and more", 10), "see … (36 bytes)")
    assert.strictEqual(shortened("see password=hunter2hunter2 and more", 28), "see password=hunter2hunter2 … (36 bytes)")
  })
})

describe("hasControlCharacter", () => {
  it("is true exactly for what oneLine escapes", () => {
    for (const text of ["a\nb", "\r", "\t", "\u001b[31m", "\u007f", "\u0085", "\u009f", "x\u2028", "\u2029", "\u0000"]) {
      assert.isTrue(hasControlCharacter(text), JSON.stringify(text))
      assert.notStrictEqual(oneLine(text), text)
    }
    for (const text of ["", "Build — lint", "é \u{1F600} ✓", "\u00a0", "\u0020~"]) {
      assert.isFalse(hasControlCharacter(text), JSON.stringify(text))
      assert.strictEqual(oneLine(text), text)
    }
  })
})
