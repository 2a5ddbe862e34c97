/**
 * The stage graph's rules (DECISIONS B-2) checked to the exact value where the outcome-level tests in
 * StageGraph.test.ts left room: the recorded needs and their changes on resume (RUN-9), cycle paths
 * entered from outside the cycle, the boundaries of scheduling, skipping and the critical path, and
 * the `--target` message word for word.
 */
import { assert, describe, it } from "@effect/vitest"
import {
  blockedStages,
  criticalPathOf,
  dependenciesOf,
  type GraphNode,
  graphIssues,
  isSkippedForNeeds,
  levelsOf,
  needsChanges,
  recordedNeedsOf,
  startable,
  targetExclusions
} from "../../src/domain/StageGraph.js"

const node = (id: string, needs?: ReadonlyArray<string>, lock?: string): GraphNode => ({ id, needs, lock })

describe("recordedNeedsOf and needsChanges (B-2, RUN-9)", () => {
  it("a serial pipeline records no needs; a graph records what each stage declares, [] for none", () => {
    assert.deepStrictEqual(recordedNeedsOf([node("a"), node("b")]), [undefined, undefined])
    assert.deepStrictEqual(recordedNeedsOf([node("a"), node("b", ["a"])]), [[], ["a"]])
  })

  it("unchanged needs, in any order, are no change", () => {
    const stages = [node("a", []), node("b", []), node("c", ["a", "b"])]
    assert.deepStrictEqual(needsChanges(stages, [[], [], ["b", "a"]]), [])
    assert.deepStrictEqual(needsChanges([node("a"), node("b")], [undefined, undefined]), [])
  })

  it("one line per changed stage, the recorded needs first, a serial stage read as `the stage before`", () => {
    const stages = [node("a", []), node("b", ["a"]), node("c", ["a", "b"])]
    assert.deepStrictEqual(needsChanges(stages, [undefined, undefined, ["a"]]), [
      "a: needs the stage before -> []",
      "b: needs the stage before -> [a]",
      "c: needs [a] -> [a, b]"
    ])
    assert.deepStrictEqual(needsChanges([node("a"), node("b")], [[], ["a"]]), [
      "a: needs [] -> the stage before",
      "b: needs [a] -> the stage before"
    ])
  })

  it("ids are compared whole: [ab] is not [a, b]", () => {
    assert.deepStrictEqual(needsChanges([node("a", []), node("b", []), node("ab", ["a", "b"])], [[], [], ["ab"]]), [
      "ab: needs [ab] -> [a, b]"
    ])
  })
})

describe("dependenciesOf on a graph", () => {
  it("drops a repeated need, a self-need and an unknown id; a stage without needs waits for nothing", () => {
    const stages = [node("a"), node("b", ["a", "a", "b", "ghost"]), node("c", ["b", "a"])]
    assert.deepStrictEqual(dependenciesOf(stages), [[], [0], [1, 0]])
  })
})

describe("graphIssues: cycles", () => {
  it("a cycle entered from a stage outside it is named from its first stage in pipeline order, at that stage", () => {
    const stages = [node("x", ["c"]), node("a", ["c"]), node("b", ["a"]), node("c", ["b"])]
    assert.deepStrictEqual(graphIssues(stages), [
      { position: 1, message: "needs form a cycle: a -> c -> b -> a (each needs the next); remove one of these needs" }
    ])
  })

  it("two cycles sharing a stage are both named, each once", () => {
    const stages = [node("a", ["b", "c"]), node("b", ["a"]), node("c", ["a"])]
    assert.deepStrictEqual(graphIssues(stages).map((issue) => [issue.position, issue.message.split(" (")[0]]), [
      [0, "needs form a cycle: a -> b -> a"],
      [0, "needs form a cycle: a -> c -> a"]
    ])
  })

  it("two cycles are told apart by their whole positions, not their digits run together (1,23,4 and 12,34)", () => {
    const needs = new Map([[1, 23], [23, 4], [4, 1], [12, 34], [34, 12]])
    const stages = Array.from({ length: 35 }, (_, p) => node(`s${p}`, needs.has(p) ? [`s${needs.get(p)}`] : []))
    assert.deepStrictEqual(graphIssues(stages).map((issue) => issue.message.split(" (")[0]), [
      "needs form a cycle: s1 -> s23 -> s4 -> s1",
      "needs form a cycle: s12 -> s34 -> s12"
    ])
  })

  it("each stage is walked once: a chain of 40 diamonds (2^40 paths) is checked at once", () => {
    // d0 <- (l0, r0) <- d1 <- (l1, r1) <- d2 ...: every path from the last diamond to the first.
    const stages = [node("d0", [])]
    for (let i = 0; i < 40; i++) stages.push(node(`l${i}`, [`d${i}`]), node(`r${i}`, [`d${i}`]), node(`d${i + 1}`, [`l${i}`, `r${i}`]))
    assert.deepStrictEqual(graphIssues(stages), [])
    assert.strictEqual(levelsOf(stages).length, 81)
  })

  it("a self-need is reported as such, not as a cycle, and an unknown id lists every stage", () => {
    assert.deepStrictEqual(graphIssues([node("solo", ["solo", "x"])]), [
      { position: 0, message: "stage \"solo\" needs itself; remove \"solo\" from its needs" },
      { position: 0, message: "stage \"solo\" needs unknown stage \"x\"; stage ids here: solo" }
    ])
  })
})

describe("levelsOf", () => {
  it("a stage at the level after its deepest need; stages of one level in pipeline order", () => {
    const stages = [node("d", ["b", "c"]), node("a", []), node("b", ["a"]), node("c", ["b"]), node("e", [])]
    assert.deepStrictEqual(levelsOf(stages), [[1, 4], [2], [3], [0]])
  })

  it("a cycle (refused before plan shows it) still ends", () => {
    assert.deepStrictEqual(levelsOf([node("a", ["b"]), node("b", ["a"])]), [[1], [0]])
  })
})

describe("startable: boundaries", () => {
  const free = [node("a", []), node("b", []), node("c", [])]
  const deps = dependenciesOf(free)

  it("no free slot starts nothing; exactly as many as the free slots otherwise", () => {
    assert.deepStrictEqual(startable(free, deps, ["waiting", "waiting", "waiting"], 0), [])
    assert.deepStrictEqual(startable(free, deps, ["waiting", "waiting", "waiting"], 2), [0, 1])
  })

  it("only a waiting stage starts, and only once every need is ok (not running, failed or skipped)", () => {
    assert.deepStrictEqual(startable(free, deps, ["running", "ok", "failed"], 3), [])
    const chain = [node("a", []), node("b", ["a"])]
    const d = dependenciesOf(chain)
    for (const state of ["running", "failed", "skipped", "cancelled", "waiting"] as const) {
      assert.deepStrictEqual(startable(chain, d, [state, "waiting"], 2), state === "waiting" ? [0] : [], state)
    }
  })

  it("a lock is held by a running stage only: a finished or waiting holder does not block", () => {
    const locked = [node("a", [], "dist"), node("b", ["a"], "dist"), node("c", [], "other")]
    const d = dependenciesOf(locked)
    assert.deepStrictEqual(startable(locked, d, ["ok", "waiting", "waiting"], 3), [1, 2])
    const shared = [node("a", [], "dist"), node("b", [], "dist")]
    assert.deepStrictEqual(startable(shared, dependenciesOf(shared), ["ok", "waiting"], 2), [1])
    assert.deepStrictEqual(startable(shared, dependenciesOf(shared), ["running", "waiting"], 2), [])
  })
})

describe("blockedStages: every state that blocks", () => {
  const chain = [node("a", []), node("b", ["a"])]
  const deps = dependenciesOf(chain)

  it("failed, cancelled and skipped needs block, with the need's state in the reason", () => {
    for (const state of ["failed", "cancelled", "skipped"] as const) {
      assert.deepStrictEqual(blockedStages(chain, deps, [state, "waiting"]), [{ position: 1, reason: `needs a (${state})` }])
    }
  })

  it("ok, running and waiting needs do not; a stage that is not waiting is never blocked", () => {
    for (const state of ["ok", "running", "waiting"] as const) assert.deepStrictEqual(blockedStages(chain, deps, [state, "waiting"]), [])
    assert.deepStrictEqual(blockedStages(chain, deps, ["failed", "running"]), [])
  })

  it("a stage blocked later in pipeline order blocks an earlier dependent on the next pass", () => {
    const backwards = [node("c", ["b"]), node("b", ["a"]), node("a", [])]
    assert.deepStrictEqual(blockedStages(backwards, dependenciesOf(backwards), ["waiting", "waiting", "failed"]), [
      { position: 1, reason: "needs a (failed)" },
      { position: 0, reason: "needs b (skipped)" }
    ])
  })
})

describe("isSkippedForNeeds: the whole reason and nothing else", () => {
  it("accepts the three blocking states and rejects anything around or inside them", () => {
    for (const state of ["failed", "cancelled", "skipped"]) assert.isTrue(isSkippedForNeeds(`needs build (${state})`), state)
    for (const summary of ["needs build (ok)", "x needs b (failed)", "needs b (failed) later", "needs a b (failed)", "needs  (failed)", ""]) {
      assert.isFalse(isSkippedForNeeds(summary), summary)
    }
  })
})

describe("criticalPathOf: boundaries", () => {
  const at = (seconds: number) => new Date(seconds * 1000).toISOString()
  const timed = (id: string, start: number | null, end: number | null) => ({
    id,
    started_at: start === null ? null : at(start),
    completed_at: end === null ? null : at(end)
  })

  it("a stage that did not start or did not end, or whose end does not parse, is not on the path", () => {
    const stages = [timed("a", 0, 2), timed("b", null, 9), timed("c", 3, null), { id: "d", started_at: at(1), completed_at: "soon" }]
    assert.deepStrictEqual(criticalPathOf(stages, [[], [0], [0], [0]]), { stages: ["a"], seconds: 2 })
  })

  it("of two stages ending together the first in pipeline order is taken", () => {
    assert.deepStrictEqual(criticalPathOf([timed("a", 0, 4), timed("b", 1, 4)], [[], []]), { stages: ["a"], seconds: 4 })
    assert.deepStrictEqual(criticalPathOf([timed("a", 1, 4), timed("b", 0, 4), timed("c", 4, 6)], [[], [], [0, 1]]), {
      stages: ["a", "c"],
      seconds: 5
    })
  })

  it("a later-finishing need wins over an earlier one; the path starts at its first stage's start", () => {
    const stages = [timed("a", 2, 3), timed("b", 0, 5), timed("c", 6, 7)]
    assert.deepStrictEqual(criticalPathOf(stages, [[], [], [0, 1]]), { stages: ["b", "c"], seconds: 7 })
  })

  it("a stage that ran at the very start of the epoch is on the path", () => {
    assert.deepStrictEqual(criticalPathOf([timed("a", 0, 0)], [[]]), { stages: ["a"], seconds: 0 })
  })

  it("needs that loop end the walk; a clock that ran backwards gives 0 seconds", () => {
    assert.deepStrictEqual(criticalPathOf([timed("a", 0, 1), timed("b", 1, 2)], [[1], [0]]), { stages: ["a", "b"], seconds: 2 })
    assert.deepStrictEqual(criticalPathOf([timed("a", 5, 3)], [[]]), { stages: ["a"], seconds: 0 })
  })
})

describe("targetExclusions (B-2, D-4)", () => {
  it("names every need that has not succeeded, word for word", () => {
    const stages = [node("a", []), node("b", []), node("c", ["a", "b"])]
    const error = targetExclusions(stages, "c", () => false)
    assert.deepStrictEqual(error?.missing, ["a", "b"])
    assert.strictEqual(
      error?.message,
      "--target c excludes 'a', 'b', which 'c' needs and which has not succeeded in this run; run without --target, or run 'a', 'b' first."
    )
  })

  it("checks the first stage too (it may need a later one), and ignores a target the pipeline lacks", () => {
    const stages = [node("a", ["b"]), node("b", [])]
    assert.deepStrictEqual(targetExclusions(stages, "a", () => false)?.missing, ["b"])
    assert.isUndefined(targetExclusions(stages, "nope", () => false))
  })
})
