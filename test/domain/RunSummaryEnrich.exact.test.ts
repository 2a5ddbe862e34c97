/**
 * TM-7: what the manifest adds to a run's summary (critical path, handles, privacy, cloud fallback,
 * control plane, scheduler), camelCase, to the exact value (mutation testing, issue 16).
 */
import { Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { ControlPlaneSection } from "../../src/domain/ControlPlane.js"
import type { CliManifest } from "../../src/domain/Manifest.js"
import { makeRunLayout } from "../../src/domain/RunLayout.js"
import { enrichSummary, type RunSummary, summarizeRun } from "../../src/domain/RunSummary.js"
import type { SchedulerSection } from "../../src/domain/Scheduler.js"
import { queuedManifest } from "../support/manifests.js"

const queued = (): CliManifest =>
  Effect.runSync(Effect.map(Path.Path, (path) =>
    queuedManifest(makeRunLayout(path, { repoRoot: "/repo", runsRoot: "/repo/.runs", outRoot: "/repo/out" }, "t", "r"), "t", "r", "2026-01-01T00:00:00.000Z")
  ).pipe(Effect.provide(Path.layer)))

/** A finished manifest whose one stage never started: no critical path. */
const unstarted = (): CliManifest => ({ ...queued(), status: "succeeded" })

const summaryOf = (manifest: CliManifest): RunSummary => summarizeRun(manifest, { items: [], targetId: null }, "ts")

const controlPlane: ControlPlaneSection = {
  schema_id: "codex.control-plane.run-request",
  schema_version: "2.0.0",
  request_id: "req-1",
  validation: { mode: "shadow", status: "passed", timestamp: "2026-01-01T00:00:01.000Z", errors: [] },
  drift: {
    report_path: ".runs/t/cli/r/control-plane/drift.json",
    total_samples: 3,
    invalid_samples: 1,
    invalid_rate: 1 / 3,
    last_sampled_at: "2026-01-01T00:00:01.000Z",
    mode: "shadow"
  },
  enforcement: { enabled: false, activated_at: null }
}

const scheduler: SchedulerSection = {
  mode: "multi-instance",
  requested_at: "2026-01-01T00:00:00.000Z",
  min_instances: 1,
  max_instances: 1,
  recovery: { heartbeat_interval_seconds: 5, missing_heartbeat_timeout_seconds: 30, max_retries: 2 },
  assignments: [{
    instance_id: "t-general-01",
    capability: "general",
    status: "succeeded",
    assigned_at: "2026-01-01T00:00:00.000Z",
    completed_at: "2026-01-01T00:00:09.000Z",
    metadata: { weight: 1, maxConcurrency: 1 },
    attempts: []
  }]
}

describe("enrichSummary (TM-7), exactly", () => {
  it("a manifest with none of the sections adds nothing", () => {
    const manifest = unstarted()
    const summary = summaryOf(manifest)
    assert.deepStrictEqual(enrichSummary(summary, manifest), summary)
    assert.deepStrictEqual(enrichSummary(summary, { ...manifest, cloud_fallback_reason: null }), summary)
  })

  it("every section, camelCase", () => {
    const base = queued()
    const [first] = base.commands
    if (first === undefined) throw new Error("the fixture has a stage")
    const manifest: CliManifest = {
      ...base,
      status: "succeeded",
      commands: [{ ...first, status: "succeeded", started_at: "2026-01-01T00:00:01.000Z", completed_at: "2026-01-01T00:00:03.500Z" }],
      handles: [{
        handle_id: "h-1",
        correlation_id: "c-1",
        stage_id: "hello",
        pipeline_id: "trivial",
        status: "closed",
        frame_count: 4,
        latest_sequence: 7,
        created_at: "2026-01-01T00:00:01.000Z",
        metadata: { run_id: "r" }
      }],
      privacy: {
        mode: "enforce",
        decisions: [],
        totals: { total_frames: 10, redacted_frames: 2, blocked_frames: 1, allowed_frames: 7 },
        log_path: ".runs/t/cli/r/runner.ndjson"
      },
      cloud_fallback_reason: "no cluster database",
      control_plane: controlPlane,
      scheduler
    }
    const summary = summaryOf(manifest)
    assert.deepStrictEqual(enrichSummary(summary, manifest), {
      ...summary,
      criticalPath: { stages: ["hello"], seconds: 2.5 },
      handles: [{ handleId: "h-1", correlationId: "c-1", stageId: "hello", status: "closed", frameCount: 4, latestSequence: 7 }],
      privacy: { mode: "enforce", totalFrames: 10, redactedFrames: 2, blockedFrames: 1, allowedFrames: 7 },
      cloudFallbackReason: "no cluster database",
      controlPlane: {
        schemaId: "codex.control-plane.run-request",
        schemaVersion: "2.0.0",
        requestId: "req-1",
        validation: controlPlane.validation,
        drift: {
          reportPath: ".runs/t/cli/r/control-plane/drift.json",
          totalSamples: 3,
          invalidSamples: 1,
          invalidRate: 1 / 3,
          lastSampledAt: "2026-01-01T00:00:01.000Z",
          mode: "shadow"
        }
      },
      scheduler: {
        mode: "multi-instance",
        recovery: { heartbeatIntervalSeconds: 5, missingHeartbeatTimeoutSeconds: 30, maxRetries: 2 },
        assignments: [{
          instanceId: "t-general-01",
          capability: "general",
          status: "succeeded",
          attempts: 0,
          lastCompletedAt: "2026-01-01T00:00:09.000Z"
        }]
      }
    })
  })
})
