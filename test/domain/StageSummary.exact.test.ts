/** RUN-4's entry status to the exact value (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { commandEntryStatus } from "../../src/domain/StageSummary.js"

describe("commandEntryStatus, exactly", () => {
  it("allowFailure turns only a failure into skipped", () => {
    assert.strictEqual(commandEntryStatus(0, { allowFailure: true }), "succeeded")
    assert.strictEqual(commandEntryStatus(3, { allowFailure: true, skipExitCode: 3 }), "skipped")
    assert.strictEqual(commandEntryStatus(1, { allowFailure: true }), "skipped")
    assert.strictEqual(commandEntryStatus(null, { allowFailure: false }), "failed")
  })
})
