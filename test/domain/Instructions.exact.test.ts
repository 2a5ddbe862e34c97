/** INS-3's combined text to the exact value (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { combinedInstructions, parseInstructionFile } from "../../src/domain/Instructions.js"

describe("instructions, exactly", () => {
  it("empty bodies leave no blank lines at the ends of the combined text", () => {
    assert.strictEqual(combinedInstructions(["", " b \n"]), "b")
    assert.strictEqual(combinedInstructions([" a", "", "c "]), "a\n\n\n\nc")
  })

  it("the stamp is read in lower case and the body starts after its line", () => {
    const stamp = "AB".repeat(32)
    assert.deepStrictEqual(parseInstructionFile(`\uFEFF<!-- codex:instruction-stamp ${stamp} -->\r\nbody`), {
      stamp: "ab".repeat(32),
      body: "body"
    })
  })
})
