/**
 * The run summary (SPEC TM-5, TM-6): what the builder, tester and reviewer concluded about a run.
 * Written to `run-summary.json`; a parent's nested-stage summary is the child's `review.summary` (RUN-7).
 */
import { Schema } from "effect"
import type { CliManifest } from "./Manifest.js"
import { PlanResult } from "./Plan.js"

export const BuildResult = Schema.Struct({
  subtaskId: Schema.String,
  artifacts: Schema.Array(Schema.Struct({ path: Schema.String, description: Schema.String })),
  mode: Schema.Literal("mcp", "cloud"),
  runId: Schema.String,
  success: Schema.Boolean,
  notes: Schema.optional(Schema.String)
})

export const TestReport = Schema.Struct({
  name: Schema.String,
  status: Schema.Literal("passed", "failed"),
  details: Schema.optional(Schema.String)
})

export const TestResult = Schema.Struct({
  subtaskId: Schema.String,
  success: Schema.Boolean,
  reports: Schema.Array(TestReport),
  runId: Schema.String
})

export const ReviewResult = Schema.Struct({
  summary: Schema.String,
  decision: Schema.Struct({ approved: Schema.Boolean, feedback: Schema.optional(Schema.String) })
})

export const RunSummary = Schema.Struct({
  taskId: Schema.String,
  runId: Schema.String,
  mode: Schema.Literal("mcp", "cloud"),
  plan: PlanResult,
  build: BuildResult,
  test: TestResult,
  review: ReviewResult,
  timestamp: Schema.String
})
export type RunSummary = typeof RunSummary.Type

/**
 * TM-6 and TM-4: the CLI's builder (the pipeline run), tester (guardrails) and reviewer, applied to a
 * finished manifest. A failed build skips test and review; failed tests skip review.
 */
export const summarizeRun = (manifest: CliManifest, plan: PlanResult, timestamp: string): RunSummary => {
  const subtaskId = plan.targetId ?? `${manifest.pipeline_id}`
  const success = manifest.status === "succeeded"
  const notes = manifest.commands.map((c) => `${c.title}: ${c.summary ?? c.status}`).join("\n")
  const build = {
    subtaskId,
    artifacts: [
      { path: `${manifest.artifact_root}/manifest.json`, description: "CLI run manifest" },
      { path: manifest.log_path, description: "Runner log (ndjson)" }
    ],
    mode: "mcp" as const,
    runId: manifest.run_id,
    success,
    ...(notes.length > 0 ? { notes } : {})
  }
  const guard = manifest.guardrail_status
  const guardPassed = guard?.present ?? false
  const guardDetails = guard === undefined ? undefined : guard.present ? guard.summary : guard.recommendation ?? guard.summary
  const test = !success
    ? {
      subtaskId,
      success: false,
      reports: [{ name: "tests", status: "failed" as const, details: "Skipped because the build stage failed." }],
      runId: manifest.run_id
    }
    : {
      subtaskId,
      success: guardPassed,
      reports: [{
        name: "guardrails",
        status: guardPassed ? "passed" as const : "failed" as const,
        ...(guardDetails === undefined ? {} : { details: guardDetails })
      }],
      runId: manifest.run_id
    }
  const review = !success
    ? { summary: "Review skipped: build stage failed.", decision: { approved: false, feedback: "Build stage failed; review skipped." } }
    : !test.success
    ? { summary: "Review skipped: tests failed.", decision: { approved: false, feedback: "Tests failed; review skipped." } }
    : {
      summary: [
        "Diagnostics pipeline succeeded.",
        `Manifest: ${manifest.artifact_root}/manifest.json`,
        `Runner log: ${manifest.log_path}`
      ].join("\n"),
      decision: { approved: true, ...(notes.length > 0 ? { feedback: notes } : {}) }
    }
  return { taskId: manifest.task_id, runId: manifest.run_id, mode: "mcp", plan, build, test, review, timestamp }
}
