/**
 * Per-stage retries in the run engine (DECISIONS B-1, SPEC RET-1, LOG-1, EXE-4) on the deterministic
 * test kit: scripted processes (a list plays one entry per invocation), an in-memory run store and
 * TestClock, so every backoff is observed to the millisecond without waiting.
 */
import { assert, describe, it } from "@effect/vitest"
import { Chunk, type Duration, Effect, Fiber, Option, Stream, TestClock } from "effect"
import type { OrchestratorEvent, RunCompleted, RunStarted, StageCompleted, StageStarted } from "../src/domain/Events.js"
import { ErrorFile } from "../src/domain/Manifest.js"
import type { PipelineDefinition } from "../src/domain/Pipeline.js"
import type { RunLogEvent } from "../src/domain/RunLog.js"
import { AppMemory, type MemoryAppOptions, type ScriptedProcess } from "../src/layers/App.js"
import { ProcessInvocations } from "../src/layers/ProcessRunner.js"
import { EventBus } from "../src/services/EventBus.js"
import { RunEngine, type StartRequest } from "../src/services/RunEngine.js"
import { jsonFile, listFiles, logFile, manifestFile, onlyManifestPath } from "./support/files.js"
import { at, commandStage, pipeline } from "./support/pipelines.js"

// ---------------------------------------------------------------------------------------------
// Fixtures

const task = "retry-task"

const scripts = {
  /** Fails twice, then succeeds. */
  "./flaky": [
    { output: [{ stream: "stderr", data: "try 1\n" }], exitCode: 1 },
    { output: [{ stream: "stderr", data: "try 2\n" }], exitCode: 1 },
    { output: [{ stream: "stdout", data: "ok\n" }] }
  ],
  "./broken": { output: [{ stream: "stderr", data: "nope\n" }], exitCode: 4 },
  "echo after": { output: [{ stream: "stdout", data: "after\n" }] }
} satisfies Record<string, ScriptedProcess | ReadonlyArray<ScriptedProcess>>

const app = (
  pipelines: ReadonlyArray<PipelineDefinition>,
  extraScripts: Readonly<Record<string, ScriptedProcess | ReadonlyArray<ScriptedProcess>>> = {},
  options: Omit<MemoryAppOptions, "pipelines" | "scripts"> = {}
) => AppMemory({ ...options, scripts: { ...scripts, ...extraScripts }, pipelines: { user: pipelines } })

const flakyFlow = pipeline("flaky", [
  commandStage("flaky", "./flaky", { retry: { attempts: 3 } }),
  commandStage("after", "echo after")
])

// ---------------------------------------------------------------------------------------------
// Helpers

/** Lets `time` pass on the TestClock and returns the outcome of `effect`, which must be done by then. */
const settled = <A, E, R>(effect: Effect.Effect<A, E, R>, time: Duration.DurationInput = "1 minute") =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    yield* TestClock.adjust(time)
    assert.isTrue(Option.isSome(yield* Fiber.poll(fiber)), "the run did not finish in time")
    return yield* Fiber.join(fiber)
  })

const startSettled = (request: StartRequest, time?: Duration.DurationInput) =>
  Effect.flatMap(RunEngine, (engine) => settled(engine.start({ taskId: task, ...request }), time))

const invokedCommands = Effect.flatMap(ProcessInvocations, (p) => p.all).pipe(
  Effect.map((all) => all.map((spec) => spec.command))
)

const invocations = Effect.map(invokedCommands, (all) => all.length)

type EventOf<T extends RunLogEvent["type"]> = Extract<RunLogEvent, { readonly type: T }>

const ofType = <T extends RunLogEvent["type"]>(events: ReadonlyArray<RunLogEvent>, type: T): ReadonlyArray<EventOf<T>> =>
  events.filter((e): e is EventOf<T> => e.type === type)

const types = (events: ReadonlyArray<RunLogEvent>) => events.map((e) => e.type)

/** The manifest of the only run of the task, as it is on disk now (for runs still in progress). */
const currentManifest = Effect.flatMap(onlyManifestPath(task), manifestFile)

// ---------------------------------------------------------------------------------------------

describe("RunEngine: a stage that fails twice, then succeeds with attempts 3 (B-1)", () => {
  it.effect("waits 250 ms then 500 ms between attempts, on the TestClock", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const fiber = yield* Effect.fork(engine.start({ pipelineId: "flaky", taskId: task }))

      yield* TestClock.adjust(0)
      assert.strictEqual(yield* invocations, 1, "at 0 ms: the first attempt only")
      const first = yield* currentManifest
      assert.strictEqual(first.commands[0]?.status, "running")
      assert.strictEqual(first.commands[0]?.attempts, 1, "attempts is 1 once the stage starts")
      assert.strictEqual(first.commands[1]?.status, "pending")

      yield* TestClock.adjust(249)
      assert.strictEqual(yield* invocations, 1, "at 249 ms: still waiting")
      yield* TestClock.adjust(1)
      assert.strictEqual(yield* invocations, 2, "at 250 ms: the second attempt")
      const second = yield* currentManifest
      assert.strictEqual(second.commands[0]?.status, "running")
      assert.strictEqual(second.commands[0]?.attempts, 2, "updated at the retry")

      yield* TestClock.adjust(499)
      assert.strictEqual(yield* invocations, 2, "at 749 ms: still waiting")
      yield* TestClock.adjust(1)
      assert.strictEqual(yield* invocations, 4, "at 750 ms: the third attempt succeeds, then the next stage runs")

      assert.isTrue(Option.isSome(yield* Fiber.poll(fiber)))
      const { layout, manifest } = yield* Fiber.join(fiber)
      assert.deepStrictEqual(yield* invokedCommands, ["./flaky", "./flaky", "./flaky", "echo after"])

      const written = yield* manifestFile(layout.manifest)
      assert.deepStrictEqual(written, manifest)
      assert.strictEqual(written.status, "succeeded")
      assert.strictEqual(written.status_detail, null)
      assert.strictEqual(written.completed_at, at(750))
      assert.deepStrictEqual(written.commands[0], {
        index: 1,
        id: "flaky",
        title: "flaky",
        command: "./flaky",
        kind: "command",
        status: "succeeded",
        started_at: at(0),
        completed_at: at(750),
        exit_code: 0,
        summary: "ok",
        log_path: `${written.artifact_root}/commands/01-flaky.ndjson`,
        error_file: null,
        sub_run_id: null,
        attempts: 3
      })
      assert.strictEqual(written.commands[1]?.status, "succeeded")
      assert.isFalse("attempts" in (written.commands[1] ?? {}), "the stage without a policy has no attempts")
      assert.deepStrictEqual((yield* listFiles).filter((p) => p.includes("/errors/")), [], "no error file")
    }).pipe(Effect.provide(app([flakyFlow]))))

  it.effect("logs exec:begin and exec:end per attempt, exec:retry between them, command:start/end once (LOG-1)", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "flaky" })
      const runner = (yield* logFile(layout.runnerLog)).filter((e) => e.index === 1)
      assert.deepStrictEqual(types(runner), [
        "command:start",
        "exec:begin",
        "exec:end",
        "exec:retry",
        "exec:begin",
        "exec:end",
        "exec:retry",
        "exec:begin",
        "exec:end",
        "command:end"
      ])

      const begins = ofType(runner, "exec:begin")
      assert.deepStrictEqual(begins.map((e) => [e.attempt, e.timestamp]), [[1, at(0)], [2, at(250)], [3, at(750)]])
      const correlationId = begins[0]?.correlation_id
      assert.isString(correlationId)
      for (const event of [...begins, ...ofType(runner, "exec:end"), ...ofType(runner, "exec:retry")]) {
        assert.strictEqual(event.correlation_id, correlationId, "one correlation id across the attempts")
      }

      assert.deepStrictEqual(ofType(runner, "exec:retry"), [
        {
          type: "exec:retry",
          correlation_id: correlationId ?? "",
          attempt: 1,
          delay_ms: 250,
          sandbox_state: "sandboxed",
          error: "exited with code 1",
          timestamp: at(0),
          index: 1
        },
        {
          type: "exec:retry",
          correlation_id: correlationId ?? "",
          attempt: 2,
          delay_ms: 500,
          sandbox_state: "sandboxed",
          error: "exited with code 1",
          timestamp: at(250),
          index: 1
        }
      ])
      assert.deepStrictEqual(
        ofType(runner, "exec:end").map((e) => [e.attempt, e.exit_code, e.signal, e.status, e.timestamp]),
        [[1, 1, null, "failed", at(0)], [2, 1, null, "failed", at(250)], [3, 0, null, "succeeded", at(750)]]
      )
      const end = ofType(runner, "command:end")
      assert.deepStrictEqual(end.map((e) => [e.exit_code, e.signal, e.duration_ms]), [[0, null, 750]])
      assert.strictEqual(ofType(runner, "command:start").length, 1)
      assert.deepStrictEqual(ofType(runner, "exec:chunk"), [], "D-11: no chunk data in runner.ndjson")
    }).pipe(Effect.provide(app([flakyFlow]))))

  it.effect("the stage log holds the same lifecycle, and exec:chunk sequences continue across attempts (EXE-4)", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "flaky" })
      const stage = yield* logFile(layout.stageLog(1, "flaky"))
      assert.deepStrictEqual(types(stage.filter((e) => e.type !== "exec:chunk")), [
        "command:start",
        "exec:begin",
        "exec:end",
        "exec:retry",
        "exec:begin",
        "exec:end",
        "exec:retry",
        "exec:begin",
        "exec:end",
        "command:end"
      ])
      assert.deepStrictEqual(
        ofType(stage, "exec:chunk").map((c) => [c.sequence, c.attempt, c.stream, c.data]),
        [[1, 1, "stderr", "try 1\n"], [2, 2, "stderr", "try 2\n"], [3, 3, "stdout", "ok\n"]]
      )
      assert.deepStrictEqual(ofType(stage, "exec:retry").map((e) => e.delay_ms), [250, 500])
    }).pipe(Effect.provide(app([flakyFlow]))))
})

describe("RunEngine: retries that run out (B-1)", () => {
  it.effect("the last failure fails the run with attempts N, and the error file says so", () =>
    Effect.gen(function*() {
      const { layout, manifest } = yield* startSettled({ pipelineId: "broken" })
      assert.deepStrictEqual(yield* invokedCommands, ["./broken", "./broken", "./broken"], "3 attempts, then stop")
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "failed")
      assert.strictEqual(written.status_detail, "stage:broken:failed")
      assert.strictEqual(written.completed_at, at(750))
      const [broken, after] = written.commands
      assert.strictEqual(broken?.status, "failed")
      assert.strictEqual(broken?.exit_code, 4)
      assert.strictEqual(broken?.attempts, 3)
      assert.strictEqual(broken?.completed_at, at(750))
      assert.strictEqual(broken?.summary, "Exited with code 4 — nope")
      assert.strictEqual(broken?.error_file, `${manifest.artifact_root}/errors/01-broken.json`)
      assert.strictEqual(after?.status, "pending")

      const error = yield* jsonFile(ErrorFile, layout.errorFile(1, "broken"))
      assert.strictEqual(error.reason, "command-failed")
      assert.deepStrictEqual(error.details, { exit_code: 4, sandbox_state: "sandboxed", stderr: "nope", attempts: 3 })

      const runner = (yield* logFile(layout.runnerLog)).filter((e) => e.index === 1)
      assert.deepStrictEqual(ofType(runner, "exec:begin").map((e) => e.attempt), [1, 2, 3])
      assert.deepStrictEqual(
        ofType(runner, "exec:retry").map((e) => [e.attempt, e.delay_ms]),
        [[1, 250], [2, 500]],
        "no retry is announced after the last attempt"
      )
      assert.strictEqual(ofType(runner, "command:end").length, 1)
    }).pipe(Effect.provide(app([pipeline("broken", [
      commandStage("broken", "./broken", { retry: { attempts: 3 } }),
      commandStage("after", "echo after")
    ])]))))

  it.effect("the Schedule waits the policy's own delays: initial 100, factor 10, capped at 2000", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const fiber = yield* Effect.fork(engine.start({ pipelineId: "custom", taskId: task }))
      const counts: Array<number> = []
      for (const step of [0, 99, 1, 999, 1, 1999, 1]) {
        yield* TestClock.adjust(step)
        counts.push(yield* invocations)
      }
      // at 0, 99, 100, 1099, 1100, 3099, 3100 ms
      assert.deepStrictEqual(counts, [1, 1, 2, 2, 3, 3, 4])
      assert.isTrue(Option.isSome(yield* Fiber.poll(fiber)))
      const { layout } = yield* Fiber.join(fiber)
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "failed")
      assert.strictEqual(written.commands[0]?.attempts, 4)
      assert.strictEqual(written.completed_at, at(3100))
      const retries = ofType(yield* logFile(layout.runnerLog), "exec:retry")
      assert.deepStrictEqual(retries.map((e) => [e.attempt, e.delay_ms, e.timestamp]), [
        [1, 100, at(0)],
        [2, 1000, at(100)],
        [3, 2000, at(1100)]
      ])
      const error = yield* jsonFile(ErrorFile, layout.errorFile(1, "broken"))
      assert.strictEqual(error.details["attempts"], 4)
    }).pipe(Effect.provide(app([pipeline("custom", [
      commandStage("broken", "./broken", { retry: { attempts: 4, initialDelayMs: 100, factor: 10, maxDelayMs: 2000 } })
    ])]))))

  it.effect("attempts 1 runs once and waits for nothing, but still records attempts", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "once" }, 0)
      assert.deepStrictEqual(yield* invokedCommands, ["./broken"])
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "failed")
      assert.strictEqual(written.commands[0]?.attempts, 1)
      assert.deepStrictEqual(ofType(yield* logFile(layout.runnerLog), "exec:retry"), [])
      const error = yield* jsonFile(ErrorFile, layout.errorFile(1, "broken"))
      assert.strictEqual(error.details["attempts"], 1)
    }).pipe(Effect.provide(app([pipeline("once", [commandStage("broken", "./broken", { retry: { attempts: 1 } })])]))))
})

describe("RunEngine: what is retried (B-1)", () => {
  it.effect("onExitCodes [75]: exit 75 is retried, exit 1 is not", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "tempfail" })
      assert.deepStrictEqual(yield* invokedCommands, ["./tempfail", "./tempfail"], "75 retried once, then 1 stops")
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "failed")
      assert.strictEqual(written.commands[0]?.exit_code, 1)
      assert.strictEqual(written.commands[0]?.attempts, 2)
      assert.strictEqual(written.completed_at, at(250))
      const runner = yield* logFile(layout.runnerLog)
      assert.deepStrictEqual(ofType(runner, "exec:retry").map((e) => [e.attempt, e.delay_ms, e.error]), [
        [1, 250, "exited with code 75"]
      ])
      const error = yield* jsonFile(ErrorFile, layout.errorFile(1, "tempfail"))
      assert.deepStrictEqual(error.details, { exit_code: 1, sandbox_state: "sandboxed", stderr: "", attempts: 2 })
    }).pipe(Effect.provide(app(
      [pipeline("tempfail", [commandStage("tempfail", "./tempfail", { retry: { attempts: 5, onExitCodes: [75] } })])],
      { "./tempfail": [{ exitCode: 75 }, { exitCode: 1 }, { exitCode: 0 }] }
    ))))

  it.effect("onExitCodes [75]: a first exit 1 is final at once", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "tempfail" }, 0)
      assert.deepStrictEqual(yield* invokedCommands, ["./tempfail"])
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "failed")
      assert.strictEqual(written.commands[0]?.attempts, 1)
      assert.deepStrictEqual(ofType(yield* logFile(layout.runnerLog), "exec:retry"), [])
    }).pipe(Effect.provide(app(
      [pipeline("tempfail", [commandStage("tempfail", "./tempfail", { retry: { attempts: 5, onExitCodes: [75] } })])],
      { "./tempfail": [{ exitCode: 1 }, { exitCode: 0 }] }
    ))))

  it.effect("a timed-out attempt is retried, and the next one can succeed", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const fiber = yield* Effect.fork(engine.start({ pipelineId: "hang", taskId: task }))
      yield* TestClock.adjust(999)
      assert.strictEqual(yield* invocations, 1)
      yield* TestClock.adjust(1)
      assert.strictEqual(yield* invocations, 1, "killed at 1000 ms, then 250 ms of backoff")
      yield* TestClock.adjust(249)
      assert.strictEqual(yield* invocations, 1)
      yield* TestClock.adjust(1)
      assert.strictEqual(yield* invocations, 2, "the second attempt at 1250 ms")
      yield* TestClock.adjust(100)
      assert.isTrue(Option.isSome(yield* Fiber.poll(fiber)))
      const { layout } = yield* Fiber.join(fiber)

      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "succeeded")
      assert.strictEqual(written.status_detail, null)
      assert.strictEqual(written.commands[0]?.status, "succeeded")
      assert.strictEqual(written.commands[0]?.attempts, 2)
      assert.strictEqual(written.commands[0]?.completed_at, at(1350))
      assert.strictEqual(written.commands[0]?.error_file, null)

      const runner = yield* logFile(layout.runnerLog)
      assert.deepStrictEqual(ofType(runner, "exec:retry").map((e) => [e.attempt, e.delay_ms, e.error, e.timestamp]), [
        [1, 250, "timed out after 1000 ms", at(1000)]
      ])
      assert.deepStrictEqual(
        ofType(runner, "exec:end").map((e) => [e.attempt, e.exit_code, e.signal, e.status, e.duration_ms]),
        [[1, null, "SIGTERM", "failed", 1000], [2, 0, null, "succeeded", 100]]
      )
    }).pipe(Effect.provide(app(
      [pipeline("hang", [commandStage("hang", "./hang", { timeoutMs: 1000, retry: { attempts: 3 } })])],
      { "./hang": [{ duration: "10 seconds" }, { output: [{ stream: "stdout", data: "ok\n" }], duration: "100 millis" }] }
    ))))

  it.effect("a timeout is not retried when onExitCodes is given", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "hang" })
      assert.deepStrictEqual(yield* invokedCommands, ["./hang"])
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "failed")
      assert.strictEqual(written.status_detail, "stage:hang:timeout")
      assert.strictEqual(written.commands[0]?.attempts, 1)
      assert.strictEqual(written.completed_at, at(1000))
      const error = yield* jsonFile(ErrorFile, layout.errorFile(1, "hang"))
      assert.strictEqual(error.reason, "command-timeout")
      assert.strictEqual(error.details["attempts"], 1)
      assert.strictEqual(error.details["timeout_ms"], 1000)
    }).pipe(Effect.provide(app(
      [pipeline("hang", [commandStage("hang", "./hang", { timeoutMs: 1000, retry: { attempts: 3, onExitCodes: [1] } })])],
      { "./hang": [{ duration: "10 seconds" }, { duration: "100 millis" }] }
    ))))

  it.effect("every attempt timing out: failed with status_detail timeout and attempts N", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "hang" })
      assert.deepStrictEqual(yield* invokedCommands, ["./hang", "./hang"])
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "failed")
      assert.strictEqual(written.status_detail, "stage:hang:timeout")
      assert.strictEqual(written.commands[0]?.attempts, 2)
      assert.strictEqual(written.completed_at, at(2250), "1000 + 250 + 1000 ms")
      const error = yield* jsonFile(ErrorFile, layout.errorFile(1, "hang"))
      assert.strictEqual(error.reason, "command-timeout")
      assert.strictEqual(error.details["attempts"], 2)
    }).pipe(Effect.provide(app(
      [pipeline("hang", [commandStage("hang", "./hang", { timeoutMs: 1000, retry: { attempts: 2 } })])],
      { "./hang": { duration: "10 seconds" } }
    ))))

  it.effect("a spawn error is never retried (RET-1)", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "spawn" }, 0)
      assert.deepStrictEqual(yield* invokedCommands, ["./boot.sh"])
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "failed")
      assert.strictEqual(written.status_detail, "stage:boot:error")
      assert.strictEqual(written.commands[0]?.attempts, 1)
      assert.strictEqual(written.commands[0]?.completed_at, at(0))
      const runner = yield* logFile(layout.runnerLog)
      assert.deepStrictEqual(ofType(runner, "exec:retry"), [])
      assert.deepStrictEqual(ofType(runner, "exec:begin").map((e) => e.attempt), [1])
      const error = yield* jsonFile(ErrorFile, layout.errorFile(1, "boot"))
      assert.strictEqual(error.reason, "command-error")
      assert.strictEqual(error.details["attempts"], 1)
    }).pipe(Effect.provide(app(
      [pipeline("spawn", [commandStage("boot", "./boot.sh", { retry: { attempts: 3 } })])],
      { "./boot.sh": [{ spawnError: "permission denied" }, { exitCode: 0 }] }
    ))))

  it.effect("allowFailure with retries: retried, then skipped with attempts N", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "soft" })
      assert.deepStrictEqual(yield* invokedCommands, ["./broken", "./broken", "echo after"])
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "succeeded")
      assert.strictEqual(written.commands[0]?.status, "skipped")
      assert.strictEqual(written.commands[0]?.attempts, 2)
      const error = yield* jsonFile(ErrorFile, layout.errorFile(1, "soft"))
      assert.strictEqual(error.reason, "command-allow-failure")
      assert.strictEqual(error.details["attempts"], 2)
    }).pipe(Effect.provide(app([pipeline("soft", [
      commandStage("soft", "./broken", { allowFailure: true, retry: { attempts: 2 } }),
      commandStage("after", "echo after")
    ])]))))
})

describe("RunEngine: stages without a retry policy", () => {
  it.effect("have no attempts key, run once, and their error file has no attempts", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const fiber = yield* Effect.fork(engine.start({ pipelineId: "plain", taskId: task }))
      yield* TestClock.adjust(0)
      const running = yield* currentManifest
      assert.strictEqual(running.commands[0]?.status, "running")
      assert.isFalse("attempts" in (running.commands[0] ?? {}), "not even while running")
      yield* TestClock.adjust("1 minute")
      const { layout } = yield* Fiber.join(fiber)

      assert.deepStrictEqual(yield* invokedCommands, ["./broken"], "no policy: never retried")
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "failed")
      for (const entry of written.commands) assert.isFalse("attempts" in entry, `${entry.id} has attempts`)
      const error = yield* jsonFile(ErrorFile, layout.errorFile(1, "broken"))
      assert.deepStrictEqual(error.details, { exit_code: 4, sandbox_state: "sandboxed", stderr: "nope" })
      assert.deepStrictEqual(ofType(yield* logFile(layout.runnerLog), "exec:retry"), [])
    }).pipe(Effect.provide(app(
      [pipeline("plain", [commandStage("broken", "./broken"), commandStage("after", "echo after")])],
      { "./broken": { output: [{ stream: "stderr", data: "nope\n" }], exitCode: 4, duration: "1 second" } }
    ))))
})

describe("RunEngine: resume after retries ran out (RUN-9, B-1)", () => {
  it.effect("re-runs the stage with a fresh attempt count", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const started = yield* startSettled({ pipelineId: "again" })
      const runId = started.manifest.run_id
      assert.strictEqual(started.manifest.status, "failed")
      assert.strictEqual(started.manifest.commands[0]?.attempts, 2)
      assert.strictEqual(started.manifest.completed_at, at(250))

      const fiber = yield* Effect.fork(engine.resume({ runId, taskId: task }))
      yield* TestClock.adjust(0)
      const midway = yield* manifestFile(started.layout.manifest)
      assert.strictEqual(midway.commands[0]?.status, "running")
      assert.strictEqual(midway.commands[0]?.attempts, 1, "the count starts over, not at 3")
      assert.strictEqual(yield* invocations, 3)

      yield* TestClock.adjust(250)
      assert.isTrue(Option.isSome(yield* Fiber.poll(fiber)))
      const resumed = yield* Fiber.join(fiber)
      assert.strictEqual(resumed.manifest.run_id, runId)
      assert.strictEqual(resumed.manifest.status, "succeeded")
      const [again, after] = resumed.manifest.commands
      assert.strictEqual(again?.status, "succeeded")
      assert.strictEqual(again?.attempts, 2, "two attempts in this resume, not four")
      assert.strictEqual(again?.error_file, null)
      assert.strictEqual(after?.status, "succeeded")
      assert.deepStrictEqual(yield* invokedCommands, ["./again", "./again", "./again", "./again", "echo after"])

      // The stage log is appended to: two attempts of the first run, then two of the resume.
      const stage = yield* logFile(started.layout.stageLog(1, "again"))
      const begins = ofType(stage, "exec:begin")
      assert.deepStrictEqual(begins.map((e) => e.attempt), [1, 2, 1, 2])
      assert.notStrictEqual(begins[0]?.correlation_id, begins[2]?.correlation_id, "the resume is a new execution")
      assert.deepStrictEqual(ofType(stage, "exec:retry").map((e) => [e.attempt, e.delay_ms]), [[1, 250], [1, 250]])
      assert.strictEqual(ofType(stage, "command:start").length, 2)
      assert.strictEqual(ofType(stage, "command:end").length, 2)
    }).pipe(Effect.provide(app(
      [pipeline("again", [
        commandStage("again", "./again", { retry: { attempts: 2 } }),
        commandStage("after", "echo after")
      ])],
      { "./again": [{ exitCode: 1 }, { exitCode: 1 }, { exitCode: 1 }, { exitCode: 0 }] }
    ))))
})

describe("RunEngine: tool:call and run:error events (EVT-2)", () => {
  /** Every tool:call and run:error event of a run, in publication order, as short strings. */
  const recordedEvents = (request: StartRequest) =>
    Effect.scoped(Effect.gen(function*() {
      const bus = yield* EventBus
      const seen: Array<string> = []
      yield* bus.on("tool:call", (e) => Effect.sync(() => seen.push(`${e.stageIndex}:${e.stageId}:${e.attempt}:${e.status}:${e.message}${e.delayMs === undefined ? "" : `:${e.delayMs}ms`}`)))
      yield* bus.on("run:error", (e) => Effect.sync(() => seen.push(`error:${e.pipelineId}:${e.stageId}:${e.message}`)))
      const outcome = yield* startSettled(request)
      yield* bus.settled
      return { outcome, seen }
    }))

  it.effect("a retried stage reports each attempt, the retry with its backoff and the final success; a succeeded run has no run:error", () =>
    Effect.gen(function*() {
      const { outcome, seen } = yield* recordedEvents({ pipelineId: "flaky" })
      assert.strictEqual(outcome.manifest.status, "succeeded")
      assert.deepStrictEqual(seen, [
        "1:flaky:1:started:./flaky",
        "1:flaky:1:retry:exited with code 1:250ms",
        "1:flaky:2:started:./flaky",
        "1:flaky:2:retry:exited with code 1:500ms",
        "1:flaky:3:started:./flaky",
        "1:flaky:3:succeeded:exited with code 0",
        "2:after:1:started:echo after",
        "2:after:1:succeeded:exited with code 0"
      ])
    }).pipe(Effect.provide(app([flakyFlow]))))

  it.effect("a run that stops at a failed stage publishes run:error with the stage and its summary", () =>
    Effect.gen(function*() {
      const { outcome, seen } = yield* recordedEvents({ pipelineId: "fails" })
      assert.strictEqual(outcome.manifest.status, "failed")
      const summary = outcome.manifest.commands[0]?.summary
      assert.isString(summary)
      assert.deepStrictEqual(seen, [
        "1:broken:1:started:./broken",
        "1:broken:1:failed:exited with code 4",
        `error:fails:broken:${summary}`
      ])
    }).pipe(Effect.provide(app([pipeline("fails", [commandStage("broken", "./broken"), commandStage("after", "echo after")])]))))
})

describe("RunEngine: run:started, stage:started and stage:completed carry the entry (EVT-2)", () => {
  it.effect("each names the stage's status, log, exit code and summary as its manifest entry has them", () =>
    Effect.gen(function*() {
      // One wildcard subscription keeps the publication order across event types.
      const events = yield* Effect.scoped(Effect.gen(function*() {
        const stream = yield* (yield* EventBus).subscribe
        const collector = yield* Effect.fork(Stream.runCollect(stream.pipe(Stream.takeUntil((e) => e.type === "run:completed"))))
        const outcome = yield* startSettled({ pipelineId: "two" })
        const all: ReadonlyArray<OrchestratorEvent> = Chunk.toReadonlyArray(yield* Fiber.join(collector))
        const seen = all.filter((e): e is RunStarted | StageStarted | StageCompleted =>
          e.type === "run:started" || e.type === "stage:started" || e.type === "stage:completed"
        )
        return { outcome, seen, completed: all.find((e): e is RunCompleted => e.type === "run:completed") }
      }))
      const root = events.outcome.manifest.artifact_root
      assert.deepStrictEqual(
        [events.completed?.pipelineId, events.completed?.status, events.completed?.manifestPath, events.completed?.runSummaryPath],
        ["two", "failed", `${root}/manifest.json`, `${root}/run-summary.json`]
      )
      assert.strictEqual(events.completed?.metricsPath, `.runs/${task}/metrics.json`)
      const [first, second] = events.outcome.manifest.commands
      if (first === undefined || second === undefined) return assert.fail("two entries expected")
      assert.strictEqual(events.outcome.manifest.status, "failed")
      assert.isString(first.log_path)
      assert.isString(second.summary)
      const shortly: Array<unknown> = events.seen.map((e) =>
        e.type === "run:started"
          ? { type: e.type, manifestPath: e.manifestPath, stages: e.stages.map((s) => [s.id, s.status, s.logPath, s.exitCode]) }
          : e.type === "stage:started"
          ? { type: e.type, stageId: e.stageId, status: e.status, logPath: e.logPath }
          : { type: e.type, stageId: e.stageId, status: e.status, logPath: e.logPath, exitCode: e.exitCode, summary: e.summary }
      )
      assert.deepStrictEqual(shortly, [
        {
          type: "run:started",
          manifestPath: `${events.outcome.manifest.artifact_root}/manifest.json`,
          stages: [["ok", "pending", null, null], ["bad", "pending", null, null]]
        },
        { type: "stage:started", stageId: "ok", status: "running", logPath: first.log_path },
        { type: "stage:completed", stageId: "ok", status: "succeeded", logPath: first.log_path, exitCode: 0, summary: first.summary },
        { type: "stage:started", stageId: "bad", status: "running", logPath: second.log_path },
        { type: "stage:completed", stageId: "bad", status: "failed", logPath: second.log_path, exitCode: 3, summary: second.summary }
      ])
    }).pipe(Effect.provide(app(
      [pipeline("two", [commandStage("ok", "echo after"), commandStage("bad", "./bad")])],
      { "./bad": [{ exitCode: 3 }] }
    ))))
})

