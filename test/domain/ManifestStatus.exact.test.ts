/** D-9's staleness rule and RUN-10's final states to the exact value (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import {
  hasFreshHeartbeat,
  heartbeatAgeMs,
  isStale,
  isTerminal,
  type RunStatus,
  type StatusManifest
} from "../../src/domain/ManifestStatus.js"

const manifest = (status: RunStatus): StatusManifest => ({
  task_id: "t",
  run_id: "r",
  status,
  status_detail: null,
  started_at: "2026-01-01T00:00:00.000Z",
  completed_at: null,
  heartbeat_at: "2026-01-01T00:00:10.000Z",
  heartbeat_stale_after_seconds: 30,
  artifact_root: "a",
  log_path: "l",
  resume_events: [],
  commands: [],
  child_runs: []
})

const heartbeatMs = Date.parse("2026-01-01T00:00:10.000Z")

describe("isTerminal and staleness, exactly", () => {
  it("succeeded, failed and cancelled are final; queued and in_progress are not", () => {
    const statuses: ReadonlyArray<RunStatus> = ["queued", "in_progress", "succeeded", "failed", "cancelled"]
    assert.deepStrictEqual(statuses.map(isTerminal), [false, false, true, true, true])
  })

  it("the heartbeat's age in milliseconds; fresh up to the bound included", () => {
    const running = manifest("in_progress")
    assert.strictEqual(heartbeatAgeMs(running, heartbeatMs + 1234), 1234)
    assert.isTrue(hasFreshHeartbeat(running, heartbeatMs + 30_000))
    assert.isFalse(hasFreshHeartbeat(running, heartbeatMs + 30_001))
    assert.isFalse(isStale(running, heartbeatMs + 30_000))
    assert.isTrue(isStale(running, heartbeatMs + 30_001))
    assert.isTrue(isStale(manifest("queued"), heartbeatMs + 30_001))
  })

  it("a finished run is never stale, however old its heartbeat", () => {
    for (const status of ["succeeded", "failed", "cancelled"] as const) {
      assert.isFalse(isStale(manifest(status), heartbeatMs + 86_400_000))
      assert.isFalse(hasFreshHeartbeat(manifest(status), heartbeatMs + 86_400_000))
    }
  })
})
