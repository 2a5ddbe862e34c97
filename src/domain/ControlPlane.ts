/**
 * The control plane's records (SPEC CP-1, CP-5, CP-8, TM-7): the drift report of every validation,
 * the manifest's `control_plane` section and the run summary's `controlPlane`, and the error that
 * stops an invalid run in `enforce` mode. Pure: the service in `services/ControlPlane.ts` adds the
 * clock and the file. The request itself is in `RunRequest.ts` (schema), `RunRequestBuilder.ts`,
 * `RunRequestValidation.ts` and `TfgrpoGroup.ts` (the TF-GRPO group settings and guardrails).
 */
import { Schema } from "effect"
import { runRequestSchemaId, runRequestSchemaVersion } from "./RunRequest.js"
import { ValidationIssue } from "./RunRequestValidation.js"


/** CP-1: `shadow` records validation failures, `enforce` aborts the run on them. */
export const ControlPlaneMode = Schema.Literal("shadow", "enforce")
export type ControlPlaneMode = typeof ControlPlaneMode.Type

export const driftReportMaxEntries = 50

export const DriftEntry = Schema.Struct({
  request_id: Schema.String,
  timestamp: Schema.String,
  status: Schema.Literal("passed", "failed"),
  mode: ControlPlaneMode,
  errors: Schema.Array(ValidationIssue)
})
export type DriftEntry = typeof DriftEntry.Type

/** CP-8: `<outRoot>/<taskId>/control-plane/drift.json`. */
export const DriftReport = Schema.Struct({
  schema_id: Schema.String,
  schema_version: Schema.String,
  total_samples: Schema.Int,
  invalid_samples: Schema.Int,
  invalid_rate: Schema.Number,
  last_sampled_at: Schema.NullOr(Schema.String),
  mode: ControlPlaneMode,
  entries: Schema.Array(DriftEntry)
})
export type DriftReport = typeof DriftReport.Type

export const emptyDriftReport = (mode: ControlPlaneMode): DriftReport => ({
  schema_id: runRequestSchemaId,
  schema_version: runRequestSchemaVersion,
  total_samples: 0,
  invalid_samples: 0,
  invalid_rate: 0,
  last_sampled_at: null,
  mode,
  entries: []
})

export interface ValidationSample {
  readonly requestId: string
  readonly timestamp: string
  readonly mode: ControlPlaneMode
  readonly errors: ReadonlyArray<ValidationIssue>
}

/**
 * CP-8: every validation counts; a failed one adds an entry; a passing one adds an entry only to an
 * empty list (so a report always shows its first sample); at most 50 entries, the oldest dropped.
 */
export const updateDriftReport = (report: DriftReport | undefined, sample: ValidationSample): DriftReport => {
  const previous = report ?? emptyDriftReport(sample.mode)
  const failed = sample.errors.length > 0
  const total = previous.total_samples + 1
  const invalid = previous.invalid_samples + (failed ? 1 : 0)
  const entry: DriftEntry = {
    request_id: sample.requestId,
    timestamp: sample.timestamp,
    status: failed ? "failed" : "passed",
    mode: sample.mode,
    errors: sample.errors
  }
  const entries = failed || previous.entries.length === 0 ? [...previous.entries, entry] : previous.entries
  return {
    schema_id: runRequestSchemaId,
    schema_version: runRequestSchemaVersion,
    total_samples: total,
    invalid_samples: invalid,
    invalid_rate: invalid / total,
    last_sampled_at: sample.timestamp,
    mode: sample.mode,
    entries: entries.slice(-driftReportMaxEntries)
  }
}

/** CP-5: one validation's outcome, the same in the manifest and the run summary. */
export const ValidationRecord = Schema.Struct({
  mode: ControlPlaneMode,
  status: Schema.Literal("passed", "failed"),
  timestamp: Schema.String,
  errors: Schema.Array(ValidationIssue)
})

/** CP-5: the manifest's `control_plane` section. */
export const ControlPlaneSection = Schema.Struct({
  schema_id: Schema.String,
  schema_version: Schema.String,
  request_id: Schema.String,
  validation: ValidationRecord,
  drift: Schema.Struct({
    report_path: Schema.String,
    total_samples: Schema.Int,
    invalid_samples: Schema.Int,
    invalid_rate: Schema.Number,
    last_sampled_at: Schema.NullOr(Schema.String),
    mode: ControlPlaneMode
  }),
  enforcement: Schema.Struct({ enabled: Schema.Boolean, activated_at: Schema.NullOr(Schema.String) })
})
export type ControlPlaneSection = typeof ControlPlaneSection.Type

/** CP-5 from one validation and the drift report it updated. `reportPath` is repo-relative. */
export const controlPlaneSectionOf = (
  sample: ValidationSample,
  report: DriftReport,
  reportPath: string
): ControlPlaneSection => ({
  schema_id: runRequestSchemaId,
  schema_version: runRequestSchemaVersion,
  request_id: sample.requestId,
  validation: {
    mode: sample.mode,
    status: sample.errors.length === 0 ? "passed" : "failed",
    timestamp: sample.timestamp,
    errors: sample.errors
  },
  drift: {
    report_path: reportPath,
    total_samples: report.total_samples,
    invalid_samples: report.invalid_samples,
    invalid_rate: report.invalid_rate,
    last_sampled_at: report.last_sampled_at,
    mode: report.mode
  },
  enforcement: { enabled: sample.mode === "enforce", activated_at: sample.mode === "enforce" ? sample.timestamp : null }
})

/** TM-7: the run summary's `controlPlane`, camelCase and without `enforcement`. */
export const ControlPlaneSummary = Schema.Struct({
  schemaId: Schema.String,
  schemaVersion: Schema.String,
  requestId: Schema.String,
  validation: ValidationRecord,
  drift: Schema.Struct({
    reportPath: Schema.String,
    totalSamples: Schema.Int,
    invalidSamples: Schema.Int,
    invalidRate: Schema.Number,
    lastSampledAt: Schema.NullOr(Schema.String),
    mode: ControlPlaneMode
  })
})
export type ControlPlaneSummary = typeof ControlPlaneSummary.Type

export const controlPlaneSummaryOf = (section: ControlPlaneSection): ControlPlaneSummary => ({
  schemaId: section.schema_id,
  schemaVersion: section.schema_version,
  requestId: section.request_id,
  validation: section.validation,
  drift: {
    reportPath: section.drift.report_path,
    totalSamples: section.drift.total_samples,
    invalidSamples: section.drift.invalid_samples,
    invalidRate: section.drift.invalid_rate,
    lastSampledAt: section.drift.last_sampled_at,
    mode: section.drift.mode
  }
})

/** The first three validation issues as `path: message`, `; and <n> more` for the rest. */
export const issuesText = (errors: ReadonlyArray<ValidationIssue>) => {
  const first = errors.slice(0, 3).map((e) => `${e.path}: ${e.message}`).join("; ")
  return `${first}${errors.length > 3 ? `; and ${errors.length - 3} more` : ""}`
}

/**
 * CP-4 in `enforce` mode: the request is invalid and the run must not start. `section` is what the
 * manifest records; the caller marks the manifest `failed` / `control-plane-validation-failed`.
 */
export class ControlPlaneValidationFailed extends Schema.TaggedError<ControlPlaneValidationFailed>()(
  "ControlPlaneValidationFailed",
  {
    errors: Schema.Array(ValidationIssue),
    section: ControlPlaneSection
  }
) {
  /** `Control plane validation failed (<n> error[s]).`, as the original words it. */
  get headline() {
    const n = this.errors.length
    return `Control plane validation failed (${n} error${n === 1 ? "" : "s"}).`
  }
  /** CP-4: the line appended to the manifest's summary. */
  get summaryLine() {
    return `Control plane validation failed: ${this.headline}`
  }
  override get message() {
    return `${this.headline} ${issuesText(this.errors)}. Fix the pipeline or task definition, or set CODEX_CONTROL_PLANE_MODE=shadow to record without blocking.`
  }
}

/** LAY-5 with D-5: the drift report's folder and file name under the out root. */
export const driftReportSegments = (taskId: string) => [taskId, "control-plane", "drift.json"] as const
