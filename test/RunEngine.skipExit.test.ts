/**
 * `skipExitCode`: a command that says it has nothing to do (the built-in pipelines' npm stages when
 * package.json lacks the script) is recorded `skipped` with its output as summary, without an error
 * file or a retry, and the run goes on; any other non-zero exit still fails.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import { AppMemory } from "../src/layers/App.js"
import { ProcessInvocations } from "../src/layers/ProcessRunner.js"
import { RunEngine } from "../src/services/RunEngine.js"
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
      pipeline("fails", [commandStage("lint", "./lint-broken", { skipExitCode: 78 }), commandStage("after", "echo after")])
    ]
  }
})

const run = (pipelineId: string) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork((yield* RunEngine).start({ pipelineId, taskId: "skip-task" }))
    yield* TestClock.adjust("1 minute")
    return (yield* Fiber.join(fiber)).manifest
  })

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
})
