/** Colour decisions and escape stripping (issue 16 item 23; src/domain/Colour.ts). */
import { assert, describe, it } from "@effect/vitest"
import { colourSettingsOf, colourWanted, stripAnsi } from "../src/domain/Colour.js"

describe("colour only where a person looks at a terminal", () => {
  it("a terminal gets colour, a pipe does not, when neither variable is set", () => {
    const settings = colourSettingsOf(undefined, undefined)
    assert.isTrue(colourWanted(settings, true))
    assert.isFalse(colourWanted(settings, false))
  })

  it("NO_COLOR set and not empty turns colour off, even for a terminal and against FORCE_COLOR", () => {
    assert.isFalse(colourWanted(colourSettingsOf("1", undefined), true))
    assert.isFalse(colourWanted(colourSettingsOf("yes", "1"), true))
    // An empty NO_COLOR is as if unset (no-color.org).
    assert.isTrue(colourWanted(colourSettingsOf("", undefined), true))
  })

  it("FORCE_COLOR turns colour on for a pipe unless it is 0 or false", () => {
    assert.isTrue(colourWanted(colourSettingsOf(undefined, "1"), false))
    assert.isTrue(colourWanted(colourSettingsOf(undefined, ""), false))
    assert.isFalse(colourWanted(colourSettingsOf(undefined, "0"), false))
    assert.isFalse(colourWanted(colourSettingsOf(undefined, " False "), false))
    assert.isTrue(colourWanted(colourSettingsOf(undefined, "0"), true))
  })

  it("stripAnsi removes colour, cursor and OSC link sequences and keeps the text", () => {
    assert.strictEqual(stripAnsi("\u001b[0;1m\u001b[0;37;1mUSAGE\u001b[0m"), "USAGE")
    assert.strictEqual(stripAnsi("a\u001b[2Kb\u001b[1A"), "ab")
    assert.strictEqual(stripAnsi("\u001b]8;;https://x\u0007link\u001b]8;;\u001b\\ end"), "link end")
    assert.strictEqual(stripAnsi("plain [text] stays"), "plain [text] stays")
  })
})
