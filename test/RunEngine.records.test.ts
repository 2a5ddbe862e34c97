/** Execution records (SPEC EXE-2, EXE-3, EXE-6, RET-2): handles, tool runs and sessions in the manifest. */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import { AppMemory } from "../src/layers/App.js"
import { RunEngine } from "../src/services/RunEngine.js"
import { logFile, manifestFile } from "./support/files.js"
import { commandStage, pipeline } from "./support/pipelines.js"

const flaky = pipeline("rec", [
  commandStage("build", "make", { session: { id: "builder", persist: true } }),
  commandStage("test", "flaky", { retry: { attempts: 2, initialDelayMs: 100 } }),
  commandStage("gate", "deploy", { approvalRequired: true })
])

const app = AppMemory({
  pipelines: { user: [flaky] },
  scripts: {
    make: { output: [{ stream: "stdout", data: "a\n" }, { stream: "stderr", data: "b\n" }] },
    flaky: [{ exitCode: 1 }, { output: [{ stream: "stdout", data: "ok\n" }] }],
    deploy: {}
  },
  approvals: { "rec:gate": "granted" }
})

describe("execution records", () => {
  it.effect("one handle and one tool run per command stage, with sessions, attempts and approval source", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork((yield* RunEngine).start({ pipelineId: "rec", taskId: "t" }))
      yield* TestClock.adjust("1 second")
      const { layout } = yield* Fiber.join(fiber)
      const manifest = yield* manifestFile(layout.manifest)
      const handles = manifest.handles ?? []
      const runs = manifest.toolRuns ?? []
      assert.deepStrictEqual(handles.map((h) => [h.stage_id, h.status, h.frame_count]), [
        ["build", "closed", 4], // exec:begin, two exec:chunk, exec:end
        ["test", "closed", 6], // begin, end, exec:retry, begin, chunk, end
        ["gate", "closed", 2] // begin, end
      ])
      assert.deepStrictEqual(runs.map((r) => [r.metadata.stageId, r.attemptCount, r.retryCount, r.approvalSource, r.status]), [
        ["build", 1, 0, "not-required", "succeeded"],
        ["test", 2, 1, "not-required", "succeeded"],
        ["gate", 1, 0, "prompt", "succeeded"]
      ])
      const build = runs[0]
      assert.strictEqual(build?.id, `cli-command:${manifest.run_id}:build:${Date.parse(manifest.commands[0]?.started_at ?? "")}`)
      assert.strictEqual(build?.tool, "cli:command")
      assert.strictEqual(build?.metadata.exec.sessionId, "builder", "EXE-3: the stage's session id")
      assert.isTrue(build?.metadata.exec.persisted)
      assert.strictEqual(build?.metadata.exec.handleId, handles[0]?.handle_id)
      assert.strictEqual(build?.metadata.exec.correlationId, handles[0]?.correlation_id)
      assert.notStrictEqual(runs[1]?.metadata.exec.sessionId, "builder", "an ephemeral session otherwise")
      assert.isFalse(runs[1]?.metadata.exec.persisted)
      const begins = (yield* logFile(layout.stageLog(1, "build"))).filter((e) => e.type === "exec:begin")
      assert.deepStrictEqual(begins.map((e) => (e.type === "exec:begin" ? [e.session_id, e.persisted] : [])), [["builder", true]])
    }).pipe(Effect.provide(app)))

  it.effect("a stage refused approval starts no process and leaves no tool run", () =>
    Effect.gen(function*() {
      const { layout } = yield* (yield* RunEngine).start({ pipelineId: "gated", taskId: "t" })
      const manifest = yield* manifestFile(layout.manifest)
      assert.strictEqual(manifest.status, "failed")
      assert.deepStrictEqual((manifest.toolRuns ?? []).map((r) => r.metadata.stageId), ["prep"])
      assert.deepStrictEqual((manifest.handles ?? []).map((h) => h.stage_id), ["prep"])
    }).pipe(Effect.provide(AppMemory({
      pipelines: { user: [pipeline("gated", [commandStage("prep", "true"), commandStage("gate", "deploy", { approvalRequired: true })])] },
      scripts: { true: {}, deploy: {} }
    }))))
})
