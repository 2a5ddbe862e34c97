import { assert, describe, it } from "@effect/vitest"
import { oneLine } from "../../src/domain/OneLine.js"

describe("oneLine", () => {
  it("escapes line breaks, tabs and terminal escapes, and leaves everything else as it is", () => {
    assert.strictEqual(oneLine("a\nb\r\tc"), "a\\nb\\r\\tc")
    assert.strictEqual(oneLine("x\u001b[31my\u0000z\u007f"), "x\\u001b[31my\\u0000z\\u007f")
    assert.strictEqual(oneLine("csi\u009b line\u2028para\u2029"), "csi\\u009b line\\u2028para\\u2029")
    assert.strictEqual(oneLine(`Pipeline 'é "q" \\ ok' ~`), `Pipeline 'é "q" \\ ok' ~`)
  })
})
