/**
 * `skipExitCode`: a command that says it has nothing to do (the built-in pipelines' npm stages when
 * package.json lacks the script) is recorded `skipped` with its output as summary, without an error
 * file or a retry, and the run goes on; any other non-zero exit still fails.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import type { ToolCall } from "../src/domain/Events.js"
import { AppMemory } from "../src/layers/App.js"
import { ProcessInvocations } from "../src/layers/ProcessRunner.js"
import { EventBus } from "../src/services/EventBus.js"
import { RunEngine } from "../src/services/RunEngine.js"
import { logFile } from "./support/files.js"
import { commandStage, pipeline } from "./support/pipelines.js"

const app = AppMemory({
  scripts: {
    "./lint-if-any": { output: [{ stream: "stdout", data: "skipped: package.json has no \"lint\" script\n" }], exitCode: 78 },
    "./lint-broken": { output: [{ stream: "stderr", data: "lint crashed\n" }], exitCode: 3 },
    "echo after": { output: [{ stream: "stdout", data: "after\n" }] }
  },
  pipelines: {
    user: [
      pipeline("skips", [
        commandStage("lint", "./lint-if-any", { skipExitCode: 78, retry: { attempts: 3 } }),
        commandStage("after", "echo after")
      ]),
      pipeline("fails", [commandStage("lint", "./lint-broken", { skipExitCode: 78 }), commandStage("after", "echo after")]),
      pipeline("allowed", [commandStage("lint", "./lint-broken", { allowFailure: true }), commandStage("after", "echo after")])
    ]
  }
})

const run = (pipelineId: string) => Effect.map(runWatched(pipelineId), ({ manifest }) => manifest)

/** A run, with the tool:call events that closed each stage's process work and its runner log's exec:end lines. */
const runWatched = (pipelineId: string) =>
  Effect.scoped(Effect.gen(function*() {
    const closed: Array<ToolCall> = []
    // An `on` handler: start returns once it has handled everything the run published.
    yield* (yield* EventBus).on("tool:call", (e) => Effect.sync(() => e.status === "started" || e.status === "retry" || closed.push(e)))
    const fiber = yield* Effect.fork((yield* RunEngine).start({ pipelineId, taskId: "skip-task" }))
    yield* TestClock.adjust("1 minute")
    const { layout, manifest } = yield* Fiber.join(fiber)
    const ends = (yield* logFile(layout.runnerLog)).flatMap((e) => (e.type === "exec:end" ? [`${e.index}:${e.status}`] : []))
    return { manifest, ends, closed }
  }))


describe("RunEngine: skipExitCode", () => {
  it.effect("the skip code records the entry skipped with the command's words, once, and the run succeeds", () =>
    Effect.gen(function*() {
      const manifest = yield* run("skips")
      assert.strictEqual(manifest.status, "succeeded")
      const [lint, after] = manifest.commands
      assert.strictEqual(lint?.status, "skipped")
      assert.strictEqual(lint?.summary, "skipped: package.json has no \"lint\" script")
      assert.strictEqual(lint?.exit_code, 78)
      assert.strictEqual(lint?.error_file, null)
      assert.strictEqual(after?.status, "succeeded")
      const commands = (yield* Effect.flatMap(ProcessInvocations, (p) => p.all)).map((spec) => spec.command)
      assert.deepStrictEqual(commands, ["./lint-if-any", "echo after"], "no retry of a skip")
    }).pipe(Effect.provide(app)))

  it.effect("another exit code still fails the stage and the run", () =>
    Effect.gen(function*() {
      const manifest = yield* run("fails")
      assert.strictEqual(manifest.status, "failed")
      assert.strictEqual(manifest.commands[0]?.status, "failed")
      assert.notStrictEqual(manifest.commands[0]?.error_file, null)
      assert.strictEqual(manifest.commands[1]?.status, "pending")
    }).pipe(Effect.provide(app)))

  it.effect("the events that close a stage agree with its entry: exec:end, tool:call and the tool run say skipped", () =>
    Effect.gen(function*() {
      const skipped = yield* runWatched("skips")
      assert.deepStrictEqual(skipped.ends, ["1:skipped", "2:succeeded"])
      assert.deepStrictEqual(skipped.closed.map((e) => `${e.stageId}:${e.status}`), ["lint:skipped", "after:succeeded"])
      assert.deepStrictEqual(skipped.manifest.toolRuns?.map((r) => [r.metadata.stageId, r.status, r.sandboxState]), [
        ["lint", "skipped", "sandboxed"],
        ["after", "succeeded", "sandboxed"]
      ])
      const failed = yield* runWatched("fails")
      assert.deepStrictEqual(failed.ends, ["1:failed"])
      assert.deepStrictEqual(failed.closed.map((e) => `${e.stageId}:${e.status}`), ["lint:failed"])
      assert.deepStrictEqual(failed.manifest.toolRuns?.map((r) => r.status), ["failed"])
      // allowFailure: the process failed (exec:end, tool run), the stage is recorded skipped (tool:call, entry).
      const allowed = yield* runWatched("allowed")
      assert.strictEqual(allowed.manifest.commands[0]?.status, "skipped")
      assert.deepStrictEqual(allowed.ends, ["1:failed", "2:succeeded"])
      assert.deepStrictEqual(allowed.closed.map((e) => `${e.stageId}:${e.status}`), ["lint:skipped", "after:succeeded"])
    }).pipe(Effect.provide(app)))
})
