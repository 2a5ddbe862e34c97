/** EXEC-3's run:summary event to the exact value (mutation testing, issue 16). */
import { Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { CliManifest, ToolRun } from "../../src/domain/Manifest.js"
import { makeRunLayout } from "../../src/domain/RunLayout.js"
import { decodeJsonlLine, encodeRunSummary, noNotifications, runSummaryEventOf } from "../../src/domain/RunSummaryEvent.js"
import { queuedManifest } from "../support/manifests.js"

const manifestOf = (): CliManifest =>
  Effect.runSync(Effect.map(Path.Path, (path) =>
    queuedManifest(makeRunLayout(path, { repoRoot: "/repo", runsRoot: "/repo/.runs", outRoot: "/repo/out" }, "t", "r"), "t", "r", "2026-01-01T00:00:00.000Z")
  ).pipe(Effect.provide(Path.layer)))

const toolRun = (stageId: string): ToolRun => ({
  id: "tr",
  tool: "cli:command",
  description: "d",
  approvalSource: "a",
  retryCount: 1,
  attemptCount: 2,
  sandboxState: "escalated",
  status: "succeeded",
  startedAt: "2026-01-01T00:00:01.000Z",
  completedAt: "2026-01-01T00:00:03.000Z",
  metadata: {
    stageId,
    pipelineId: "trivial",
    runId: "r",
    commandIndex: 1,
    exec: {
      command: "echo",
      args: ["hi"],
      cwd: "/repo",
      sessionId: "s1",
      persisted: true,
      correlationId: "c1",
      handleId: "h1",
      exitCode: 0,
      signal: "SIGTERM"
    }
  }
})

const exec = { argv: ["echo", "hi"], shell: "echo hi", outputs: { stdout: "hi\n", stderr: "" } }

describe("runSummaryEventOf, exactly", () => {
  it("a pipeline run: status, paths, stages, the runner log, no exec parts", () => {
    const manifest = { ...manifestOf(), status: "succeeded" as const, summary: "done" }
    const event = runSummaryEventOf(manifest, "ts", noNotifications)
    assert.deepStrictEqual(event, {
      type: "run:summary",
      timestamp: "ts",
      payload: {
        status: "succeeded",
        run: {
          id: "r",
          taskId: "t",
          pipelineId: "trivial",
          manifest: `${manifest.artifact_root}/manifest.json`,
          artifactRoot: manifest.artifact_root,
          summary: "done"
        },
        stages: [{ id: "hello", status: "pending", exitCode: null, summary: null }],
        logs: { runner: manifest.log_path },
        notifications: { targets: [], delivered: [], failures: [] }
      }
    })
  })

  it("an exec run with its tool run: the result, the command and the outputs from it", () => {
    const base = manifestOf()
    const [entry] = base.commands
    assert.isDefined(entry)
    if (entry === undefined) return
    const manifest: CliManifest = {
      ...base,
      status: "succeeded",
      commands: [{
        ...entry,
        status: "succeeded",
        exit_code: 0,
        started_at: "2026-01-01T00:00:01.000Z",
        completed_at: "2026-01-01T00:00:03.500Z",
        log_path: "cmd.ndjson",
        attempts: 5
      }],
      toolRuns: [toolRun("other"), toolRun("hello")]
    }
    const payload = runSummaryEventOf(manifest, "ts", noNotifications, exec).payload
    assert.deepStrictEqual(payload.result, {
      exitCode: 0,
      signal: "SIGTERM",
      durationMs: 2500,
      status: "succeeded",
      sandboxState: "escalated",
      correlationId: "c1",
      attempts: 2
    })
    assert.deepStrictEqual(payload.command, { argv: ["echo", "hi"], shell: "echo hi", cwd: "/repo", sessionId: "s1", persisted: true })
    assert.deepStrictEqual(payload.outputs, { stdout: "hi\n", stderr: "" })
    assert.deepStrictEqual(payload.toolRun, toolRun("hello"))
    assert.deepStrictEqual(payload.logs, { runner: manifest.log_path, command: "cmd.ndjson" })
  })

  it("an exec run without a tool run: the entry's attempts, else 1 once started, else 0; durations never negative", () => {
    const base = manifestOf()
    const [entry] = base.commands
    if (entry === undefined) return assert.fail("the fixture has a stage")
    const started = { ...entry, started_at: "2026-01-01T00:00:05.000Z", completed_at: "2026-01-01T00:00:04.000Z" }
    const once = runSummaryEventOf({ ...base, commands: [started] }, "ts", noNotifications, exec).payload
    assert.deepStrictEqual(once.result, {
      exitCode: null,
      signal: null,
      durationMs: 0,
      status: "pending",
      sandboxState: null,
      correlationId: null,
      attempts: 1
    })
    assert.deepStrictEqual(once.command, { argv: ["echo", "hi"], shell: "echo hi", cwd: null, sessionId: null, persisted: false })
    assert.strictEqual(once.toolRun, null)
    assert.deepStrictEqual(once.logs, { runner: base.log_path, command: null })
    const retried = runSummaryEventOf({ ...base, commands: [{ ...started, attempts: 3 }] }, "ts", noNotifications, exec).payload
    assert.strictEqual(retried.result?.attempts, 3)
    const notStarted = runSummaryEventOf(base, "ts", noNotifications, exec).payload
    assert.deepStrictEqual([notStarted.result?.attempts, notStarted.result?.durationMs], [0, null])
    const halfDone = runSummaryEventOf({ ...base, commands: [{ ...started, completed_at: null }] }, "ts", noNotifications, exec).payload
    assert.strictEqual(halfDone.result?.durationMs, null)
    const none = runSummaryEventOf({ ...base, commands: [] }, "ts", noNotifications, exec).payload
    assert.deepStrictEqual([none.result?.status, none.result?.durationMs, none.result?.attempts, none.logs.command], ["pending", null, 1, null])
    const orphanRun = runSummaryEventOf({ ...base, commands: [], toolRuns: [toolRun("hello")] }, "ts", noNotifications, exec).payload
    assert.strictEqual(orphanRun.toolRun, null)
    const neverStarted = runSummaryEventOf({ ...base, commands: [{ ...entry, exit_code: 3, completed_at: "2026-01-01T00:00:04.000Z" }] }, "ts", noNotifications, exec).payload
    assert.deepStrictEqual([neverStarted.result?.exitCode, neverStarted.result?.durationMs], [3, null])
  })
})

describe("encoding and decoding, exactly", () => {
  it("compact is one line, pretty is indented by two spaces; a line decodes back", () => {
    const event = runSummaryEventOf(manifestOf(), "ts", noNotifications)
    const compact = Effect.runSync(encodeRunSummary(event, "compact"))
    assert.strictEqual(compact, JSON.stringify(event))
    const pretty = Effect.runSync(encodeRunSummary(event, "pretty"))
    assert.strictEqual(pretty, JSON.stringify(event, null, 2))
    assert.deepStrictEqual(Effect.runSync(decodeJsonlLine(compact)), event)
  })
})
