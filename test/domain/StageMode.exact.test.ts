/** PLN-2's mode precedence and the mode word's decoding to the exact value (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { Either, ParseResult, Schema } from "effect"
import { ModeWord, normaliseMode, planHintsOf, StageModeFromConfig } from "../../src/domain/StageMode.js"

describe("normaliseMode, exactly", () => {
  it("the first boolean wins, in the order plan.requiresCloud, plan.requires_cloud, requires_cloud, requiresCloud", () => {
    assert.strictEqual(normaliseMode({ plan: { requiresCloud: false, requires_cloud: true }, requires_cloud: true, mode: "cloud" }), "mcp")
    assert.strictEqual(normaliseMode({ plan: { requires_cloud: true }, requires_cloud: false }), "cloud")
    assert.strictEqual(normaliseMode({ requires_cloud: false, requiresCloud: true }), "mcp")
    assert.strictEqual(normaliseMode({ requiresCloud: true, executionMode: "mcp" }), "cloud")
    assert.strictEqual(normaliseMode({ requiresCloud: false }), "mcp")
  })

  it("else the first word, in the order plan.executionMode, executionMode, execution_mode, mode", () => {
    assert.strictEqual(normaliseMode({ plan: { executionMode: "cloud" }, executionMode: "mcp" }), "cloud")
    assert.strictEqual(normaliseMode({ executionMode: "mcp", execution_mode: "cloud" }), "mcp")
    assert.strictEqual(normaliseMode({ execution_mode: "cloud", mode: "mcp" }), "cloud")
    assert.strictEqual(normaliseMode({ mode: "mcp" }), "mcp")
    assert.strictEqual(normaliseMode({}), undefined)
    assert.strictEqual(normaliseMode({ plan: {} }), undefined)
  })
})

describe("planHintsOf and the stage transform, exactly", () => {
  it("drops the mode hints only", () => {
    assert.strictEqual(planHintsOf(undefined), undefined)
    assert.deepStrictEqual(planHintsOf({ primary: true, requiresCloud: true, requires_cloud: false, executionMode: "mcp" }), { primary: true })
  })

  it("decodes to executionMode and plan only when there are some, and encodes as it is", () => {
    const decode = Schema.decodeUnknownSync(StageModeFromConfig)
    assert.deepStrictEqual(decode({}), {})
    assert.deepStrictEqual(decode({ mode: " CLOUD " }), { executionMode: "cloud" })
    assert.deepStrictEqual(decode({ plan: { default: true, requiresCloud: false } }), { plan: { default: true }, executionMode: "mcp" })
    assert.deepStrictEqual(Schema.encodeSync(StageModeFromConfig)({ executionMode: "cloud" }), { executionMode: "cloud" })
  })

  it("a mode word is trimmed and case-folded; any other word names what it got", () => {
    const decode = Schema.decodeUnknownEither(ModeWord)
    assert.deepStrictEqual(decode(" Mcp "), Either.right("mcp"))
    const error = Either.getOrThrow(Either.flip(decode("cloudy")))
    assert.deepStrictEqual(ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) => issue.message), [
      "must be \"mcp\" or \"cloud\" (got \"cloudy\")"
    ])
    assert.deepStrictEqual(Schema.encodeSync(ModeWord)("cloud"), "cloud")
  })
})
