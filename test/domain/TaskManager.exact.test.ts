/** The TaskManager's pure rules (TM-1..3, GRP-1, GRP-2) to the exact value (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import type { PlanItem, PlanResult } from "../../src/domain/Plan.js"
import {
  errorMessageOf,
  groupEntryOf,
  groupTargets,
  selectTarget,
  stageErrorText,
  unavailablePlan
} from "../../src/domain/TaskManager.js"

const item = (id: string, extra: Partial<PlanItem> = {}): PlanItem => ({
  id,
  description: id,
  requires_cloud: false,
  runnable: true,
  metadata: { pipelineId: "p", stageId: id, stageKind: "command", index: 1, requiresCloud: false },
  ...extra
})

const plan = (items: ReadonlyArray<PlanItem>, targetId: string | null = null): PlanResult => ({ items, targetId })

const selectedId = (result: Either.Either<PlanItem, string>) => Either.map(result, (chosen) => chosen.id)

describe("errorMessageOf and stageErrorText, exactly", () => {
  it("an Error's message, an object's string message, a string, JSON, else String()", () => {
    assert.strictEqual(errorMessageOf(new Error("boom")), "boom")
    assert.strictEqual(errorMessageOf({ message: "from object" }), "from object")
    assert.strictEqual(errorMessageOf({ message: 7 }), "{\"message\":7}")
    assert.strictEqual(errorMessageOf("plain"), "plain")
    assert.strictEqual(errorMessageOf(null), "null")
    assert.strictEqual(errorMessageOf(undefined), "undefined")
    assert.strictEqual(errorMessageOf(12), "12")
    const circular: { self?: unknown } = {}
    circular.self = circular
    assert.strictEqual(errorMessageOf(circular), "[object Object]")
    assert.strictEqual(errorMessageOf(Symbol.for("s")), "Symbol(s)")
  })

  it("prefixes the stage", () => {
    assert.strictEqual(stageErrorText("Builder", new Error("no")), "Builder stage error: no")
  })

  it("the unavailable plan carries the message as its notes and no target", () => {
    assert.deepStrictEqual(unavailablePlan("down"), { items: [], notes: "down", targetId: null })
  })
})

describe("selectTarget, exactly", () => {
  it("the first selected item wins over the target and over runnable ones", () => {
    const items = [item("a"), item("b", { selected: true }), item("c", { selected: true })]
    assert.deepStrictEqual(selectedId(selectTarget(plan(items, "a"))), Either.right("b"))
  })

  it("else the item named by targetId, runnable or not", () => {
    const items = [item("a"), item("b", { runnable: false }), item("c", { selected: false })]
    assert.deepStrictEqual(selectedId(selectTarget(plan(items, "b"))), Either.right("b"))
  })

  it("else the only runnable item; a targetId naming nothing is passed over", () => {
    const items = [item("a", { runnable: false }), item("b")]
    assert.deepStrictEqual(selectedId(selectTarget(plan(items, "zz"))), Either.right("b"))
    assert.deepStrictEqual(selectedId(selectTarget(plan(items))), Either.right("b"))
  })

  it("the documented messages otherwise", () => {
    assert.deepStrictEqual(selectTarget(plan([])), Either.left("Planner returned no executable subtasks."))
    assert.deepStrictEqual(
      selectTarget(plan([item("a"), item("b", { runnable: false }), item("c")])),
      Either.left(
        "Planner returned multiple runnable subtasks without a selection (a, c). Specify a target stage or update the planner configuration."
      )
    )
    assert.deepStrictEqual(
      selectTarget(plan([item("a", { runnable: false })])),
      Either.left("Planner returned no runnable subtasks after applying selection and target hints.")
    )
  })
})

describe("groupTargets and groupEntryOf, exactly", () => {
  it("the runnable items, the target first, else the first selected runnable one, then plan order", () => {
    const items = [item("a"), item("b", { runnable: false }), item("c", { selected: true }), item("d"), item("e", { selected: true })]
    assert.deepStrictEqual(groupTargets(plan(items, "d")).map((chosen) => chosen.id), ["d", "a", "c", "e"])
    assert.deepStrictEqual(groupTargets(plan(items, "b")).map((chosen) => chosen.id), ["c", "a", "d", "e"])
    assert.deepStrictEqual(groupTargets(plan([item("a"), item("b")])).map((chosen) => chosen.id), ["a", "b"])
  })

  it("an entry succeeds when it built and tested, whatever the review", () => {
    const entry = groupEntryOf(2, "s", "cloud", { build: true, test: true, review: false })
    assert.deepStrictEqual(entry, {
      index: 2,
      subtaskId: "s",
      mode: "cloud",
      buildSuccess: true,
      testSuccess: true,
      reviewApproved: false,
      status: "succeeded"
    })
    assert.strictEqual(groupEntryOf(1, "s", "mcp", { build: true, test: false, review: true }).status, "failed")
    assert.strictEqual(groupEntryOf(1, "s", "mcp", { build: false, test: true, review: true }).status, "failed")
  })
})
