/** The run request's capacity, bounds and guardrails (CP-2, CP-3, CP-6) to the exact value (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { capabilitiesOf, checkGroupSize, fanOutCapacity, fanOutOf, instanceBounds } from "../../src/domain/RunRequestBuilder.js"
import { GroupSizeExceedsCapacity, GroupSizeTooSmall } from "../../src/domain/TfgrpoGroup.js"

describe("capacity and bounds, exactly", () => {
  it("a slot per entry at least, maxConcurrency when larger, one when absent", () => {
    assert.strictEqual(fanOutCapacity([]), 0)
    assert.strictEqual(fanOutCapacity([{ capability: "a", weight: 1 }]), 1)
    assert.strictEqual(fanOutCapacity([{ capability: "a", weight: 1, maxConcurrency: 0 }, { capability: "b", weight: 1, maxConcurrency: 3 }]), 4)
  })

  it("general runs two at a time, others one; tags without repeats, else general", () => {
    assert.deepStrictEqual(fanOutOf(["general", "x"]), [
      { capability: "general", weight: 1, maxConcurrency: 2 },
      { capability: "x", weight: 1, maxConcurrency: 1 }
    ])
    assert.deepStrictEqual(capabilitiesOf({ id: "p", title: "P", stages: [] }), ["general"])
    assert.deepStrictEqual(capabilitiesOf({ id: "p", title: "P", stages: [], tags: ["b", "a", "b"] }), ["b", "a"])
  })

  it("without a group: 1 to the number of entries, capped by capacity, at least 1; with one: the size, capped by capacity", () => {
    const three = fanOutOf(["a", "b", "c"])
    assert.deepStrictEqual(instanceBounds(three, undefined), { minInstances: 1, maxInstances: 3 })
    assert.deepStrictEqual(instanceBounds(fanOutOf(["general"]), undefined), { minInstances: 1, maxInstances: 1 })
    assert.deepStrictEqual(instanceBounds([], undefined), { minInstances: 1, maxInstances: 1 })
    assert.deepStrictEqual(instanceBounds(three, 2), { minInstances: 2, maxInstances: 2 })
    assert.deepStrictEqual(instanceBounds(three, 5), { minInstances: 5, maxInstances: 3 })
  })

  it("a group of 2 up to the capacity passes; 1 and capacity + 1 do not", () => {
    assert.isUndefined(checkGroupSize(undefined, 0))
    assert.isUndefined(checkGroupSize(2, 2))
    assert.isUndefined(checkGroupSize(3, 3))
    const small = checkGroupSize(1, 5)
    assert.instanceOf(small, GroupSizeTooSmall)
    assert.strictEqual(small?.groupSize, 1)
    const large = checkGroupSize(4, 3)
    assert.instanceOf(large, GroupSizeExceedsCapacity)
    assert.deepStrictEqual(large instanceof GroupSizeExceedsCapacity ? [large.groupSize, large.capacity] : [], [4, 3])
  })
})
