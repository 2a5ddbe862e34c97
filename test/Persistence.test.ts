/**
 * Task-level persistence (SPEC PER-1..5, DECISIONS D-5, D-10): the PersistenceCoordinator turns
 * `run:completed` into `out/<task>/runs.json` (under `<runs>/<task>.lock`) and
 * `.runs/<task>/<run>/manifest.json`. In-memory files, TestClock for the lock's backoff.
 */
import { Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option, TestClock } from "effect"
import { RunSummary } from "../src/domain/RunSummary.js"
import { type TaskRunRecord, TaskStateSnapshot } from "../src/domain/TaskState.js"
import { EventBusLive } from "../src/layers/EventBus.js"
import { Files } from "../src/services/Files.js"
import { FilesMemory, InMemoryFiles } from "../src/layers/Files.js"
import { HostMemory } from "../src/layers/Host.js"
import { OrchestratorConfigTest } from "../src/layers/OrchestratorConfig.js"
import { PersistenceCoordinatorLive } from "../src/layers/PersistenceCoordinator.js"
import { TaskStateStoreLive } from "../src/layers/TaskStateStore.js"
import type { OrchestratorSettings } from "../src/services/OrchestratorConfig.js"
import { EventBus } from "../src/services/EventBus.js"
import { PersistenceCoordinator } from "../src/services/PersistenceCoordinator.js"
import { TaskStateStore } from "../src/services/TaskStateStore.js"
import { fileText, jsonFile, listFiles } from "./support/files.js"
import { withLogs } from "./support/logs.js"
import { at } from "./support/pipelines.js"

// ---------------------------------------------------------------------------------------------
// Fixtures

const taskId = "demo"
const runsJson = "/repo/out/demo/runs.json"
const lockPath = "/repo/.runs/demo.lock"
const manifestOf = (runId: string) => `/repo/.runs/demo/${runId}/manifest.json`

const summaryOf = (runId: string, timestampMs: number, review = "Diagnostics pipeline succeeded."): RunSummary => ({
  taskId,
  runId,
  mode: "mcp",
  plan: { items: [], targetId: null },
  build: { subtaskId: "p:build", artifacts: [], mode: "mcp", runId, success: true },
  test: { subtaskId: "p:build", success: true, reports: [{ name: "guardrails", status: "passed" }], runId },
  review: { summary: review, decision: { approved: true } },
  timestamp: at(timestampMs)
})

const recordOf = (summary: RunSummary): TaskRunRecord => ({
  runId: summary.runId,
  timestamp: summary.timestamp,
  mode: summary.mode,
  subtaskId: summary.build.subtaskId,
  buildSuccess: summary.build.success,
  testSuccess: summary.test.success,
  reviewApproved: summary.review.decision.approved,
  summary: summary.review.summary
})

const persistence = (overrides: Partial<OrchestratorSettings> = {}) =>
  PersistenceCoordinatorLive.pipe(
    Layer.provideMerge(TaskStateStoreLive),
    Layer.provideMerge(Layer.mergeAll(EventBusLive, FilesMemory, HostMemory(), OrchestratorConfigTest("/repo", overrides), Path.layer))
  )

// ---------------------------------------------------------------------------------------------
// Helpers

const publishCompleted = (summary: RunSummary) =>
  Effect.flatMap(EventBus, (bus) =>
    bus.publish({ type: "run:completed", taskId: summary.taskId, runId: summary.runId, timestamp: summary.timestamp, summary }))

const settled = Effect.flatMap(EventBus, (bus) => bus.settled)

const snapshotAt = (path: string) => jsonFile(TaskStateSnapshot, path)

const exists = (path: string) => Effect.map(listFiles, (all) => all.includes(path))

const plant = (path: string, text: string) => Effect.flatMap(InMemoryFiles, (files) => files.write(path, text))

// ---------------------------------------------------------------------------------------------

describe("Persistence: run:completed (PER-1, PER-3, PER-5)", () => {
  it.effect("writes runs.json under the out root and the run summary manifest under the runs root", () =>
    Effect.gen(function*() {
      const summary = summaryOf("r1", 1000)
      yield* publishCompleted(summary)
      yield* settled
      assert.deepStrictEqual(yield* snapshotAt(runsJson), { taskId, lastRunAt: at(1000), runs: [recordOf(summary)] })
      assert.deepStrictEqual(yield* jsonFile(RunSummary, manifestOf("r1")), summary)
      assert.isFalse(yield* exists(lockPath), "the lock is released after a success")
    }).pipe(Effect.provide(persistence())))

  it.effect("out-of-order arrival: runs sorted by timestamp, lastRunAt never moves back", () =>
    Effect.gen(function*() {
      const older = summaryOf("r-old", 1000)
      const newer = summaryOf("r-new", 5000)
      const middle = summaryOf("r-mid", 3000)
      yield* publishCompleted(newer)
      yield* settled
      assert.strictEqual((yield* snapshotAt(runsJson)).lastRunAt, at(5000))
      yield* publishCompleted(older)
      yield* settled
      const afterOlder = yield* snapshotAt(runsJson)
      assert.deepStrictEqual(afterOlder.runs.map((r) => r.runId), ["r-old", "r-new"])
      assert.strictEqual(afterOlder.lastRunAt, at(5000), "a late older run does not move lastRunAt back")
      yield* publishCompleted(middle)
      yield* settled
      const all = yield* snapshotAt(runsJson)
      assert.deepStrictEqual(all.runs, [recordOf(older), recordOf(middle), recordOf(newer)])
      assert.strictEqual(all.lastRunAt, at(5000))
    }).pipe(Effect.provide(persistence())))

  it.effect("the same run id replaces its record", () =>
    Effect.gen(function*() {
      yield* publishCompleted(summaryOf("r1", 1000, "first"))
      yield* publishCompleted(summaryOf("r2", 2000))
      yield* publishCompleted(summaryOf("r1", 3000, "second"))
      yield* settled
      const snapshot = yield* snapshotAt(runsJson)
      assert.deepStrictEqual(snapshot.runs, [recordOf(summaryOf("r2", 2000)), recordOf(summaryOf("r1", 3000, "second"))])
      assert.strictEqual(snapshot.lastRunAt, at(3000))
      assert.strictEqual((yield* jsonFile(RunSummary, manifestOf("r1"))).review.summary, "second")
    }).pipe(Effect.provide(persistence())))

  it.effect("persist reports what it did, and releases the lock for the next run", () =>
    Effect.gen(function*() {
      const coordinator = yield* PersistenceCoordinator
      assert.deepStrictEqual(yield* coordinator.persist(summaryOf("r1", 1000)), { snapshotRecorded: true, manifestWritten: true })
      assert.isFalse(yield* exists(lockPath))
      // No wait: the second run takes the lock at its first attempt.
      assert.deepStrictEqual(yield* coordinator.persist(summaryOf("r2", 2000)), { snapshotRecorded: true, manifestWritten: true })
      assert.strictEqual((yield* snapshotAt(runsJson)).runs.length, 2)
    }).pipe(Effect.provide(persistence())))
})

describe("Persistence: the task lock held by another process (PER-1, PER-2, PER-3)", () => {
  const heldBy = "999@other-host\n"
  const previous = JSON.stringify({ taskId, lastRunAt: at(1), runs: [recordOf(summaryOf("r0", 1))] })

  it.effect("waits 100/200/400/800 ms, then warns; runs.json untouched, the manifest still written", () =>
    Effect.gen(function*() {
      // The coordinator's handler logs from a fiber forked when the layer is built: the logger goes outside.
      const [, logs] = yield* withLogs(Effect.gen(function*() {
        yield* plant(lockPath, heldBy)
        yield* plant(runsJson, previous)
        const summary = summaryOf("r1", 1000)
        yield* publishCompleted(summary)
        const done = yield* Effect.fork(settled)
        yield* TestClock.adjust(1499)
        assert.isTrue(Option.isNone(yield* Fiber.poll(done)), "still retrying at 1499 ms")
        assert.isFalse(yield* exists(manifestOf("r1")), "the manifest follows the snapshot attempt")
        yield* TestClock.adjust(1)
        assert.isTrue(Option.isSome(yield* Fiber.poll(done)), "given up by 1500 ms (0 + 100 + 200 + 400 + 800)")
        assert.strictEqual(yield* fileText(runsJson), previous, "runs.json is untouched")
        assert.strictEqual(yield* fileText(lockPath), heldBy, "the other process's lock is left alone")
        assert.deepStrictEqual(yield* jsonFile(RunSummary, manifestOf("r1")), summary)
      }).pipe(Effect.provide(persistence())))
      const warnings = logs.filter(([level]) => level === "WARN").map(([, message]) => message)
      assert.deepStrictEqual(warnings, [
        `Task state snapshot skipped for task demo (run r1): Failed to acquire task state lock for demo after 5 attempts (${lockPath}). If no orchestrator is running for this task, delete the lock file.`
      ])
      assert.isFalse(logs.some(([level]) => level === "ERROR"))
    }))

  it.effect("the attempts are at 0, 100, 300, 700 and 1500 ms: a lock released at 650 ms is taken at 700 ms", () =>
    Effect.gen(function*() {
      const coordinator = yield* PersistenceCoordinator
      const files = yield* Files
      yield* plant(lockPath, heldBy)
      const persisted = yield* Effect.fork(coordinator.persist(summaryOf("r1", 1000)))
      yield* TestClock.adjust(650)
      yield* files.remove(lockPath)
      yield* TestClock.adjust(49)
      assert.isTrue(Option.isNone(yield* Fiber.poll(persisted)), "not yet at 699 ms")
      yield* TestClock.adjust(1)
      assert.deepStrictEqual(yield* Fiber.join(persisted), { snapshotRecorded: true, manifestWritten: true })
      assert.strictEqual((yield* snapshotAt(runsJson)).runs[0]?.runId, "r1")
      assert.isFalse(yield* exists(lockPath))
    }).pipe(Effect.provide(persistence())))

  it.effect("recordRun fails with TaskStateLockBusy naming the task, the attempts and the lock", () =>
    Effect.gen(function*() {
      const store = yield* TaskStateStore
      yield* plant(lockPath, heldBy)
      const fiber = yield* Effect.fork(Effect.flip(store.recordRun(summaryOf("r1", 1000))))
      yield* TestClock.adjust(1500)
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "TaskStateLockBusy")
      assert(error._tag === "TaskStateLockBusy")
      assert.strictEqual(error.attempts, 5)
      assert.strictEqual(error.lockPath, lockPath)
      assert.isTrue(error.message.startsWith("Failed to acquire task state lock for demo after 5 attempts"))
    }).pipe(Effect.provide(persistence())))
})

describe("Persistence: reading the snapshot (PER-3)", () => {
  it.effect("a corrupted runs.json is an InvalidFile naming the path; the manifest is still written", () =>
    Effect.gen(function*() {
      const store = yield* TaskStateStore
      const coordinator = yield* PersistenceCoordinator
      yield* plant(runsJson, "{ not json")
      const error = yield* Effect.flip(store.recordRun(summaryOf("r1", 1000)))
      assert.strictEqual(error._tag, "InvalidFile")
      assert(error._tag === "InvalidFile")
      assert.strictEqual(error.path, runsJson)
      assert.include(error.message, runsJson)
      assert.isFalse(yield* exists(lockPath), "the lock is released after a failure")

      const [outcome, logs] = yield* withLogs(coordinator.persist(summaryOf("r1", 1000)))
      assert.deepStrictEqual(outcome, { snapshotRecorded: false, manifestWritten: true })
      assert.strictEqual(yield* fileText(runsJson), "{ not json", "the damaged file is left for the user")
      const errors = logs.filter(([level]) => level === "ERROR").map(([, message]) => message)
      assert.strictEqual(errors.length, 1)
      assert.isTrue(errors[0]?.startsWith(`Task state snapshot skipped for task demo (run r1): ${runsJson} is not valid`))
    }).pipe(Effect.provide(persistence())))

  it.effect("a runs.json of another task is an InvalidFile", () =>
    Effect.gen(function*() {
      const store = yield* TaskStateStore
      yield* plant(runsJson, JSON.stringify({ taskId: "other", lastRunAt: "", runs: [] }))
      const read = yield* Effect.flip(store.read(taskId))
      assert.strictEqual(read._tag, "InvalidFile")
      assert(read._tag === "InvalidFile")
      assert.strictEqual(read.path, runsJson)
      assert.include(read.message, "other")
      const recorded = yield* Effect.flip(store.recordRun(summaryOf("r1", 1000)))
      assert.strictEqual(recorded._tag, "InvalidFile")
    }).pipe(Effect.provide(persistence())))

  it.effect("without runs.json, a legacy state.json of this task with runs is used", () =>
    Effect.gen(function*() {
      const store = yield* TaskStateStore
      const legacy = recordOf(summaryOf("r0", 500))
      yield* plant("/repo/out/demo/state.json", JSON.stringify({ taskId, lastRunAt: at(500), runs: [legacy] }))
      assert.deepStrictEqual(yield* store.read(taskId), { taskId, lastRunAt: at(500), runs: [legacy] })
      yield* store.recordRun(summaryOf("r1", 1000))
      assert.deepStrictEqual(yield* snapshotAt(runsJson), {
        taskId,
        lastRunAt: at(1000),
        runs: [legacy, recordOf(summaryOf("r1", 1000))]
      })
    }).pipe(Effect.provide(persistence())))

  it.effect("a legacy state.json of another task, or without runs (the metrics state), is ignored", () =>
    Effect.gen(function*() {
      const store = yield* TaskStateStore
      yield* plant("/repo/out/demo/state.json", JSON.stringify({ taskId: "other", lastRunAt: at(500), runs: [] }))
      assert.deepStrictEqual(yield* store.read(taskId), { taskId, lastRunAt: "", runs: [] })
      yield* plant("/repo/out/demo/state.json", JSON.stringify({ updated_at: at(0), safety: {}, throughput: {}, alerts: {} }))
      assert.deepStrictEqual(yield* store.read(taskId), { taskId, lastRunAt: "", runs: [] })
    }).pipe(Effect.provide(persistence())))

  it.effect("nothing on disk: an empty snapshot", () =>
    Effect.gen(function*() {
      const store = yield* TaskStateStore
      assert.deepStrictEqual(yield* store.read(taskId), { taskId, lastRunAt: "", runs: [] })
    }).pipe(Effect.provide(persistence())))
})

describe("Persistence: configured roots (D-5)", () => {
  const roots = { repoRoot: "/repo", runsRoot: "/data/runs", outRoot: "/data/out" }

  it.effect("runs.json, the manifest and the lock follow the runs and out roots", () =>
    Effect.gen(function*() {
      const summary = summaryOf("r1", 1000)
      // A lock under the default root is not ours to honour.
      yield* plant(lockPath, "999@other-host\n")
      yield* publishCompleted(summary)
      yield* settled
      assert.deepStrictEqual(yield* snapshotAt("/data/out/demo/runs.json"), { taskId, lastRunAt: at(1000), runs: [recordOf(summary)] })
      assert.deepStrictEqual(yield* jsonFile(RunSummary, "/data/runs/demo/r1/manifest.json"), summary)
      assert.deepStrictEqual(yield* listFiles, [
        "/data/out/demo/runs.json",
        "/data/runs/demo/r1/manifest.json",
        lockPath
      ])
    }).pipe(Effect.provide(persistence({ roots }))))

  it.effect("the lock is <runsRoot>/<task>.lock", () =>
    Effect.gen(function*() {
      const coordinator = yield* PersistenceCoordinator
      yield* plant("/data/runs/demo.lock", "999@other-host\n")
      const fiber = yield* Effect.fork(coordinator.persist(summaryOf("r1", 1000)))
      yield* TestClock.adjust(1500)
      assert.deepStrictEqual(yield* Fiber.join(fiber), { snapshotRecorded: false, manifestWritten: true })
      assert.isFalse(yield* exists("/data/out/demo/runs.json"))
      assert.isTrue(yield* exists("/data/runs/demo/r1/manifest.json"))
    }).pipe(Effect.provide(persistence({ roots }))))
})
