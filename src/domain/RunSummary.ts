/**
 * The run summary (SPEC TM-5, TM-6): what the builder, tester and reviewer concluded about a run.
 * Written to `run-summary.json`; a parent's nested-stage summary is the child's `review.summary` (RUN-7).
 */
import { Schema } from "effect"
import { ControlPlaneSummary, controlPlaneSummaryOf } from "./ControlPlane.js"
import { SchedulerSummary, schedulerSummaryOf } from "./Scheduler.js"
import type { CliManifest } from "./Manifest.js"
import { PlanResult } from "./Plan.js"
import { CriticalPath, criticalPathOf, dependenciesOf } from "./StageGraph.js"

/** The builder's result for a subtask (TM-6): the run it made, its artifacts, mode and success. */
export const BuildResult = Schema.Struct({
  subtaskId: Schema.String,
  artifacts: Schema.Array(Schema.Struct({ path: Schema.String, description: Schema.String })),
  mode: Schema.Literal("mcp", "cloud"),
  runId: Schema.String,
  success: Schema.Boolean,
  notes: Schema.optional(Schema.String)
})
export type BuildResult = typeof BuildResult.Type

/** One named check of a test result, passed or failed, with optional details. */
export const TestReport = Schema.Struct({
  name: Schema.String,
  status: Schema.Literal("passed", "failed"),
  details: Schema.optional(Schema.String)
})

/** The tester's result for a subtask: whether it passed, and its reports. */
export const TestResult = Schema.Struct({
  subtaskId: Schema.String,
  success: Schema.Boolean,
  reports: Schema.Array(TestReport),
  runId: Schema.String
})
export type TestResult = typeof TestResult.Type

/** The reviewer's result: a summary and a decision (approved, with optional feedback). */
export const ReviewResult = Schema.Struct({
  summary: Schema.String,
  decision: Schema.Struct({ approved: Schema.Boolean, feedback: Schema.optional(Schema.String) })
})
export type ReviewResult = typeof ReviewResult.Type

/** GRP-2: one processed subtask of a group run. */
export const GroupEntry = Schema.Struct({
  index: Schema.Int,
  subtaskId: Schema.String,
  mode: Schema.Literal("mcp", "cloud"),
  buildSuccess: Schema.Boolean,
  testSuccess: Schema.Boolean,
  reviewApproved: Schema.Boolean,
  status: Schema.Literal("succeeded", "failed")
})
export type GroupEntry = typeof GroupEntry.Type

/** TM-7: the handle records in the summary's camelCase form. */
export const SummaryHandle = Schema.Struct({
  handleId: Schema.String,
  correlationId: Schema.String,
  stageId: Schema.String,
  status: Schema.String,
  frameCount: Schema.Int,
  latestSequence: Schema.Int
})

/** TM-7: the privacy guard's totals. */
export const SummaryPrivacy = Schema.Struct({
  mode: Schema.String,
  totalFrames: Schema.Int,
  redactedFrames: Schema.Int,
  blockedFrames: Schema.Int,
  allowedFrames: Schema.Int
})

/** The run summary (TM-5), written to `run-summary.json`: plan, build, test and review, plus what TM-7 adds. */
export const RunSummary = Schema.Struct({
  taskId: Schema.String,
  runId: Schema.String,
  mode: Schema.Literal("mcp", "cloud"),
  plan: PlanResult,
  build: BuildResult,
  test: TestResult,
  review: ReviewResult,
  timestamp: Schema.String,
  /** GRP-2: every processed subtask's results, in order (group mode only). */
  builds: Schema.optional(Schema.Array(BuildResult)),
  tests: Schema.optional(Schema.Array(TestResult)),
  reviews: Schema.optional(Schema.Array(ReviewResult)),
  group: Schema.optional(Schema.Struct({
    enabled: Schema.Boolean,
    size: Schema.Int,
    processed: Schema.Int,
    entries: Schema.Array(GroupEntry)
  })),
  /** DECISIONS B-3: the run was meant for `cloud` but ran locally, and why. */
  cloudFallbackReason: Schema.optional(Schema.String),
  handles: Schema.optional(Schema.Array(SummaryHandle)),
  privacy: Schema.optional(SummaryPrivacy),
  /** TM-7: the control plane's verdict (camelCase, without enforcement). */
  controlPlane: Schema.optional(ControlPlaneSummary),
  /** SCH-5: the finalized assignments. */
  scheduler: Schema.optional(SchedulerSummary),
  /** DECISIONS B-2: the chain of stages that set the run's wall time. */
  criticalPath: Schema.optional(CriticalPath)
})
export type RunSummary = typeof RunSummary.Type

/** TM-6 builder: the pipeline run as a build; its notes are one `<title>: <summary|status>` line a stage. */
export const buildResultOf = (manifest: CliManifest, subtaskId: string, mode: "mcp" | "cloud"): BuildResult => {
  const notes = manifest.commands.map((c) => `${c.title}: ${c.summary ?? c.status}`).join("\n")
  return {
    subtaskId,
    artifacts: [
      { path: `${manifest.artifact_root}/manifest.json`, description: "CLI run manifest" },
      { path: manifest.log_path, description: "Runner log (ndjson)" }
    ],
    mode,
    runId: manifest.run_id,
    success: manifest.status === "succeeded",
    ...(notes.length > 0 ? { notes } : {})
  }
}

/** TM-4: what the tests say when the build failed (they do not run). */
export const testsSkippedForBuild = (subtaskId: string, runId: string): TestResult => ({
  subtaskId,
  success: false,
  reports: [{ name: "tests", status: "failed", details: "Skipped because the build stage failed." }],
  runId
})

/** TM-4: the review when the build failed (the reviewer is not asked). */
export const reviewSkippedForBuild: ReviewResult = {
  summary: "Review skipped: build stage failed.",
  decision: { approved: false, feedback: "Build stage failed; review skipped." }
}

/** TM-4: the review when the tests failed (the reviewer is not asked). */
export const reviewSkippedForTests: ReviewResult = {
  summary: "Review skipped: tests failed.",
  decision: { approved: false, feedback: "Tests failed; review skipped." }
}

/**
 * TM-6 tester with D-18: the tests pass when the stages that must succeed did (the run succeeded).
 * A `stages` report counts the run's entries; a `guardrails` report says how the guard stages fared
 * when any ran. Whether one should have run is guardrail_status's to say (MAN-5), not the tests'.
 */
export const testResultOf = (manifest: CliManifest, build: BuildResult): TestResult => {
  const count = (status: string) => manifest.commands.filter((c) => c.status === status).length
  const total = manifest.commands.length
  const success = manifest.status === "succeeded"
  const stages: typeof TestReport.Type = {
    name: "stages",
    status: success ? "passed" : "failed",
    details: `${total} stage${total === 1 ? "" : "s"}: ${count("succeeded")} succeeded, ${count("skipped")} skipped, ${count("failed")} failed.`
  }
  const guard = manifest.guardrail_status
  const guardrails: ReadonlyArray<typeof TestReport.Type> = guard === undefined || !guard.present ? [] : [{
    name: "guardrails",
    status: guard.counts.failed === 0 ? "passed" : "failed",
    details: guard.summary
  }]
  return { subtaskId: build.subtaskId, success, reports: [stages, ...guardrails], runId: manifest.run_id }
}

/** TM-6 reviewer: approves a succeeded pipeline and points at its manifest and log. */
export const reviewResultOf = (manifest: CliManifest, build: BuildResult): ReviewResult => {
  const succeeded = manifest.status === "succeeded"
  return {
    summary: [
      succeeded ? "Diagnostics pipeline succeeded." : "Diagnostics pipeline failed — inspect manifest for details.",
      `Manifest: ${manifest.artifact_root}/manifest.json`,
      `Runner log: ${manifest.log_path}`
    ].join("\n"),
    decision: { approved: succeeded, ...(build.notes === undefined ? {} : { feedback: build.notes }) }
  }
}

/**
 * TM-6 with TM-4, applied to a finished manifest without a TaskManager: what a nested child run's
 * summary says (RUN-7). A failed build skips test and review; failed tests skip review.
 */
export const summarizeRun = (
  manifest: CliManifest,
  plan: PlanResult,
  timestamp: string,
  mode: "mcp" | "cloud" = "mcp"
): RunSummary => {
  const build = buildResultOf(manifest, plan.targetId ?? manifest.pipeline_id, mode)
  const test = build.success ? testResultOf(manifest, build) : testsSkippedForBuild(build.subtaskId, manifest.run_id)
  const review = !build.success ? reviewSkippedForBuild : !test.success ? reviewSkippedForTests : reviewResultOf(manifest, build)
  return { taskId: manifest.task_id, runId: manifest.run_id, mode, plan, build, test, review, timestamp }
}

/** TM-7: what the manifest adds to a run's summary (handles, privacy, fallback, control plane, scheduler), camelCase. */
export const enrichSummary = (summary: RunSummary, manifest: CliManifest): RunSummary => {
  const criticalPath = criticalPathOf(manifest.commands, dependenciesOf(manifest.commands))
  return {
    ...summary,
    ...(criticalPath === undefined ? {} : { criticalPath }),
    ...(manifest.handles === undefined ? {} : {
      handles: manifest.handles.map((h) => ({
        handleId: h.handle_id,
        correlationId: h.correlation_id,
        stageId: h.stage_id,
        status: h.status,
        frameCount: h.frame_count,
        latestSequence: h.latest_sequence
      }))
    }),
    ...(manifest.privacy === undefined ? {} : {
      privacy: {
        mode: manifest.privacy.mode,
        totalFrames: manifest.privacy.totals.total_frames,
        redactedFrames: manifest.privacy.totals.redacted_frames,
        blockedFrames: manifest.privacy.totals.blocked_frames,
        allowedFrames: manifest.privacy.totals.allowed_frames
      }
    }),
    ...(manifest.cloud_fallback_reason === undefined || manifest.cloud_fallback_reason === null
      ? {}
      : { cloudFallbackReason: manifest.cloud_fallback_reason }),
    ...(manifest.control_plane === undefined ? {} : { controlPlane: controlPlaneSummaryOf(manifest.control_plane) }),
    ...(manifest.scheduler === undefined ? {} : { scheduler: schedulerSummaryOf(manifest.scheduler) })
  }
}
