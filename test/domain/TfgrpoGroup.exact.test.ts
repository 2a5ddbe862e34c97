/** CP-3's group setting errors to the exact text (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { InvalidGroupSetting } from "../../src/domain/TfgrpoGroup.js"

describe("InvalidGroupSetting, exactly", () => {
  it("names the variable, its value and what it must be", () => {
    assert.strictEqual(
      new InvalidGroupSetting({ variable: "TFGRPO_GROUP_SIZE", value: "two", expected: "a whole number of at least 2" }).message,
      "TFGRPO_GROUP_SIZE=\"two\" is not a whole number of at least 2. Set TFGRPO_GROUP_SIZE to a whole number of at least 2 or unset it."
    )
  })
})
