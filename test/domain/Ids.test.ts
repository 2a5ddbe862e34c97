import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import { idProblem, makeRunId, parseTaskId, slugify } from "../../src/domain/Ids.js"

describe("ID-1 sanitiser", () => {
  it("rejects in the documented order", () => {
    assert.strictEqual(idProblem(""), "value must be a non-empty string.")
    assert.strictEqual(idProblem("a\u0001b"), "control characters are not allowed.")
    assert.strictEqual(idProblem("a:b"), "character \":\" is not allowed.")
    assert.strictEqual(idProblem("../x"), "leading dots are not allowed.")
    assert.strictEqual(idProblem("a/b"), "slashes are not allowed.")
    assert.strictEqual(idProblem("ok-id_1.2"), undefined)
    assert.strictEqual(idProblem("a..b"), undefined)
  })

  it("names the variable a bad task id came from", () => {
    const result = parseTaskId("a/b", "MCP_RUNNER_TASK_ID")
    assert.isTrue(Either.isLeft(result))
    if (Either.isLeft(result)) {
      assert.include(result.left.message, "Invalid MCP_RUNNER_TASK_ID \"a/b\": Invalid task ID \"a/b\": slashes are not allowed.")
    }
  })
})

describe("ID-2 and ID-5", () => {
  it("builds run ids from the timestamp and 8 hex digits", () => {
    assert.strictEqual(makeRunId(Date.UTC(2025, 10, 24, 0, 30, 9, 180), "33452943"), "2025-11-24T00-30-09-180Z-33452943")
  })

  it("slugs stage ids for file names", () => {
    assert.strictEqual(slugify("  Build & Test!! "), "Build-Test")
    assert.strictEqual(slugify("///"), "command")
    assert.strictEqual(slugify("x".repeat(100)).length, 80)
  })
})
