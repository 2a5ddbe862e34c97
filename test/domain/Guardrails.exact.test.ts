/** MAN-5's guard filter to the exact value (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { computeGuardrailStatus } from "../../src/domain/Guardrails.js"
import type { CommandEntry } from "../../src/domain/Manifest.js"

describe("guardrail status, exactly", () => {
  it("a command entry without a command is no guardrail", () => {
    const entry: CommandEntry = {
      index: 1, id: "spec-guard", title: "spec-guard", command: null, kind: "command", status: "succeeded",
      started_at: null, completed_at: null, exit_code: null, summary: null, log_path: null, error_file: null, sub_run_id: null
    }
    assert.deepStrictEqual(computeGuardrailStatus([entry], false, "t").counts, { total: 0, succeeded: 0, failed: 0, skipped: 0, other: 0 })
  })
})
