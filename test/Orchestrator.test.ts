/**
 * Issue 20: the Promise facade (src/Orchestrator.ts) on the test kit: start resolves with the
 * finished run, `on` handlers see its events until unsubscribed, bad input rejects with the
 * engine's own tagged error, and dispose releases the app (later calls reject).
 */
import { assert, describe, it } from "@effect/vitest"
import { createOrchestrator } from "../src/Orchestrator.js"
import { AppMemory } from "../src/TestKit.js"
import { commandStage, pipeline } from "./support/pipelines.js"

const layer = AppMemory({
  pipelines: { user: [pipeline("ci", [commandStage("build", "make")])] },
  scripts: { make: { exitCode: 0, output: [{ stream: "stdout", data: "built\n" }] } }
})

describe("createOrchestrator (Promise facade)", () => {
  it("start, on, a rejected bad input and dispose", async () => {
    const orchestrator = createOrchestrator({ layer })
    const seen: Array<string> = []
    const off = await orchestrator.on("stage:completed", (event) => {
      seen.push(`${event.stageId}:${event.status}`)
    })
    const { manifest } = await orchestrator.start({ pipelineId: "ci", taskId: "facade" })
    assert.strictEqual(manifest.status, "succeeded")
    assert.deepStrictEqual(seen, ["build:succeeded"])
    await off()
    await orchestrator.start({ pipelineId: "ci", taskId: "facade" })
    assert.deepStrictEqual(seen, ["build:succeeded"], "an unsubscribed handler saw a second run")
    const error: unknown = await orchestrator.plan({ pipelineId: "nope" }).then(() => undefined, (e: unknown) => e)
    assert.deepInclude(error, { _tag: "PipelineNotFound", pipelineId: "nope" })
    await orchestrator.dispose()
    const afterDispose: unknown = await orchestrator.plan({ pipelineId: "ci" }).then(() => "resolved", () => "rejected")
    assert.strictEqual(afterDispose, "rejected")
  })
})
