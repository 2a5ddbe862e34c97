/**
 * Executors (SPEC MODE-1, DECISIONS B-3): which executor a run's stages use and what the run records
 * about it, through the deterministic test kit; and the local executor's event stream on scripted
 * processes (Started, Output..., Heartbeat, Exited; interruption stops the process). TestClock only.
 */
import { assert, describe, it } from "@effect/vitest"
import { Chunk, type Duration, Effect, Fiber, Layer, Option, Ref, Stream, TestClock } from "effect"
import type { PipelineDefinition } from "../src/domain/Pipeline.js"
import { RunSummary } from "../src/domain/RunSummary.js"
import { AppMemory, type MemoryAppOptions, type ScriptedProcess } from "../src/layers/App.js"
import { ExecutorLocal, executorFromStream } from "../src/layers/Executor.js"
import { OrchestratorConfigTest } from "../src/layers/OrchestratorConfig.js"
import { ProcessInvocations, ProcessRunnerMemory } from "../src/layers/ProcessRunner.js"
import { CloudExecutor, type ExecutionEvent, type ExecutionRequest, Executor } from "../src/services/Executor.js"
import { ProcessRunner } from "../src/services/ProcessRunner.js"
import { RunEngine, type StartRequest } from "../src/services/RunEngine.js"
import { jsonFile, logFile, manifestFile } from "./support/files.js"
import { commandStage, pipeline } from "./support/pipelines.js"

// ---------------------------------------------------------------------------------------------
// Fixtures

const task = "exec-task"
const fallbackReason = "no cloud executor is configured; the run executed locally"

const scripts = {
  "echo one": { output: [{ stream: "stdout", data: "one\n" }], duration: "1 second" },
  "echo two": { output: [{ stream: "stdout", data: "two\n" }], duration: "1 second" }
} satisfies Record<string, ScriptedProcess>

const twoStages = pipeline("two", [commandStage("one", "echo one"), commandStage("two", "echo two")])

const app = (pipelines: ReadonlyArray<PipelineDefinition>, options: Omit<MemoryAppOptions, "pipelines" | "scripts"> = {}) =>
  AppMemory({ ...options, scripts, pipelines: { user: pipelines } })

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/**
 * A remote executor that runs nothing: it records each request and answers Started, one Output
 * chunk, and Exited with the code `exitCodeOf` gives.
 */
const fakeCloud = (requests: Ref.Ref<ReadonlyArray<ExecutionRequest>>, exitCodeOf: (request: ExecutionRequest) => number = () => 0) =>
  Layer.succeed(
    CloudExecutor,
    CloudExecutor.of(executorFromStream("fake-cloud", (request) =>
      Stream.unwrap(Ref.update(requests, (all) => [...all, request]).pipe(Effect.as(Stream.make<Array<ExecutionEvent>>(
        { _tag: "Started", pid: undefined },
        { _tag: "Output", stream: "stdout", chunks: Chunk.of(encoder.encode(`remote ${request.stageId} ${request.attempt}\n`)) },
        { _tag: "Exited", exit: { exitCode: exitCodeOf(request), signal: null } }
      ))))))
  )

const startSettled = (request: Omit<StartRequest, "taskId">, time: Duration.DurationInput = "1 minute") =>
  Effect.gen(function*() {
    const engine = yield* RunEngine
    const fiber = yield* Effect.fork(engine.start({ taskId: task, ...request }))
    yield* TestClock.adjust(time)
    assert.isTrue(Option.isSome(yield* Fiber.poll(fiber)), "the run did not finish in time")
    return yield* Fiber.join(fiber)
  })

const invokedCommands = Effect.flatMap(ProcessInvocations, (p) => p.all).pipe(Effect.map((all) => all.map((spec) => spec.command)))

// ---------------------------------------------------------------------------------------------

describe("Executor choice in runs (MODE-1, B-3)", () => {
  it.effect("cloud without a cloud executor: runs locally, records cloud and the fallback reason", () =>
    Effect.gen(function*() {
      const { layout, manifest } = yield* startSettled({ pipelineId: "two", executionMode: "cloud" })
      assert.deepStrictEqual(yield* invokedCommands, ["echo one", "echo two"])
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "succeeded")
      assert.strictEqual(written.execution_mode, "cloud")
      assert.strictEqual(written.cloud_fallback_reason, fallbackReason)
      assert.deepStrictEqual(written, manifest)
      const summary = yield* jsonFile(RunSummary, layout.runSummary)
      assert.strictEqual(summary.mode, "cloud")
      assert.strictEqual(summary.build.mode, "cloud")
      assert.strictEqual(summary.cloudFallbackReason, fallbackReason)
    }).pipe(Effect.provide(app([twoStages]))))

  it.effect("mcp by default: local, no fallback reason", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "two" })
      assert.deepStrictEqual(yield* invokedCommands, ["echo one", "echo two"])
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.execution_mode, "mcp")
      assert.strictEqual(written.cloud_fallback_reason, null)
      const summary = yield* jsonFile(RunSummary, layout.runSummary)
      assert.strictEqual(summary.mode, "mcp")
      assert.isUndefined(summary.cloudFallbackReason)
    }).pipe(Effect.provide(app([twoStages]))))

  it.effect("mcp forced while a cloud executor exists: the local one runs", () =>
    Effect.gen(function*() {
      const requests = yield* Ref.make<ReadonlyArray<ExecutionRequest>>([])
      yield* Effect.gen(function*() {
        const { layout } = yield* startSettled({ pipelineId: "two", executionMode: "mcp" })
        assert.deepStrictEqual(yield* Ref.get(requests), [])
        assert.deepStrictEqual(yield* invokedCommands, ["echo one", "echo two"])
        const written = yield* manifestFile(layout.manifest)
        assert.strictEqual(written.execution_mode, "mcp")
        assert.strictEqual(written.cloud_fallback_reason, null)
      }).pipe(Effect.provide(app([twoStages], { cloudExecutor: fakeCloud(requests) })))
    }))

  it.effect("cloud with a cloud executor: the stages run there, not as processes; no fallback reason", () =>
    Effect.gen(function*() {
      const requests = yield* Ref.make<ReadonlyArray<ExecutionRequest>>([])
      yield* Effect.gen(function*() {
        const { layout, manifest } = yield* startSettled({ pipelineId: "two", executionMode: "cloud" })
        assert.deepStrictEqual(yield* invokedCommands, [], "no local process")
        const written = yield* manifestFile(layout.manifest)
        assert.strictEqual(written.status, "succeeded")
        assert.strictEqual(written.execution_mode, "cloud")
        assert.strictEqual(written.cloud_fallback_reason, null)
        const summary = yield* jsonFile(RunSummary, layout.runSummary)
        assert.strictEqual(summary.mode, "cloud")
        assert.isUndefined(summary.cloudFallbackReason)
        // The remote output is the stage's output.
        const chunks = (yield* logFile(layout.stageLog(1, "one"))).flatMap((e) => e.type === "exec:chunk" ? [e.data] : [])
        assert.deepStrictEqual(chunks, ["remote one 1\n"])
        assert.deepStrictEqual((yield* Ref.get(requests)).map((r) => [r.stageId, r.command, r.cwd]), [
          ["one", "echo one", "/repo"],
          ["two", "echo two", "/repo"]
        ])
        assert.strictEqual((yield* Ref.get(requests))[0]?.runId, manifest.run_id)
        assert.strictEqual((yield* Ref.get(requests))[0]?.env["CODEX_ORCHESTRATOR_RUN_ID"], manifest.run_id)
      }).pipe(Effect.provide(app([twoStages], { cloudExecutor: fakeCloud(requests) })))
    }))

  it.effect("each request's idempotency key is distinct per stage and attempt (a retried stage's attempt 2)", () =>
    Effect.gen(function*() {
      const requests = yield* Ref.make<ReadonlyArray<ExecutionRequest>>([])
      const flaky = pipeline("flaky", [
        commandStage("flaky", "./flaky", { retry: { attempts: 3, initialDelayMs: 100 } }),
        commandStage("after", "echo after")
      ])
      const failFirst = (request: ExecutionRequest) => request.stageId === "flaky" && request.attempt === 1 ? 1 : 0
      yield* Effect.gen(function*() {
        const engine = yield* RunEngine
        const fiber = yield* Effect.fork(engine.start({ taskId: task, pipelineId: "flaky", executionMode: "cloud" }))
        yield* TestClock.adjust(99)
        assert.strictEqual((yield* Ref.get(requests)).length, 1, "attempt 2 waits for the 100 ms backoff")
        yield* TestClock.adjust(1)
        assert.strictEqual((yield* Ref.get(requests)).length, 3, "attempt 2 at 100 ms, then the next stage")
        const { layout, manifest } = yield* Fiber.join(fiber)
        const runId = manifest.run_id
        const sent = yield* Ref.get(requests)
        assert.deepStrictEqual(sent.map((r) => [r.stageId, r.attempt, r.idempotencyKey]), [
          ["flaky", 1, `cli-command:${runId}:flaky:attempt-1`],
          ["flaky", 2, `cli-command:${runId}:flaky:attempt-2`],
          ["after", 1, `cli-command:${runId}:after:attempt-1`]
        ])
        assert.strictEqual(new Set(sent.map((r) => r.idempotencyKey)).size, sent.length)
        const written = yield* manifestFile(layout.manifest)
        assert.strictEqual(written.commands[0]?.attempts, 2)
        assert.strictEqual(written.commands[0]?.status, "succeeded")
        assert.deepStrictEqual(yield* invokedCommands, [])
      }).pipe(Effect.provide(AppMemory({ pipelines: { user: [flaky] }, cloudExecutor: fakeCloud(requests, failFirst) })))
    }))

  it.effect("a resumed run's attempts get keys of their own, never the key of an attempt before the resume", () =>
    Effect.gen(function*() {
      const requests = yield* Ref.make<ReadonlyArray<ExecutionRequest>>([])
      const shaky = pipeline("shaky", [commandStage("one", "echo one"), commandStage("two", "./two")])
      // `two` fails on its first request (before the resume) and succeeds on every later one.
      const failFirstTwo = (() => {
        let seen = 0
        return (request: ExecutionRequest) => request.stageId === "two" && seen++ === 0 ? 1 : 0
      })()
      yield* Effect.gen(function*() {
        const engine = yield* RunEngine
        const failed = yield* startSettled({ pipelineId: "shaky", executionMode: "cloud" })
        const runId = failed.manifest.run_id
        assert.strictEqual(failed.manifest.status, "failed")
        const resumedFiber = yield* Effect.fork(engine.resume({ runId, taskId: task, executionMode: "cloud" }))
        yield* TestClock.adjust("1 minute")
        const resumed = yield* Fiber.join(resumedFiber)
        assert.strictEqual(resumed.manifest.status, "succeeded")
        const sent = (yield* Ref.get(requests)).map((r) => [r.stageId, r.attempt, r.idempotencyKey])
        assert.deepStrictEqual(sent, [
          ["one", 1, `cli-command:${runId}:one:attempt-1`],
          ["two", 1, `cli-command:${runId}:two:attempt-1`],
          ["two", 1, `cli-command:${runId}:two:resume-1:attempt-1`]
        ])
      }).pipe(Effect.provide(app([shaky], { cloudExecutor: fakeCloud(requests, failFirstTwo) })))
    }))

  it.effect("a run with a cloud stage hint goes to the cloud executor through the mode policy", () =>
    Effect.gen(function*() {
      const requests = yield* Ref.make<ReadonlyArray<ExecutionRequest>>([])
      const hinted = pipeline("hinted", [commandStage("one", "echo one", { executionMode: "cloud" })])
      yield* Effect.gen(function*() {
        const { layout } = yield* startSettled({ pipelineId: "hinted" })
        assert.deepStrictEqual((yield* Ref.get(requests)).map((r) => r.stageId), ["one"])
        assert.strictEqual((yield* manifestFile(layout.manifest)).execution_mode, "cloud")
      }).pipe(Effect.provide(app([hinted], { cloudExecutor: fakeCloud(requests) })))
    }))
})

describe("Execution mode per stage (D-23)", () => {
  const mixed = pipeline("mixed", [
    commandStage("one", "echo one"),
    commandStage("two", "echo two", { executionMode: "cloud" })
  ])

  it.effect("a stage that says cloud runs there while the run's mode (mcp, even forced) runs the others locally", () =>
    Effect.gen(function*() {
      const requests = yield* Ref.make<ReadonlyArray<ExecutionRequest>>([])
      yield* Effect.gen(function*() {
        const { layout } = yield* startSettled({ pipelineId: "mixed", executionMode: "mcp" })
        assert.deepStrictEqual((yield* Ref.get(requests)).map((r) => r.stageId), ["two"])
        assert.deepStrictEqual(yield* invokedCommands, ["echo one"])
        const written = yield* manifestFile(layout.manifest)
        assert.strictEqual(written.status, "succeeded")
        assert.strictEqual(written.execution_mode, "mcp")
        assert.strictEqual(written.cloud_fallback_reason, null)
        const chunks = (yield* logFile(layout.stageLog(2, "two"))).flatMap((e) => e.type === "exec:chunk" ? [e.data] : [])
        assert.deepStrictEqual(chunks, ["remote two 1\n"])
      }).pipe(Effect.provide(app([mixed], { cloudExecutor: fakeCloud(requests) })))
    }))

  it.effect("a stage that says mcp runs locally in a cloud run; the others go to the cloud executor", () =>
    Effect.gen(function*() {
      const requests = yield* Ref.make<ReadonlyArray<ExecutionRequest>>([])
      const localFirst = pipeline("local-first", [
        commandStage("one", "echo one", { executionMode: "mcp" }),
        commandStage("two", "echo two")
      ])
      yield* Effect.gen(function*() {
        const { layout } = yield* startSettled({ pipelineId: "local-first", executionMode: "cloud" })
        assert.deepStrictEqual((yield* Ref.get(requests)).map((r) => r.stageId), ["two"])
        assert.deepStrictEqual(yield* invokedCommands, ["echo one"])
        assert.strictEqual((yield* manifestFile(layout.manifest)).execution_mode, "cloud")
      }).pipe(Effect.provide(app([localFirst], { cloudExecutor: fakeCloud(requests) })))
    }))

  it.effect("without a cloud executor a cloud stage runs locally and the fallback reason names it", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "mixed", executionMode: "mcp" })
      assert.deepStrictEqual(yield* invokedCommands, ["echo one", "echo two"])
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "succeeded")
      assert.strictEqual(written.cloud_fallback_reason, `${fallbackReason} (stages two asked for cloud)`)
    }).pipe(Effect.provide(app([mixed]))))
})

// ---------------------------------------------------------------------------------------------
// The local executor on scripted processes

const request = (command: string): ExecutionRequest => ({
  idempotencyKey: `k-${command}`,
  runId: "r1",
  stageId: "s",
  attempt: 1,
  command,
  cwd: "/repo",
  env: { A: "1" }
})

/** Events with their chunks as text, for comparison. */
const readable = (events: ReadonlyArray<ExecutionEvent>) =>
  events.map((event) =>
    event._tag === "Output"
      ? { _tag: "Output", stream: event.stream, text: Chunk.toReadonlyArray(event.chunks).map((c) => decoder.decode(c)).join("") }
      : event
  )

const local = (processes: Parameters<typeof ProcessRunnerMemory>[0]) =>
  ExecutorLocal.pipe(Layer.provideMerge(Layer.merge(ProcessRunnerMemory(processes), OrchestratorConfigTest("/repo"))))

describe("ExecutorLocal", () => {
  it.effect("a short process: Started, its output in order, Exited", () =>
    Effect.gen(function*() {
      const executor = yield* Executor
      assert.strictEqual(executor.name, "local")
      const events = yield* Stream.runCollect(executor.execute(request("quick")))
      assert.deepStrictEqual(readable(Chunk.toReadonlyArray(events)), [
        { _tag: "Started", pid: 10001 },
        { _tag: "Output", stream: "stdout", text: "a\n" },
        { _tag: "Output", stream: "stderr", text: "b\n" },
        { _tag: "Output", stream: "stdout", text: "c\n" },
        { _tag: "Exited", exit: { exitCode: 3, signal: null } }
      ])
      const [spec] = yield* Effect.flatMap(ProcessInvocations, (p) => p.all)
      assert.deepStrictEqual(spec, { command: "quick", cwd: "/repo", env: { A: "1" } })
    }).pipe(Effect.provide(local({
      quick: {
        output: [{ stream: "stdout", data: "a\n" }, { stream: "stderr", data: "b\n" }, { stream: "stdout", data: "c\n" }],
        exitCode: 3
      }
    }))))

  it.effect("a long process: a Heartbeat every heartbeat interval (5 s) while it runs", () =>
    Effect.gen(function*() {
      const executor = yield* Executor
      const fiber = yield* Effect.fork(Stream.runCollect(executor.execute(request("long"))))
      yield* TestClock.adjust("12 seconds")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "still running at 12 s")
      yield* TestClock.adjust("1 second")
      const events = Chunk.toReadonlyArray(yield* Fiber.join(fiber))
      assert.deepStrictEqual(readable(events), [
        { _tag: "Started", pid: 10001 },
        { _tag: "Output", stream: "stdout", text: "start\n" },
        { _tag: "Output", stream: "stderr", text: "later\n" },
        { _tag: "Heartbeat", at: 5000 },
        { _tag: "Heartbeat", at: 10000 },
        { _tag: "Exited", exit: { exitCode: 0, signal: null } }
      ])
    }).pipe(Effect.provide(local({
      long: {
        output: [{ stream: "stdout", data: "start\n" }, { stream: "stderr", data: "later\n", after: "1 second" }],
        duration: "12 seconds"
      }
    }))))

  it.effect("a killed process ends with its signal; a process that cannot start fails the stream", () =>
    Effect.gen(function*() {
      const executor = yield* Executor
      const killed = Chunk.toReadonlyArray(yield* Stream.runCollect(executor.execute(request("killed"))))
      assert.deepStrictEqual(killed.at(-1), { _tag: "Exited", exit: { exitCode: null, signal: "SIGKILL" } })
      const error = yield* Effect.flip(Stream.runCollect(executor.execute(request("nope"))))
      assert.strictEqual(error._tag, "ProcessSpawnError")
      assert.strictEqual(error.reason, "no shell")
    }).pipe(Effect.provide(local({ killed: { signal: "SIGKILL" }, nope: { spawnError: "no shell" } }))))

  it.effect("interrupting the consumer stops the process", () =>
    Effect.gen(function*() {
      const state = yield* Ref.make<{ readonly chunks: number; readonly interrupted: boolean }>({ chunks: 0, interrupted: false })
      // A process that prints every second, forever, and notes when it is stopped.
      const endless = Layer.succeed(
        ProcessRunner,
        ProcessRunner.of({
          run: (_spec, handlers) =>
            Effect.gen(function*() {
              yield* handlers.onStart(777)
              while (true) {
                yield* Effect.sleep("1 second")
                yield* Ref.update(state, (s) => ({ ...s, chunks: s.chunks + 1 }))
                yield* handlers.onOutput("stdout", Chunk.of(encoder.encode("tick\n")))
              }
            }).pipe(Effect.onInterrupt(() => Ref.update(state, (s) => ({ ...s, interrupted: true }))))
        })
      )
      yield* Effect.gen(function*() {
        const executor = yield* Executor
        const seen = yield* Ref.make<ReadonlyArray<ExecutionEvent["_tag"]>>([])
        const consumer = yield* Effect.fork(
          Stream.runForEach(executor.execute(request("endless")), (event) => Ref.update(seen, (all) => [...all, event._tag]))
        )
        yield* TestClock.adjust("3500 millis")
        assert.deepStrictEqual(yield* Ref.get(seen), ["Started", "Output", "Output", "Output"])
        yield* Fiber.interrupt(consumer)
        assert.isTrue((yield* Ref.get(state)).interrupted, "the process was interrupted with its consumer")
        const printed = (yield* Ref.get(state)).chunks
        yield* TestClock.adjust("1 minute")
        assert.strictEqual((yield* Ref.get(state)).chunks, printed, "nothing runs after the interruption")
      }).pipe(Effect.provide(ExecutorLocal.pipe(Layer.provide(Layer.merge(endless, OrchestratorConfigTest("/repo"))))))
    }))

  it.effect("a consumer that stops early (take) stops the process too", () =>
    Effect.gen(function*() {
      const interrupted = yield* Ref.make(false)
      const endless = Layer.succeed(
        ProcessRunner,
        ProcessRunner.of({
          run: (_spec, handlers) =>
            Effect.gen(function*() {
              yield* handlers.onStart(778)
              while (true) {
                yield* Effect.sleep("1 second")
                yield* handlers.onOutput("stdout", Chunk.of(encoder.encode("tick\n")))
              }
            }).pipe(Effect.onInterrupt(() => Ref.set(interrupted, true)))
        })
      )
      yield* Effect.gen(function*() {
        const executor = yield* Executor
        const fiber = yield* Effect.fork(Stream.runCollect(Stream.take(executor.execute(request("endless")), 2)))
        yield* TestClock.adjust("2 seconds")
        const events = Chunk.toReadonlyArray(yield* Fiber.join(fiber))
        assert.deepStrictEqual(events.map((e) => e._tag), ["Started", "Output"])
        assert.isTrue(yield* Ref.get(interrupted))
      }).pipe(Effect.provide(ExecutorLocal.pipe(Layer.provide(Layer.merge(endless, OrchestratorConfigTest("/repo"))))))
    }))
})
