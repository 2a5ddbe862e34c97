/**
 * CP-4's validation messages for every kind of value a rule wants, and the $-path rules, to the exact
 * text (mutation testing, issue 16); test/ControlPlane.test.ts covers literals, enums, objects and
 * struct-level rules.
 */
import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import type { RunRequestV2 } from "../../src/domain/RunRequest.js"
import { buildRunRequest } from "../../src/domain/RunRequestBuilder.js"
import { jsonPath, validateRunRequest } from "../../src/domain/RunRequestValidation.js"
import { noGroupSettings } from "../../src/domain/TfgrpoGroup.js"
import { commandStage, pipeline } from "../support/pipelines.js"

const valid = (): RunRequestV2 =>
  Either.getOrThrowWith(
    buildRunRequest({
      task: { id: "demo-task", slug: "demo-task", title: "Task demo-task" },
      pipeline: pipeline("trivial", [commandStage("hello", "echo hello")], { title: "Trivial" }),
      group: noGroupSettings,
      runId: "2025-11-24T00-30-09-180Z-33452943",
      paths: { artifactRoot: ".runs/demo-task/cli/r", runsRoot: ".runs", outRoot: "out" },
      requestedAt: "2025-11-24T00:30:09.180Z"
    }),
    (error) => new Error(error.message)
  )

describe("validateRunRequest: what each rule wants, in words", () => {
  it("booleans, strings, numbers and arrays by their kind; refinements by the kind they refine", () => {
    const request = valid()
    const issues = validateRunRequest({
      ...request,
      task: { ...request.task, description: 5 },
      pipeline: { ...request.pipeline, stages: "hello" },
      schedule: { ...request.schedule, fanOut: [{ capability: "general", weight: "heavy" }] },
      streaming: { ...request.streaming, handles: 1 },
      requestedAt: 20251124
    })
    assert.deepStrictEqual(issues, [
      { path: "$.task.description", message: "Expected a string, actual 5", value: 5, expected: "a string" },
      { path: "$.pipeline.stages", message: `Expected an array, actual "hello"`, value: "hello", expected: "an array" },
      {
        path: "$.schedule.fanOut[0].weight",
        message: `Expected a number, actual "heavy"`,
        value: "heavy",
        expected: "a number"
      },
      { path: "$.streaming.handles", message: "Expected a boolean, actual 1", value: 1, expected: "a boolean" },
      { path: "$.requestedAt", message: "Expected a string, actual 20251124", value: 20251124, expected: "a string" }
    ])
  })

  it("null and undefined values: null is kept as the value, undefined is left out", () => {
    const request = valid()
    assert.deepStrictEqual(validateRunRequest({ ...request, task: null, constraints: undefined }), [
      { path: "$.task", message: "Expected an object, actual null", value: null, expected: "an object" },
      { path: "$.constraints", message: "Expected an object, actual undefined", expected: "an object" }
    ])
  })

  it("a long value is cut to 79 characters and an ellipsis; one JSON cannot write is named as String does", () => {
    const request = valid()
    const long = "x".repeat(100)
    const symbol = Symbol("v2")
    assert.deepStrictEqual(validateRunRequest({ ...request, schema: long, version: symbol }), [
      {
        path: "$.schema",
        message: `Expected codex.control-plane.run-request, actual ${JSON.stringify(long).slice(0, 79)}…`,
        value: long,
        expected: "codex.control-plane.run-request"
      },
      { path: "$.version", message: "Expected 2.0.0, actual Symbol(v2)", value: symbol, expected: "2.0.0" }
    ])
    const eighty = "y".repeat(78)
    assert.deepStrictEqual(
      validateRunRequest({ ...request, schema: eighty }).map((issue) => issue.message),
      [`Expected codex.control-plane.run-request, actual ${JSON.stringify(eighty)}`]
    )
  })

  it("a refinement's failure is worded by the innermost rule that failed: int() for 1.5, the timestamp's description", () => {
    const request = valid()
    assert.deepStrictEqual(
      validateRunRequest({ ...request, metrics: { ...request.metrics, emitIntervalSeconds: 1.5 }, requestedAt: "2025-13-45T99:99Z" }),
      [
        {
          path: "$.metrics.emitIntervalSeconds",
          message: "Expected an integer, actual 1.5",
          value: 1.5,
          expected: "an integer"
        },
        {
          path: "$.requestedAt",
          message: `Expected an ISO-8601 timestamp such as 2025-11-24T00:30:09.180Z, actual "2025-13-45T99:99Z"`,
          value: "2025-13-45T99:99Z",
          expected: "an ISO-8601 timestamp such as 2025-11-24T00:30:09.180Z"
        }
      ]
    )
  })
})

describe("jsonPath", () => {
  it("a name is a JavaScript identifier: letters, digits, _ and $, not starting with a digit", () => {
    assert.strictEqual(jsonPath(["_a$1", "$x", "Z9"]), "$._a$1.$x.Z9")
    assert.strictEqual(jsonPath(["1a", "a b", ""]), `$["1a"]["a b"][""]`)
    assert.strictEqual(jsonPath([Symbol.for("s"), 2]), `$["Symbol(s)"][2]`)
  })
})

describe("RunRequestV2's own rules (CP-4)", () => {
  const problems = (overrides: Partial<Record<keyof RunRequestV2, unknown>>) =>
    validateRunRequest({ ...valid(), ...overrides }).map((issue) => issue.path)

  it("requestedAt: date, T, hours and minutes, optional seconds and fraction, then Z or an offset; a real date", () => {
    for (const good of ["2025-11-24T00:30:09.180Z", "2025-11-24T00:30:09Z", "2025-11-24T00:30Z", "2025-11-24T23:59:59.5+01:00"]) {
      assert.deepStrictEqual(problems({ requestedAt: good }), [], good)
    }
    for (
      const bad of [
        "2025-11-24 00:30:09Z",
        "2025-11-24T00:30:09.180",
        "2025-11-24T00:30:09.Z",
        "2025-11-24T00:30:9Z",
        "25-11-24T00:30Z",
        "x2025-11-24T00:30Z",
        "2025-11-24T00:30Zx",
        "2025-11-24T00:30+0100",
        "2025-13-45T00:30Z"
      ]
    ) {
      assert.deepStrictEqual(problems({ requestedAt: bad }), ["$.requestedAt"], bad)
    }
  })

  it("maxInstances may equal minInstances", () => {
    const request = valid()
    assert.deepStrictEqual(problems({ schedule: { ...request.schedule, minInstances: 2, maxInstances: 2 } }), [])
  })
})
