import { describe, it } from "@effect/vitest"
import { assert } from "vitest"
import { runsToPurge } from "../../src/domain/DesignRetention.js"
import { runStartedMs } from "../../src/domain/Ids.js"

const day = 24 * 60 * 60 * 1000
const now = Date.UTC(2026, 0, 31)
const run = (daysAgo: number, id: string) => ({ runId: id, startedMs: now - daysAgo * day })

describe("DesignRetention", () => {
  it("reads when a run started from its id, and nothing from another shape", () => {
    assert.strictEqual(runStartedMs("2026-01-02T03-04-05-678Z-0123abcd"), Date.UTC(2026, 0, 2, 3, 4, 5, 678))
    assert.isUndefined(runStartedMs("my-run"))
    assert.isUndefined(runStartedMs("2026-13-45T03-04-05-678Z-0123abcd"))
  })

  it("purges runs at least `days` old and those beyond the newest maxRuns, never the current run", () => {
    const candidates = [run(0, "current"), run(31, "old"), run(1, "a"), run(2, "b"), run(3, "c"), run(30, "edge")]
    const verdicts = runsToPurge(candidates, { nowMs: now, days: 30, maxRuns: 3, currentRunId: "current" })
    assert.deepStrictEqual(verdicts.map((v) => [v.runId, v.reason]), [["c", "over-max-runs"], ["edge", "expired"], ["old", "expired"]])
    assert.deepStrictEqual(runsToPurge(candidates, { nowMs: now, days: 365, maxRuns: undefined, currentRunId: "current" }), [])
    assert.deepStrictEqual(
      runsToPurge([run(400, "current")], { nowMs: now, days: 1, maxRuns: 1, currentRunId: "current" }),
      []
    )
  })
})
