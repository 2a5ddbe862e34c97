/** The cluster's routing rules and messages to the exact value (B-3, issue 18; mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { Either, ParseResult, Schema } from "effect"
import {
  entityIdOf,
  groupOf,
  groupOfEntityId,
  groupsServedBy,
  Label,
  placementEntityId,
  RemoteStartFailed,
  RunnerBusy,
  StageRequest,
  StageResult
} from "../../src/domain/Cluster.js"

const labelProblem = (label: string) =>
  Either.match(Schema.decodeUnknownEither(Label)(label), {
    onLeft: (error) => ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) => issue.message),
    onRight: () => []
  })

describe("shard groups", () => {
  it("groupOf: labels sorted, each once, joined by +; none is the default group", () => {
    assert.strictEqual(groupOf([]), "default")
    assert.strictEqual(groupOf(["gpu"]), "gpu")
    assert.strictEqual(groupOf(["linux", "gpu", "linux"]), "gpu+linux")
  })

  it("groupsServedBy: the default group, then every non-empty combination in bit order", () => {
    assert.deepStrictEqual(groupsServedBy([]), ["default"])
    assert.deepStrictEqual(groupsServedBy(["linux", "gpu", "gpu"]), ["default", "gpu", "linux", "gpu+linux"])
    assert.deepStrictEqual(groupsServedBy(["c", "a", "b"]), ["default", "a", "b", "a+b", "c", "a+c", "b+c", "a+b+c"])
  })

  it("entity ids: group/key, placements after the first with @n, and the group read back", () => {
    assert.strictEqual(entityIdOf(["linux", "gpu"], "run-1:build:1"), "gpu+linux/run-1:build:1")
    assert.strictEqual(placementEntityId([], "k", 0), "default/k")
    assert.strictEqual(placementEntityId(["gpu"], "k", 2), "gpu/k@2")
    assert.strictEqual(groupOfEntityId("gpu+linux/k@1"), "gpu+linux")
    assert.strictEqual(groupOfEntityId("gpu/a/b"), "gpu")
    // No group before a slash (no slash, or one at the start): the default group.
    assert.strictEqual(groupOfEntityId("/k"), "default")
    assert.strictEqual(groupOfEntityId("k"), "default")
  })
})

describe("labels, messages and defaults", () => {
  it("a label is 1-32 of [a-z0-9_-] starting with a letter or digit; others get one sentence", () => {
    const sentence = ["must be 1-32 of [a-z0-9_-], starting with a letter or digit"]
    for (const good of ["gpu", "0", "a_b-c", "x".repeat(32)]) assert.deepStrictEqual(labelProblem(good), [], good)
    for (const bad of ["", "-gpu", "GPU", "x".repeat(33), "a b"]) assert.deepStrictEqual(labelProblem(bad), sentence, bad)
  })

  it("errors say which runner and why", () => {
    assert.strictEqual(new RemoteStartFailed({ reason: "no such cwd", runner: "r1" }).message, "on runner r1: no such cwd")
    assert.strictEqual(new RunnerBusy({ runner: "r2", capacity: 3 }).message, "runner r2 is running its 3 stage(s) at once")
  })

  it("a request stored before placements waits for capacity; a result stored before events has none", () => {
    const request = Schema.decodeUnknownSync(StageRequest)({
      idempotencyKey: "k",
      runId: "r",
      stageId: "s",
      attempt: 1,
      command: "true",
      cwd: "/w",
      env: {},
      workspace: null
    })
    assert.strictEqual(request.waitForCapacity, true)
    const result = Schema.decodeUnknownSync(StageResult)({ exitCode: 0, signal: null, runner: "r", host: "h", outputSeq: 0 })
    assert.deepStrictEqual(result.events, [])
  })
})
