/** The stage graph's pure rules (DECISIONS B-2): dependencies, validation, levels, scheduling choices, critical path. */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { decodeJsonFile, InvalidFile } from "../../src/domain/FileErrors.js"
import { PipelineConfigFile } from "../../src/domain/Pipeline.js"
import {
  blockedStages,
  criticalPathOf,
  dependenciesOf,
  type GraphNode,
  graphIssues,
  isGraph,
  isSkippedForNeeds,
  levelsOf,
  type NodeState,
  startable,
  targetExclusions
} from "../../src/domain/StageGraph.js"

const node = (id: string, needs?: ReadonlyArray<string>, lock?: string): GraphNode => ({ id, needs, lock })
const diamond = [node("a", []), node("b", ["a"]), node("c", ["a"]), node("d", ["b", "c"])]

describe("dependenciesOf", () => {
  it("B-2: without any needs, each stage needs the one before (serial, as before)", () => {
    const serial = [node("a"), node("b"), node("c")]
    assert.isFalse(isGraph(serial))
    assert.deepStrictEqual(dependenciesOf(serial), [[], [0], [1]])
  })

  it("B-2: once one stage declares needs, every stage needs exactly what it declares", () => {
    const graph = [node("a"), node("b"), node("c", ["a"])]
    assert.isTrue(isGraph(graph))
    assert.deepStrictEqual(dependenciesOf(graph), [[], [], [0]])
    assert.deepStrictEqual(dependenciesOf(diamond), [[], [0], [0], [1, 2]])
  })
})

describe("graphIssues", () => {
  it("B-2: a valid graph has none", () => {
    assert.deepStrictEqual(graphIssues(diamond), [])
  })

  it("B-2: unknown ids, self-needs and a cycle named a -> b -> c -> a, all at once", () => {
    const bad = [node("a", ["c"]), node("b", ["a", "ghost"]), node("c", ["b"]), node("d", ["d"])]
    assert.deepStrictEqual(graphIssues(bad), [
      { position: 1, message: "stage \"b\" needs unknown stage \"ghost\"; stage ids here: a, b, c, d" },
      { position: 3, message: "stage \"d\" needs itself; remove \"d\" from its needs" },
      { position: 0, message: "needs form a cycle: a -> c -> b -> a (each needs the next); remove one of these needs" }
    ])
  })

  it("B-2: each of two separate cycles is named once", () => {
    const issues = graphIssues([node("a", ["b"]), node("b", ["a"]), node("c", ["d"]), node("d", ["c"])])
    assert.deepStrictEqual(issues.map((i) => i.message.split(" (")[0]), [
      "needs form a cycle: a -> b -> a",
      "needs form a cycle: c -> d -> c"
    ])
  })

  it.effect("B-2: decoding a config lists every graph problem under stages.<n>.needs (D-1: exit 2 before anything runs)", () =>
    Effect.gen(function*() {
      const config = {
        pipelines: [{
          id: "p",
          title: "P",
          stages: [
            { kind: "command", id: "a", title: "a", command: "true", needs: ["b"] },
            { kind: "command", id: "b", title: "b", command: "true", needs: ["a", "nope"] }
          ]
        }]
      }
      const error = yield* Effect.flip(decodeJsonFile(PipelineConfigFile, "codex.orchestrator.json")(JSON.stringify(config)))
      assert.instanceOf(error, InvalidFile)
      assert.deepStrictEqual(error.issues, [
        "pipelines.0.stages.1.needs (pipeline \"p\", stage \"b\"): stage \"b\" needs unknown stage \"nope\"; stage ids here: a, b",
        "pipelines.0.stages.0.needs (pipeline \"p\", stage \"a\"): needs form a cycle: a -> b -> a (each needs the next); remove one of these needs"
      ])
    }))
})

describe("levelsOf", () => {
  it("B-2: a diamond has three levels; a serial pipeline one stage a level", () => {
    assert.deepStrictEqual(levelsOf(diamond), [[0], [1, 2], [3]])
    assert.deepStrictEqual(levelsOf([node("x"), node("y")]), [[0], [1]])
  })
})

describe("startable", () => {
  const deps = dependenciesOf(diamond)
  it("B-2: starts what is ready, in pipeline order, up to the free slots", () => {
    assert.deepStrictEqual(startable(diamond, deps, ["waiting", "waiting", "waiting", "waiting"], 4), [0])
    assert.deepStrictEqual(startable(diamond, deps, ["ok", "waiting", "waiting", "waiting"], 4), [1, 2])
    assert.deepStrictEqual(startable(diamond, deps, ["ok", "waiting", "waiting", "waiting"], 1), [1])
    assert.deepStrictEqual(startable(diamond, deps, ["ok", "ok", "running", "waiting"], 4), [])
  })

  it("B-2: stages sharing a lock never overlap", () => {
    const locked = [node("a", [], "dist"), node("b", [], "dist"), node("c", [])]
    const d = dependenciesOf(locked)
    assert.deepStrictEqual(startable(locked, d, ["waiting", "waiting", "waiting"], 8), [0, 2])
    assert.deepStrictEqual(startable(locked, d, ["running", "waiting", "ok"], 8), [])
    assert.deepStrictEqual(startable(locked, d, ["ok", "waiting", "ok"], 8), [1])
  })
})

describe("blockedStages", () => {
  it("B-2: a failed stage's dependents are skipped, transitively, and nothing else", () => {
    const graph = [...diamond, node("e", [])]
    const state: ReadonlyArray<NodeState> = ["ok", "failed", "running", "waiting", "waiting"]
    assert.deepStrictEqual(blockedStages(graph, dependenciesOf(graph), state), [{ position: 3, reason: "needs b (failed)" }])
    const chain = [node("a", []), node("b", ["a"]), node("c", ["b"])]
    assert.deepStrictEqual(blockedStages(chain, dependenciesOf(chain), ["failed", "waiting", "waiting"]), [
      { position: 1, reason: "needs a (failed)" },
      { position: 2, reason: "needs b (skipped)" }
    ])
  })

  it("B-2: the reason is recognised on resume", () => {
    assert.isTrue(isSkippedForNeeds("needs b (failed)"))
    assert.isFalse(isSkippedForNeeds("not targeted"))
    assert.isFalse(isSkippedForNeeds(null))
  })
})

describe("criticalPathOf", () => {
  const timed = (id: string, start: number, end: number) => ({
    id,
    started_at: new Date(start * 1000).toISOString(),
    completed_at: new Date(end * 1000).toISOString()
  })

  it("B-2: the chain that set the wall time, through the dependency that finished last", () => {
    const stages = [timed("a", 0, 1), timed("b", 1, 2), timed("c", 1, 4), timed("d", 4, 5)]
    assert.deepStrictEqual(criticalPathOf(stages, dependenciesOf(diamond)), { stages: ["a", "c", "d"], seconds: 5 })
  })

  it("B-2: nothing ran, no path", () => {
    assert.isUndefined(criticalPathOf([{ id: "a", started_at: null, completed_at: null }], [[]]))
  })
})

describe("targetExclusions", () => {
  it("B-2: a target on a graph must not exclude a need that has not succeeded; serial pipelines keep D-4", () => {
    const error = targetExclusions(diamond, "d", (p) => p === 1)
    assert.deepStrictEqual(error?.missing, ["c"])
    assert.include(error?.message ?? "", "--target d excludes 'c'")
    assert.isUndefined(targetExclusions(diamond, "d", () => true))
    assert.isUndefined(targetExclusions([node("a"), node("b")], "b", () => false))
  })
})
