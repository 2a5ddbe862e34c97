/**
 * Issue 20: the Promise facade (src/Orchestrator.ts) on the test kit: start resolves with the
 * finished run, `on` handlers see its events until unsubscribed, bad input rejects with the
 * engine's own tagged error, and dispose releases the app (later calls reject).
 */
import { assert, describe, it } from "@effect/vitest"
import { orchestratorEventTypes } from "../src/domain/Events.js"
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

describe("createOrchestrator: a JavaScript caller's request of the wrong shape", () => {
  /** What the call rejected with: its tag and message (a TypeError has no tag). */
  const rejected = async (call: Promise<unknown>) => {
    const error: unknown = await call.then(() => undefined, (e: unknown) => e)
    assert.instanceOf(error, Error)
    const tag: unknown = Reflect.get(error as object, "_tag")
    return { tag: tag === undefined ? "(untagged)" : String(tag), message: (error as Error).message }
  }

  it("rejects with a tagged error naming the field, never a TypeError from inside the engine", async () => {
    const orchestrator = createOrchestrator({ layer })
    // The facade is for code without Effect, often without types: these are what such code passes.
    const loose = orchestrator as unknown as Record<"start" | "resume" | "plan" | "status", (request: unknown) => Promise<unknown>>
    try {
      const request = "the run request is not valid: (root): must be an object such as { pipelineId: \"ci\", taskId: \"demo\" }"
      // status and resume name a run: their example says so.
      const runRequest = "the run request is not valid: (root): must be an object such as { runId: \"2026-11-25T09-26-45-555Z-2f16ce35\", taskId: \"demo\" }"
      assert.deepStrictEqual(await rejected(loose.start(null)), { tag: "InvalidFile", message: `${request}, not null.` })
      assert.deepStrictEqual(await rejected(loose.plan(undefined)), { tag: "InvalidFile", message: `${request}, not undefined.` })
      assert.deepStrictEqual(await rejected(loose.status("run-1")), { tag: "InvalidFile", message: `${runRequest}, not "run-1".` })
      assert.deepStrictEqual(await rejected(loose.resume(null)), { tag: "InvalidFile", message: `${runRequest}, not null.` })
      // An array or object id is shown as JSON and named as what it is.
      assert.deepStrictEqual(await rejected(loose.resume({ runId: ["a"], taskId: "t" })), {
        tag: "InvalidId",
        message: "Invalid run ID \"[\\\"a\\\"]\": must be a string, not an array. Use letters, digits, '-', '_' or '.', not starting with '.' or '-'."
      })
      assert.deepStrictEqual(await rejected(loose.start({ pipelineId: "ci", taskId: { id: "t" } })), {
        tag: "InvalidId",
        message: "Invalid task ID \"{\\\"id\\\":\\\"t\\\"}\": must be a string, not an object. Use letters, digits, '-', '_' or '.', not starting with '.' or '-'."
      })
      assert.deepStrictEqual(await rejected(loose.start({ pipelineId: 42, taskId: "t" })), {
        tag: "InvalidFile",
        message: "the run request is not valid: pipelineId: must be a string, not 42."
      })
      assert.deepStrictEqual(await rejected(loose.plan({ pipelineId: "ci", target: 7, failFast: "yes" })), {
        tag: "InvalidFile",
        message: "the run request is not valid: target: must be a string, not 7; failFast: must be true or false, not \"yes\"."
      })
      assert.deepStrictEqual(await rejected(loose.start({ pipelineId: "ci", taskId: 42 })), {
        tag: "InvalidId",
        message: "Invalid task ID \"42\": must be a string, not a number. Use letters, digits, '-', '_' or '.', not starting with '.' or '-'."
      })
      assert.deepStrictEqual(await rejected(loose.status({ runId: 5, taskId: "t" })), {
        tag: "InvalidId",
        message: "Invalid run ID \"5\": must be a string, not a number. Use letters, digits, '-', '_' or '.', not starting with '.' or '-'."
      })
      assert.deepStrictEqual(await rejected(loose.resume({ taskId: "t" })), {
        tag: "InvalidId",
        message: "Invalid run ID: is missing (a string is required). Use letters, digits, '-', '_' or '.', not starting with '.' or '-'."
      })
    } finally {
      await orchestrator.dispose()
    }
  })
})

describe("createOrchestrator: on() with an event type or handler JavaScript got wrong", () => {
  it("rejects with a TypeError naming the known event types; nothing is subscribed", async () => {
    const orchestrator = createOrchestrator({ layer })
    const loose = orchestrator as unknown as { on: (type: unknown, handler: unknown) => Promise<() => Promise<void>> }
    try {
      const known = orchestratorEventTypes.join(", ")
      for (const [type, shown] of [["nope:event", "\"nope:event\""], ["run:complete", "\"run:complete\""], [42, "42"], ["a\nb", "\"a\\nb\""]] as const) {
        const error: unknown = await loose.on(type, () => undefined).then(() => undefined, (e: unknown) => e)
        assert.instanceOf(error, TypeError, String(type))
        assert.strictEqual((error as Error).message, `orchestrator.on: ${shown} is no event type; the event types are ${known}.`)
      }
      const handler: unknown = await loose.on("run:completed", "not a function").then(() => undefined, (e: unknown) => e)
      assert.instanceOf(handler, TypeError)
      assert.strictEqual((handler as Error).message, "orchestrator.on: the handler must be a function, not a string.")
      const { manifest } = await orchestrator.start({ pipelineId: "ci", taskId: "facade" })
      assert.strictEqual(manifest.status, "succeeded")
    } finally {
      await orchestrator.dispose()
    }
  })
})

describe("createOrchestrator: what a disposed orchestrator rejects with", () => {
  const slow = AppMemory({
    pipelines: { user: [pipeline("slow", [commandStage("wait", "sleep")])] },
    scripts: { sleep: { exitCode: 0, duration: "1 hour" } }
  })

  it("a call after dispose rejects with an Error (OrchestratorDisposed) whose message is one line, not the string 'ManagedRuntime disposed'", async () => {
    const orchestrator = createOrchestrator({ layer })
    await orchestrator.plan({ pipelineId: "ci" })
    await orchestrator.dispose()
    const error: unknown = await orchestrator.plan({ pipelineId: "ci" }).then(() => undefined, (e: unknown) => e)
    assert.instanceOf(error, Error)
    assert.deepInclude(error as object, { _tag: "OrchestratorDisposed", method: "plan", running: false })
    assert.strictEqual((error as Error).message, "orchestrator.plan was called after dispose(); create a new orchestrator to run more.")
  })

  it("a start still running when dispose is called rejects with OrchestratorDisposed, not left pending (the in-memory process would run for an hour)", async () => {
    const orchestrator = createOrchestrator({ layer: slow })
    let runId = ""
    await orchestrator.on("stage:started", (event) => {
      runId = event.runId
    })
    const started = orchestrator.start({ pipelineId: "slow", taskId: "disposed" }).then(() => undefined, (e: unknown) => e)
    while (runId === "") await new Promise((resolve) => setTimeout(resolve, 5))
    await orchestrator.dispose()
    const error = await started
    assert.instanceOf(error, Error)
    assert.deepInclude(error as object, { _tag: "OrchestratorDisposed", method: "start", running: true })
    assert.strictEqual(
      (error as Error).message,
      "orchestrator.start was interrupted: the orchestrator was disposed while it ran (a run it started is recorded cancelled)."
    )
  })
})
