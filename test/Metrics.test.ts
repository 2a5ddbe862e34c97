/**
 * Run metrics (SPEC MET-1..5, DECISIONS D-10): the pure aggregates of src/domain/Metrics.ts, and the
 * MetricsRecorder through whole runs on the deterministic test kit (in-memory files, scripted
 * processes, TestClock for the lock's backoff and staleness).
 */
import { assert, describe, it } from "@effect/vitest"
import { type Duration, Effect, Fiber, Logger, LogLevel, Option, Schema, TestClock } from "effect"
import {
  type AggregatedLine,
  baselineOf,
  completenessOf,
  MetricsEntry,
  mttrDeltaOf,
  pendingFileName,
  perEpochOf,
  postRolloutOf,
  taskStateOf
} from "../src/domain/Metrics.js"
import { AppMemory, type ScriptedProcess } from "../src/layers/App.js"
import { InMemoryFiles } from "../src/layers/Files.js"
import { Files } from "../src/services/Files.js"
import { RunEngine } from "../src/services/RunEngine.js"
import { decodeJson, fileText, listFiles, manifestFile } from "./support/files.js"
import { at, commandStage, pipeline } from "./support/pipelines.js"

// ---------------------------------------------------------------------------------------------
// Pure aggregates (MET-3, MET-5)

const line = (runId: string, overrides: Partial<AggregatedLine> = {}): AggregatedLine => ({
  run_id: runId,
  status: "succeeded",
  recorded_at: at(0),
  duration_seconds: 10,
  instance_stats: [{ instance_id: "i" }],
  privacy_events: 3,
  control_plane_status: "passed",
  ...overrides
})

const times = (n: number, make: (i: number) => AggregatedLine) => Array.from({ length: n }, (_, i) => make(i))

const updatedAt = at(42)

describe("Metrics: baseline (MET-3)", () => {
  it("is the first line: completion_rate 1 for a succeeded run, 0 otherwise; a missing duration is null", () => {
    assert.deepStrictEqual(baselineOf(line("r1", { recorded_at: at(5), duration_seconds: 12.5 })), {
      run_id: "r1",
      recorded_at: at(5),
      status: "succeeded",
      duration_seconds: 12.5,
      completion_rate: 1
    })
    const failed = baselineOf(line("r2", { status: "failed", duration_seconds: undefined }))
    assert.strictEqual(failed.completion_rate, 0)
    assert.strictEqual(failed.duration_seconds, null)
    assert.strictEqual(baselineOf(line("r3", { status: "cancelled" })).completion_rate, 0)
  })
})

describe("Metrics: post-rollout (MET-3)", () => {
  it("meets the threshold at 95 % completion, not below", () => {
    const at95 = [...times(19, (i) => line(`ok-${i}`)), line("bad", { status: "failed" })]
    assert.deepStrictEqual(postRolloutOf(at95, updatedAt), {
      total_runs: 20,
      succeeded_runs: 19,
      completion_rate: 0.95,
      meets_threshold: true,
      updated_at: updatedAt
    })
    const at90 = [...times(18, (i) => line(`ok-${i}`)), ...times(2, (i) => line(`bad-${i}`, { status: "failed" }))]
    const below = postRolloutOf(at90, updatedAt)
    assert.strictEqual(below.completion_rate, 0.9)
    assert.isFalse(below.meets_threshold)
    const justBelow = postRolloutOf([...times(94, (i) => line(`ok-${i}`)), ...times(5, (i) => line(`bad-${i}`, { status: "failed" }))], updatedAt)
    assert.strictEqual(justBelow.completion_rate, 0.9495)
    assert.isFalse(justBelow.meets_threshold)
  })

  it("no runs: rate 0, not met", () => {
    assert.deepStrictEqual(postRolloutOf([], updatedAt), {
      total_runs: 0,
      succeeded_runs: 0,
      completion_rate: 0,
      meets_threshold: false,
      updated_at: updatedAt
    })
  })
})

describe("Metrics: completeness (MET-3)", () => {
  it("counts absent, null, `unknown` and empty values of the three checked fields; meets below 5 %", () => {
    // 20 lines × 3 fields = 60 checks; 2 missing = 3.33 %.
    const twoMissing = [
      line("a", { instance_stats: [] }),
      line("b", { control_plane_status: "unknown" }),
      ...times(18, (i) => line(`ok-${i}`))
    ]
    assert.deepStrictEqual(completenessOf(twoMissing, updatedAt), {
      checked_fields: ["instance_stats", "privacy_events", "control_plane_status"],
      missing_counts: { instance_stats: 1, privacy_events: 0, control_plane_status: 1 },
      missing_field_ratio: 0.0333,
      meets_threshold: true,
      updated_at: updatedAt
    })
    // 3 missing of 60 = exactly 5 %: not below, so not met.
    const threeMissing = [
      line("a", { instance_stats: null }),
      line("b", { control_plane_status: null }),
      line("c", { privacy_events: undefined }),
      ...times(17, (i) => line(`ok-${i}`))
    ]
    const atFive = completenessOf(threeMissing, updatedAt)
    assert.deepStrictEqual(atFive.missing_counts, { instance_stats: 1, privacy_events: 1, control_plane_status: 1 })
    assert.strictEqual(atFive.missing_field_ratio, 0.05)
    assert.isFalse(atFive.meets_threshold)
  })
})

describe("Metrics: per-epoch (MET-3)", () => {
  it("only when some line has a numeric epoch; epochs in order, lines without one left out", () => {
    assert.isUndefined(perEpochOf([line("a"), line("b", { tfgrpo_epoch: null })], updatedAt))
    const report = perEpochOf([
      line("a", { tfgrpo_epoch: 2 }),
      line("b", { tfgrpo_epoch: 1 }),
      line("c", { tfgrpo_epoch: 1, status: "failed" }),
      line("d", { tfgrpo_epoch: null })
    ], updatedAt)
    assert.strictEqual(report?.updated_at, updatedAt)
    assert.deepStrictEqual(
      report?.epochs.map(({ completion_rate, epoch, runs, succeeded_runs }) => ({ epoch, runs, succeeded_runs, completion_rate })),
      [
        { epoch: 1, runs: 2, succeeded_runs: 1, completion_rate: 0.5 },
        { epoch: 2, runs: 1, succeeded_runs: 1, completion_rate: 1 }
      ]
    )
  })

  it("adds each epoch's tool totals: calls, tokens, cost, latency, mean group size and per-tool sums", () => {
    const stat = (tool: string, tokens: number, latencyMs: number) => ({ tool, tokens, costUsd: tokens * 0.000002, latencyMs })
    const report = perEpochOf([
      line("a", {
        tfgrpo_epoch: 1,
        tfgrpo_group_size: 2,
        tool_calls: 2,
        token_total: 15,
        cost_usd: 0.00003,
        latency_ms: 700,
        tool_stats: [stat("build", 10, 500), stat("test", 5, 200)]
      }),
      line("b", {
        tfgrpo_epoch: 1,
        tfgrpo_group_size: 3,
        tool_calls: 1,
        token_total: 7,
        cost_usd: 0.000014,
        latency_ms: 90,
        // A line written by the original names the fields in snake case; a stat without a tool is skipped.
        tool_stats: [{ tool: "build", tokens: 7, cost_usd: 0.000014, latency_ms: 90 }, { tokens: 99 }]
      }),
      line("c", { tfgrpo_epoch: 2, tool_calls: 0, token_total: null, cost_usd: null, latency_ms: null, tool_stats: null })
    ], updatedAt)
    assert.deepStrictEqual(report?.epochs, [
      {
        epoch: 1,
        runs: 2,
        succeeded_runs: 2,
        completion_rate: 1,
        tool_calls: 3,
        token_total: 22,
        cost_usd: 0.000044,
        latency_ms: 790,
        group_size_avg: 2.5,
        tools: [
          { tool: "build", runs: 2, tokens: 17, cost_usd: 0.000034, latency_ms: 590 },
          { tool: "test", runs: 1, tokens: 5, cost_usd: 0.00001, latency_ms: 200 }
        ]
      },
      {
        epoch: 2,
        runs: 1,
        succeeded_runs: 1,
        completion_rate: 1,
        tool_calls: 0,
        token_total: 0,
        cost_usd: 0,
        latency_ms: 0,
        group_size_avg: null,
        tools: []
      }
    ])
  })
})

describe("Metrics: mttr-delta (MET-3)", () => {
  it("a first run alone does not meet the threshold", () => {
    assert.deepStrictEqual(mttrDeltaOf([line("a", { duration_seconds: 10 })], updatedAt), {
      baseline_mttr_seconds: 10,
      current_mttr_seconds: 10,
      reduction_percent: 0,
      meets_threshold: false,
      updated_at: updatedAt
    })
  })

  it("meets it when the mean is at most 60 % of the first run's duration", () => {
    const met = mttrDeltaOf([line("a", { duration_seconds: 10 }), line("b", { duration_seconds: 2 })], updatedAt)
    assert.deepStrictEqual(met, {
      baseline_mttr_seconds: 10,
      current_mttr_seconds: 6,
      reduction_percent: 40,
      meets_threshold: true,
      updated_at: updatedAt
    })
    const notMet = mttrDeltaOf([line("a", { duration_seconds: 10 }), line("b", { duration_seconds: 2.2 })], updatedAt)
    assert.isFalse(notMet.meets_threshold)
  })

  it("without durations the baseline is 0, which counts as met", () => {
    const none = mttrDeltaOf([line("a", { duration_seconds: null })], updatedAt)
    assert.strictEqual(none.baseline_mttr_seconds, 0)
    assert.isTrue(none.meets_threshold)
  })
})

describe("Metrics: state.json (MET-5)", () => {
  it("counts the learning validation statuses", () => {
    const lines = [
      line("a", { learning_validation_status: "validated", learning_review_rejections: 2, learning_review_latency_ms: 100 }),
      line("b", { learning_validation_status: "validated", learning_review_latency_ms: 300, learning_throughput_candidates: 4 }),
      line("c", { learning_validation_status: "snapshot_failed", learning_regressions_detected: 1 }),
      line("d", { learning_validation_status: "stalled_snapshot", learning_pattern_promoted: 3, learning_pattern_deprecated: 1 }),
      line("e", { learning_validation_status: "needs_manual_scenario" }),
      line("f", { learning_validation_status: "needs_manual_scenario" }),
      line("g", { learning_validation_status: null }),
      line("h")
    ]
    assert.deepStrictEqual(taskStateOf(lines, updatedAt), {
      updated_at: updatedAt,
      safety: {
        validation: { passed: 2, failed: 1, stalled: 1, manual: 2 },
        reviewer: { rejections: 2, average_latency_ms: 200 },
        regression_detection: { detected: 1 },
        pattern_hygiene: { promoted: 3, deprecated: 1 }
      },
      throughput: { candidates: 4 },
      alerts: { total: 4, snapshot_failed: 1, stalled_snapshot: 1, needs_manual_scenario: 2 }
    })
  })
})

describe("Metrics: pending file names (MET-2)", () => {
  it("keeps only [a-zA-Z0-9._-] of the run id", () => {
    assert.strictEqual(pendingFileName("2024-01-01T00:00:00.000Z/x y", 123, "u-1"), "2024-01-01T00_00_00.000Z_x_y-123-u-1.jsonl")
  })
})

// ---------------------------------------------------------------------------------------------
// The recorder through runs (MET-1, MET-2, MET-3, D-10)

const task = "metrics-task"
const taskDir = `/repo/.runs/${task}`
const metricsPath = `${taskDir}/metrics.json`
const lockPath = `${taskDir}/metrics.lock`
const pendingDir = `${taskDir}/metrics.pending`

const scripts = {
  "echo hi": { output: [{ stream: "stdout", data: "hi\n" }], duration: "1 second" }
} satisfies Record<string, ScriptedProcess>

const app = () => AppMemory({ scripts, pipelines: { user: [pipeline("simple", [commandStage("hi", "echo hi")])] } })

/** Starts a run of `simple`, lets time pass, and returns the outcome with what was logged meanwhile. */
const run = (time: Duration.DurationInput = "1 minute") =>
  Effect.gen(function*() {
    const engine = yield* RunEngine
    const logged: Array<readonly [string, string]> = []
    const logger = Logger.make(({ logLevel, message }) => {
      logged.push([logLevel.label, Array.isArray(message) ? message.map(String).join(" ") : String(message)])
    })
    const fiber = yield* Effect.fork(
      engine.start({ pipelineId: "simple", taskId: task }).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
        Logger.withMinimumLogLevel(LogLevel.All)
      )
    )
    yield* TestClock.adjust(time)
    assert.isTrue(Option.isSome(yield* Fiber.poll(fiber)), "the run did not finish in time")
    const outcome = yield* Fiber.join(fiber)
    const warnings = logged.filter(([level]) => level === "WARN").map(([, message]) => message)
    return { ...outcome, warnings }
  })

/** The lines of metrics.json as written (damaged ones included). */
const rawLines = Effect.map(fileText(metricsPath), (text) => text.split("\n").filter((l) => l.length > 0))

const metricsLines = Effect.flatMap(rawLines, (lines) => Effect.forEach(lines, decodeJson(MetricsEntry)))

const plant = (path: string, text: string) => Effect.flatMap(InMemoryFiles, (files) => files.write(path, text))

const filesUnder = (dir: string) => Effect.map(listFiles, (all) => all.filter((p) => p.startsWith(`${dir}/`)))

const jsonAt = (path: string) => Effect.map(fileText(path), (text): unknown => JSON.parse(text))

const baselineRunId = Effect.flatMap(fileText(`${taskDir}/metrics/baseline.json`), (text) =>
  Schema.decodeUnknown(Schema.parseJson(Schema.Struct({ run_id: Schema.String })))(text).pipe(Effect.orDie, Effect.map((b) => b.run_id)))

describe("MetricsRecorder through runs", () => {
  it.effect("two runs: two JSON lines in order, the baseline stays the first run's, metrics_recorded true", () =>
    Effect.gen(function*() {
      const first = yield* run()
      assert.strictEqual(first.manifest.metrics_recorded, true)
      assert.strictEqual((yield* manifestFile(first.layout.manifest)).metrics_recorded, true)
      const baselineAfterFirst = yield* fileText(`${taskDir}/metrics/baseline.json`)
      const baselineWrittenAt = yield* Effect.flatMap(Files, (files) => files.modifiedAt(`${taskDir}/metrics/baseline.json`))

      const second = yield* run()
      assert.strictEqual(second.manifest.metrics_recorded, true)
      const lines = yield* metricsLines
      assert.deepStrictEqual(lines.map((l) => l.run_id), [first.manifest.run_id, second.manifest.run_id])
      const [one, two] = lines
      assert.strictEqual(one?.task_id, task)
      assert.strictEqual(one?.pipeline_id, "simple")
      assert.strictEqual(one?.status, "succeeded")
      assert.strictEqual(one?.duration_seconds, 1)
      assert.strictEqual(one?.commands_passed, 1)
      assert.strictEqual(one?.commands_failed, 0)
      assert.strictEqual(one?.artifact_path, first.manifest.artifact_root)
      assert.strictEqual(two?.started_at, second.manifest.started_at)

      assert.strictEqual(yield* fileText(`${taskDir}/metrics/baseline.json`), baselineAfterFirst, "baseline not rewritten")
      // Rewriting the same content would go unnoticed above; the file's time says it was not written again.
      const modifiedAt = yield* Effect.flatMap(Files, (files) => files.modifiedAt(`${taskDir}/metrics/baseline.json`))
      assert.strictEqual(modifiedAt, baselineWrittenAt)
      const postRolloutAt = yield* Effect.flatMap(Files, (files) => files.modifiedAt(`${taskDir}/metrics/post-rollout.json`))
      assert.isTrue((postRolloutAt ?? 0) > (baselineWrittenAt ?? 0), "the other aggregates were rewritten")
      assert.deepStrictEqual(yield* jsonAt(`${taskDir}/metrics/baseline.json`), {
        run_id: first.manifest.run_id,
        recorded_at: one?.recorded_at,
        status: "succeeded",
        duration_seconds: 1,
        completion_rate: 1
      })
      const postRollout = yield* jsonAt(`${taskDir}/metrics/post-rollout.json`)
      assert.deepInclude(postRollout, { total_runs: 2, succeeded_runs: 2, completion_rate: 1, meets_threshold: true })
      assert.isTrue((yield* listFiles).includes(`/repo/out/${task}/metrics/mttr-delta.json`))
      assert.isTrue((yield* listFiles).includes(`/repo/out/${task}/state.json`))
      assert.isFalse((yield* listFiles).includes(`${taskDir}/metrics/per-epoch.json`), "no numeric epochs, no per-epoch")
      assert.isFalse((yield* listFiles).includes(lockPath), "the lock is released")
    }).pipe(Effect.provide(app())))

  it.effect("an existing baseline.json is kept as it is, whatever metrics.json starts with", () =>
    Effect.gen(function*() {
      const earlier = JSON.stringify({ run_id: "earlier", recorded_at: at(0), status: "failed", duration_seconds: 3, completion_rate: 0 })
      yield* plant(`${taskDir}/metrics/baseline.json`, earlier)
      yield* run()
      assert.strictEqual(yield* fileText(`${taskDir}/metrics/baseline.json`), earlier)
    }).pipe(Effect.provide(app())))

  it.effect("a held metrics.lock queues the line in metrics.pending; the next run merges it first and deletes it", () =>
    Effect.gen(function*() {
      yield* plant(lockPath, "999@other-host\n")
      const queued = yield* run()
      assert.strictEqual(queued.manifest.status, "succeeded")
      assert.strictEqual(queued.manifest.metrics_recorded, false)
      assert.strictEqual((yield* manifestFile(queued.layout.manifest)).metrics_recorded, false)
      assert.isFalse((yield* listFiles).includes(metricsPath), "nothing appended while the lock is held")

      const pending = yield* filesUnder(pendingDir)
      assert.strictEqual(pending.length, 1)
      const pendingPath = pending[0] ?? assert.fail("no pending file")
      const name = pendingPath.slice(pendingDir.length + 1)
      // The run finished at 1000 ms: <runId>-<epochMs>-<uuid>.jsonl.
      const prefix = `${queued.manifest.run_id}-1000-`
      assert.isTrue(name.startsWith(prefix), name)
      assert.match(name.slice(prefix.length), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.jsonl$/)
      const queuedLine = yield* Effect.flatMap(fileText(pendingPath), (text) => decodeJson(MetricsEntry)(text.trim()))
      assert.strictEqual(queuedLine.run_id, queued.manifest.run_id)
      assert.deepStrictEqual(queued.warnings.filter((w) => w.startsWith("Metrics")), [
        `Metrics aggregation skipped for ${task}: queued metrics entry in ${pendingPath}.`
      ])

      // The other process lets go of the lock.
      yield* Effect.flatMap(Files, (files) => files.remove(lockPath))
      const next = yield* run()
      assert.strictEqual(next.manifest.metrics_recorded, true)
      assert.deepStrictEqual((yield* metricsLines).map((l) => l.run_id), [queued.manifest.run_id, next.manifest.run_id])
      assert.deepStrictEqual(yield* filesUnder(pendingDir), [], "the merged pending file is deleted")
      assert.strictEqual((yield* baselineRunId), queued.manifest.run_id)
    }).pipe(Effect.provide(app())))

  it.effect("a held lock is retried 50/100/200 ms before the line is queued", () =>
    Effect.gen(function*() {
      yield* plant(lockPath, "999@other-host\n")
      const engine = yield* RunEngine
      const fiber = yield* Effect.fork(engine.start({ pipelineId: "simple", taskId: task }))
      // The stage ends at 1000 ms; the attempts are at 1000, 1050, 1150 and 1350 ms.
      yield* TestClock.adjust(1349)
      assert.deepStrictEqual(yield* filesUnder(pendingDir), [], "still retrying at 1349 ms")
      yield* TestClock.adjust(1)
      assert.strictEqual((yield* filesUnder(pendingDir)).length, 1, "queued at 1350 ms")
      yield* TestClock.adjust("1 minute")
      yield* Fiber.join(fiber)
    }).pipe(Effect.provide(app())))

  it.effect("a lock older than 5 minutes is removed with a warning and the run records normally", () =>
    Effect.gen(function*() {
      yield* plant(lockPath, "999@crashed-host\n")
      yield* TestClock.adjust("6 minutes")
      const recorded = yield* run()
      assert.strictEqual(recorded.manifest.metrics_recorded, true)
      assert.deepStrictEqual((yield* metricsLines).map((l) => l.run_id), [recorded.manifest.run_id])
      assert.deepStrictEqual(yield* filesUnder(pendingDir), [])
      assert.isFalse((yield* listFiles).includes(lockPath))
      assert.deepStrictEqual(recorded.warnings.filter((w) => w.includes("metrics.lock")), [
        `Removing ${lockPath}: older than 5 minutes, left by a process that stopped.`
      ])
    }).pipe(Effect.provide(app())))

  it.effect("a lock younger than 5 minutes is not removed", () =>
    Effect.gen(function*() {
      yield* plant(lockPath, "999@other-host\n")
      yield* TestClock.adjust("4 minutes")
      const queued = yield* run()
      assert.strictEqual(queued.manifest.metrics_recorded, false)
      assert.strictEqual(yield* fileText(lockPath), "999@other-host\n")
    }).pipe(Effect.provide(app())))

  it.effect("a damaged line in metrics.json is skipped by the aggregates but kept in the file", () =>
    Effect.gen(function*() {
      yield* plant(metricsPath, "{ this is not json\n")
      const recorded = yield* run()
      const lines = yield* rawLines
      assert.strictEqual(lines.length, 2)
      assert.strictEqual(lines[0], "{ this is not json")
      assert.strictEqual((yield* decodeJson(MetricsEntry)(lines[1] ?? "")).run_id, recorded.manifest.run_id)
      assert.deepInclude(yield* jsonAt(`${taskDir}/metrics/post-rollout.json`), { total_runs: 1, succeeded_runs: 1 })
      assert.strictEqual((yield* baselineRunId), recorded.manifest.run_id)
      assert.isTrue(recorded.warnings.some((w) => w.startsWith(`${metricsPath}: skipped 1 damaged line(s) (line 1)`)))
    }).pipe(Effect.provide(app())))

  it.effect("a last line cut short before its newline is not glued to the next run's line: both runs count", () =>
    Effect.gen(function*() {
      const first = yield* run()
      // The first run's append stopped just before its newline.
      yield* plant(metricsPath, (yield* fileText(metricsPath)).replace(/\n$/, ""))
      const second = yield* run()
      assert.deepStrictEqual((yield* metricsLines).map((l) => l.run_id), [first.manifest.run_id, second.manifest.run_id])
      assert.deepInclude(yield* jsonAt(`${taskDir}/metrics/post-rollout.json`), { total_runs: 2, succeeded_runs: 2 })
      assert.deepStrictEqual(second.warnings.filter((w) => w.includes("damaged")), [])
    }).pipe(Effect.provide(app())))
})
