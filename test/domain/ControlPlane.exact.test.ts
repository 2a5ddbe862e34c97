/** The drift report, the manifest's control-plane section and its error (CP-4, CP-5, CP-8) to the exact value (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import {
  ControlPlaneValidationFailed,
  controlPlaneSectionOf,
  controlPlaneSummaryOf,
  driftReportSegments,
  emptyDriftReport,
  updateDriftReport,
  type ValidationSample
} from "../../src/domain/ControlPlane.js"
import type { ValidationIssue } from "../../src/domain/RunRequestValidation.js"

const issue = (n: number): ValidationIssue => ({ path: `$.f${n}`, message: `bad ${n}` })
const sample = (n: number, errors: ReadonlyArray<ValidationIssue> = [], mode: "shadow" | "enforce" = "shadow"): ValidationSample => ({
  requestId: `r${n}`,
  timestamp: `t${n}`,
  mode,
  errors
})

describe("updateDriftReport, exactly", () => {
  it("passing samples after the first only count; failed ones add entries; the mode is the last sample's", () => {
    const first = updateDriftReport(undefined, sample(1))
    const second = updateDriftReport(first, sample(2))
    const third = updateDriftReport(second, sample(3, [issue(1)], "enforce"))
    assert.deepStrictEqual(third, {
      schema_id: "codex.control-plane.run-request",
      schema_version: "2.0.0",
      total_samples: 3,
      invalid_samples: 1,
      invalid_rate: 1 / 3,
      last_sampled_at: "t3",
      mode: "enforce",
      entries: [
        { request_id: "r1", timestamp: "t1", status: "passed", mode: "shadow", errors: [] },
        { request_id: "r3", timestamp: "t3", status: "failed", mode: "enforce", errors: [issue(1)] }
      ]
    })
    assert.deepStrictEqual(emptyDriftReport("enforce").mode, "enforce")
    assert.deepStrictEqual(emptyDriftReport("shadow").entries, [])
  })

  it("keeps the newest 50 entries", () => {
    let report = updateDriftReport(undefined, sample(0, [issue(0)]))
    for (let n = 1; n <= 50; n += 1) report = updateDriftReport(report, sample(n, [issue(n)]))
    assert.strictEqual(report.entries.length, 50)
    assert.strictEqual(report.entries[0]?.request_id, "r1")
    assert.strictEqual(report.entries[49]?.request_id, "r50")
    assert.strictEqual(report.invalid_rate, 1)
  })
})

describe("the section, the summary and the error, exactly", () => {
  it("enforce mode records its activation; shadow does not", () => {
    const enforced = sample(1, [issue(1)], "enforce")
    const report = updateDriftReport(undefined, enforced)
    const section = controlPlaneSectionOf(enforced, report, "out/t/control-plane/drift.json")
    assert.deepStrictEqual(section, {
      schema_id: "codex.control-plane.run-request",
      schema_version: "2.0.0",
      request_id: "r1",
      validation: { mode: "enforce", status: "failed", timestamp: "t1", errors: [issue(1)] },
      drift: {
        report_path: "out/t/control-plane/drift.json",
        total_samples: 1,
        invalid_samples: 1,
        invalid_rate: 1,
        last_sampled_at: "t1",
        mode: "enforce"
      },
      enforcement: { enabled: true, activated_at: "t1" }
    })
    const shadow = controlPlaneSectionOf(sample(2), updateDriftReport(undefined, sample(2)), "d.json")
    assert.deepStrictEqual(shadow.enforcement, { enabled: false, activated_at: null })
    assert.strictEqual(shadow.validation.status, "passed")
    assert.deepStrictEqual(controlPlaneSummaryOf(section), {
      schemaId: "codex.control-plane.run-request",
      schemaVersion: "2.0.0",
      requestId: "r1",
      validation: section.validation,
      drift: {
        reportPath: "out/t/control-plane/drift.json",
        totalSamples: 1,
        invalidSamples: 1,
        invalidRate: 1,
        lastSampledAt: "t1",
        mode: "enforce"
      }
    })
    assert.deepStrictEqual(driftReportSegments("t"), ["t", "control-plane", "drift.json"])
  })

  it("the headline counts errors, singular for one; the message lists three and counts the rest", () => {
    const section = controlPlaneSectionOf(sample(1), updateDriftReport(undefined, sample(1)), "d.json")
    const one = new ControlPlaneValidationFailed({ errors: [issue(1)], section })
    assert.strictEqual(one.headline, "Control plane validation failed (1 error).")
    assert.strictEqual(one.summaryLine, "Control plane validation failed: Control plane validation failed (1 error).")
    const fix = "Fix the pipeline or task definition, or set CODEX_CONTROL_PLANE_MODE=shadow to record without blocking."
    assert.strictEqual(one.message, `Control plane validation failed (1 error). $.f1: bad 1. ${fix}`)
    const three = new ControlPlaneValidationFailed({ errors: [issue(1), issue(2), issue(3)], section })
    assert.strictEqual(three.message, `Control plane validation failed (3 errors). $.f1: bad 1; $.f2: bad 2; $.f3: bad 3. ${fix}`)
    const five = new ControlPlaneValidationFailed({ errors: [1, 2, 3, 4, 5].map(issue), section })
    assert.strictEqual(five.message, `Control plane validation failed (5 errors). $.f1: bad 1; $.f2: bad 2; $.f3: bad 3; and 2 more. ${fix}`)
  })
})
