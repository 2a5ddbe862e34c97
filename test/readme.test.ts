/** The README's library example, run as written (with imports from the sources instead of the package). */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { RunEngine, TestKit } from "../src/index.js"

describe("README: testing a pipeline without processes or disk", () => {
  it.effect("runs the scripted pipeline and reads back its log", () => {
    const layer = TestKit.AppMemory({
      pipelines: { user: [{ id: "ci", title: "CI", stages: [{ kind: "command", id: "build", title: "Build", command: "make" }] }] },
      scripts: { make: { output: [{ stream: "stdout", data: "built\n" }], exitCode: 0 } }
    })
    const program = Effect.gen(function*() {
      const { layout, manifest } = yield* (yield* RunEngine.RunEngine).start({ pipelineId: "ci", taskId: "demo" })
      const log = yield* (yield* TestKit.InMemoryFiles).read(layout.stageLog(1, "build"))
      return { status: manifest.status, summary: manifest.commands[0]?.summary, log }
    })
    return program.pipe(
      Effect.map(({ log, status, summary }) => {
        assert.strictEqual(status, "succeeded")
        assert.strictEqual(summary, "built")
        assert.include(log ?? "", "\"data\":\"built\\n\"")
      }),
      Effect.provide(layer)
    )
  })
})
