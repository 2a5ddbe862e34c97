/** PER-3's runs.json ordering to the exact value (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { emptySnapshot, recordRunIn, type TaskRunRecord } from "../../src/domain/TaskState.js"

const record = (runId: string, timestamp: string): TaskRunRecord => ({
  runId,
  timestamp,
  mode: "mcp",
  subtaskId: runId,
  buildSuccess: true,
  testSuccess: true,
  reviewApproved: true,
  summary: `run ${runId}`
})

describe("recordRunIn, exactly", () => {
  it("runs with the same timestamp keep their arrival order; an older one goes before them", () => {
    const first = recordRunIn(emptySnapshot("t"), record("a", "2026-01-01T00:00:01.000Z"))
    const second = recordRunIn(first, record("b", "2026-01-01T00:00:01.000Z"))
    assert.deepStrictEqual(second.runs.map((run) => run.runId), ["a", "b"])
    const third = recordRunIn(second, record("c", "2026-01-01T00:00:00.000Z"))
    assert.deepStrictEqual(third.runs.map((run) => run.runId), ["c", "a", "b"])
    assert.strictEqual(third.lastRunAt, "2026-01-01T00:00:01.000Z")
    assert.strictEqual(third.taskId, "t")
  })

  it("the same run id replaces its record in its new place", () => {
    const two = recordRunIn(recordRunIn(emptySnapshot("t"), record("a", "2026-01-01T00:00:01.000Z")), record("b", "2026-01-01T00:00:02.000Z"))
    const moved = recordRunIn(two, record("a", "2026-01-01T00:00:03.000Z"))
    assert.deepStrictEqual(moved.runs.map((run) => [run.runId, run.timestamp]), [
      ["b", "2026-01-01T00:00:02.000Z"],
      ["a", "2026-01-01T00:00:03.000Z"]
    ])
    assert.strictEqual(moved.lastRunAt, "2026-01-01T00:00:03.000Z")
  })
})
