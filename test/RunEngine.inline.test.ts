/**
 * A pipeline given whole (`StartRequest.pipeline`, what `exec` runs, EXEC-2): it runs without being
 * in the catalog, its manifest names it, and `exec`'s one-stage pipeline quotes the command's words.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import { execPipeline } from "../src/domain/ExecPipeline.js"
import { AppMemory } from "../src/layers/App.js"
import { ProcessInvocations } from "../src/layers/ProcessRunner.js"
import { RunEngine } from "../src/services/RunEngine.js"

describe("RunEngine.start with an inline pipeline", () => {
  it.effect("runs exec's one-stage pipeline: which no catalog holds; the shell line quotes each word", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const fiber = yield* Effect.fork(engine.start({ taskId: "inline", pipeline: execPipeline(["echo", "a b", "it's"], undefined) }))
      yield* TestClock.adjust("1 minute")
      const { manifest } = yield* Fiber.join(fiber)
      assert.strictEqual(manifest.status, "succeeded")
      assert.strictEqual(manifest.pipeline_id, "exec")
      assert.strictEqual(manifest.pipeline_title, "CLI Exec Command")
      assert.isFalse(manifest.guardrails_required)
      assert.deepStrictEqual(manifest.commands.map((c) => [c.id, c.title, c.command]), [
        ["exec", `Execute echo 'a b' 'it'\\''s'`, `echo 'a b' 'it'\\''s'`]
      ])
      const invoked = yield* Effect.flatMap(ProcessInvocations, (p) => p.all)
      assert.deepStrictEqual(invoked.map((spec) => spec.command), [`echo 'a b' 'it'\\''s'`])
    }).pipe(Effect.provide(AppMemory({ scripts: { [`echo 'a b' 'it'\\''s'`]: { output: [{ stream: "stdout", data: "a b it's\n" }] } } }))))
})
