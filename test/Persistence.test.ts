/**
 * Task-level persistence (SPEC PER-1..5, DECISIONS D-5, D-10): the PersistenceCoordinator turns
 * `run:completed` into `out/<task>/runs.json` (under `<runs>/<task>.lock`) and
 * `.runs/<task>/<run>/manifest.json`. In-memory files, TestClock for the lock's backoff.
 */
import { Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option, TestClock } from "effect"
import type { FileAccessError } from "../src/domain/FileErrors.js"
import { RunSummary } from "../src/domain/RunSummary.js"
import { TaskRunRecord, TaskStateSnapshot } from "../src/domain/TaskState.js"
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
import { EntropySeeded } from "../src/layers/Entropy.js"

// ---------------------------------------------------------------------------------------------
// Fixtures

const taskId = "demo"
const runsJson = "/repo/out/demo/runs.json"
const lockPath = "/repo/.runs/demo.lock"
const pendingDir = "/repo/.runs/demo/runs.pending"
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

const leaves = (overrides: Partial<OrchestratorSettings> = {}) =>
  Layer.mergeAll(EventBusLive, FilesMemory, HostMemory(), EntropySeeded(0), OrchestratorConfigTest("/repo", overrides), Path.layer)

const persistence = (overrides: Partial<OrchestratorSettings> = {}) =>
  PersistenceCoordinatorLive.pipe(Layer.provideMerge(TaskStateStoreLive), Layer.provideMerge(leaves(overrides)))

/**
 * The store sees files on which `afterWrite` runs after each atomic write: what another process does
 * at that instant (releasing the lock, queuing a record). The test sees the same files, unhooked.
 */
const persistenceWith = (afterWrite: (path: string, files: Files["Type"]) => Effect.Effect<void, FileAccessError>) => {
  const hooked = Layer.effect(
    Files,
    Effect.map(Files, (files) =>
      Files.of({ ...files, writeAtomic: (path, text, options) => Effect.zipRight(files.writeAtomic(path, text, options), afterWrite(path, files).pipe(Effect.orDie)) }))
  )
  return PersistenceCoordinatorLive.pipe(
    Layer.provideMerge(TaskStateStoreLive.pipe(Layer.provide(hooked))),
    Layer.provideMerge(leaves())
  )
}

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
      assert.deepStrictEqual(yield* coordinator.persist(summaryOf("r1", 1000)), { snapshotRecorded: true, snapshotQueued: false, manifestWritten: true })
      assert.isFalse(yield* exists(lockPath))
      // No wait: the second run takes the lock at its first attempt.
      assert.deepStrictEqual(yield* coordinator.persist(summaryOf("r2", 2000)), { snapshotRecorded: true, snapshotQueued: false, manifestWritten: true })
      assert.strictEqual((yield* snapshotAt(runsJson)).runs.length, 2)
    }).pipe(Effect.provide(persistence())))
})

describe("Persistence: the task lock held by another process (PER-1, PER-2, PER-3)", () => {
  const heldBy = "999@other-host\n"
  const previous = JSON.stringify({ taskId, lastRunAt: at(1), runs: [recordOf(summaryOf("r0", 1))] })
  const queuedNames = Effect.map(listFiles, (all) => all.filter((file) => file.startsWith(`${pendingDir}/`)))

  it.effect("waits 100/200/400/800 ms, then queues the record with a warning; runs.json untouched, the manifest still written", () =>
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
        assert.deepStrictEqual(yield* queuedNames, [], "nothing queued while attempts remain")
        yield* TestClock.adjust(1)
        assert.isTrue(Option.isSome(yield* Fiber.poll(done)), "given up by 1500 ms (0 + 100 + 200 + 400 + 800)")
        assert.strictEqual(yield* fileText(runsJson), previous, "runs.json is untouched")
        assert.strictEqual(yield* fileText(lockPath), heldBy, "the other process's lock is left alone")
        assert.deepStrictEqual(yield* jsonFile(RunSummary, manifestOf("r1")), summary)
        const [queued, ...more] = yield* queuedNames
        assert.strictEqual(more.length, 0)
        assert.match(queued ?? "", new RegExp(`^${pendingDir}/r1-1500-[0-9a-f-]{36}\\.jsonl$`))
        assert.deepStrictEqual(yield* jsonFile(TaskRunRecord, queued ?? ""), recordOf(summary))
      }).pipe(Effect.provide(persistence())))
      const warnings = logs.filter(([level]) => level === "WARN").map(([, message]) => message)
      assert.strictEqual(warnings.length, 1)
      assert.match(
        warnings[0] ?? "",
        new RegExp(
          `^Task state lock ${lockPath} stayed busy through 5 attempts: run r1 is queued in ${pendingDir}/r1-1500-[0-9a-f-]{36}\\.jsonl; the next run of task demo adds it to runs\\.json\\.$`
        )
      )
      assert.notMatch(warnings[0] ?? "", /delete/i, "never advise deleting a lock another run may hold")
      assert.isFalse(logs.some(([level]) => level === "ERROR"))
    }))

  it.effect("the next run that takes the lock adds the queued record and removes its file", () =>
    Effect.gen(function*() {
      const coordinator = yield* PersistenceCoordinator
      yield* plant(lockPath, heldBy)
      yield* plant(runsJson, previous)
      const first = yield* Effect.fork(coordinator.persist(summaryOf("r1", 1000)))
      yield* TestClock.adjust(1500)
      assert.deepStrictEqual(yield* Fiber.join(first), { snapshotRecorded: false, snapshotQueued: true, manifestWritten: true })
      yield* Effect.flatMap(Files, (files) => files.remove(lockPath))
      assert.deepStrictEqual(yield* coordinator.persist(summaryOf("r2", 2000)), {
        snapshotRecorded: true,
        snapshotQueued: false,
        manifestWritten: true
      })
      assert.deepStrictEqual((yield* snapshotAt(runsJson)).runs.map((run) => run.runId), ["r0", "r1", "r2"])
      assert.deepStrictEqual(yield* queuedNames, [])
      assert.isFalse(yield* exists(lockPath))
    }).pipe(Effect.provide(persistence())))

  it.effect("a run that queued takes the lock itself when its holder released it meanwhile", () =>
    Effect.gen(function*() {
      const coordinator = yield* PersistenceCoordinator
      yield* plant(lockPath, heldBy)
      const persisted = yield* Effect.fork(coordinator.persist(summaryOf("r1", 1000)))
      yield* TestClock.adjust(1500)
      assert.deepStrictEqual(yield* Fiber.join(persisted), { snapshotRecorded: true, snapshotQueued: false, manifestWritten: true })
      assert.deepStrictEqual((yield* snapshotAt(runsJson)).runs, [recordOf(summaryOf("r1", 1000))])
      assert.deepStrictEqual(yield* queuedNames, [])
      assert.isFalse(yield* exists(lockPath))
    }).pipe(Effect.provide(persistenceWith((path, files) =>
      // The other holder releases the lock just as this run queues its record.
      path.startsWith(`${pendingDir}/`) ? files.remove(lockPath) : Effect.void
    ))))

  it.effect("a holder adds, after releasing the lock, what another run queued while it held it", () => {
    const late = recordOf(summaryOf("r2", 2000))
    let planted = false
    // Another run queues its record while this one writes runs.json under the lock.
    const queueLate = (path: string, files: Files["Type"]) =>
      path !== runsJson || planted
        ? Effect.void
        : Effect.sync(() => (planted = true)).pipe(
          Effect.zipRight(files.writeAtomic(`${pendingDir}/r2-2000-late.jsonl`, `${JSON.stringify(late)}\n`))
        )
    return Effect.gen(function*() {
      const outcome = yield* (yield* PersistenceCoordinator).persist(summaryOf("r1", 1000))
      assert.isTrue(planted)
      assert.deepStrictEqual(outcome, { snapshotRecorded: true, snapshotQueued: false, manifestWritten: true })
      assert.deepStrictEqual((yield* snapshotAt(runsJson)).runs.map((run) => run.runId), ["r1", "r2"])
      assert.deepStrictEqual(yield* queuedNames, [])
      assert.isFalse(yield* exists(lockPath))
    }).pipe(Effect.provide(persistenceWith(queueLate)))
  })

  it.effect("a queued file that does not decode is dropped with a warning; the others are added", () =>
    Effect.gen(function*() {
      const [outcome, logs] = yield* withLogs(Effect.gen(function*() {
        yield* plant(`${pendingDir}/r0-1-a.jsonl`, `${JSON.stringify(recordOf(summaryOf("r0", 1)))}\n`)
        yield* plant(`${pendingDir}/r9-9-b.jsonl`, "{not json")
        const result = yield* (yield* PersistenceCoordinator).persist(summaryOf("r1", 1000))
        assert.deepStrictEqual((yield* snapshotAt(runsJson)).runs.map((run) => run.runId), ["r0", "r1"])
        assert.deepStrictEqual(yield* queuedNames, [])
        return result
      }).pipe(Effect.provide(persistence())))
      assert.isTrue(outcome.snapshotRecorded)
      assert.deepStrictEqual(
        logs.filter(([level]) => level === "WARN").map(([, message]) => message),
        [`Dropping ${pendingDir}/r9-9-b.jsonl: not a queued run record.`]
      )
    }))

  it.effect("a lock older than 5 minutes was left by a process that stopped: removed with a warning, then taken", () =>
    Effect.gen(function*() {
      const [outcomes, logs] = yield* withLogs(Effect.gen(function*() {
        const coordinator = yield* PersistenceCoordinator
        yield* plant(lockPath, heldBy)
        yield* TestClock.adjust("5 minutes")
        // Exactly 5 minutes old is not abandoned yet: this run queues.
        const atFive = yield* Effect.fork(coordinator.persist(summaryOf("r1", 1000)))
        yield* TestClock.adjust(1500)
        const first = yield* Fiber.join(atFive)
        assert.strictEqual(yield* fileText(lockPath), heldBy)
        const second = yield* coordinator.persist(summaryOf("r2", 2000))
        return [first, second] as const
      }).pipe(Effect.provide(persistence())))
      assert.deepStrictEqual(outcomes.map((o) => [o.snapshotRecorded, o.snapshotQueued]), [[false, true], [true, false]])
      assert.include(logs.map(([, message]) => message), `Removed ${lockPath}: older than 5 minutes, left by a process that stopped.`)
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
      assert.deepStrictEqual(yield* Fiber.join(persisted), { snapshotRecorded: true, snapshotQueued: false, manifestWritten: true })
      assert.strictEqual((yield* snapshotAt(runsJson)).runs[0]?.runId, "r1")
      assert.isFalse(yield* exists(lockPath))
    }).pipe(Effect.provide(persistence())))

  it.effect("recordRun returns Queued naming the pending file, the lock and the attempts", () =>
    Effect.gen(function*() {
      const store = yield* TaskStateStore
      yield* plant(lockPath, heldBy)
      const fiber = yield* Effect.fork(store.recordRun(summaryOf("r1", 1000)))
      yield* TestClock.adjust(1500)
      const outcome = yield* Fiber.join(fiber)
      assert(outcome._tag === "Queued")
      assert.strictEqual(outcome.attempts, 5)
      assert.strictEqual(outcome.lockPath, lockPath)
      assert.isTrue(outcome.pendingPath.startsWith(`${pendingDir}/r1-1500-`))
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
      assert.deepStrictEqual(outcome, { snapshotRecorded: false, snapshotQueued: false, manifestWritten: true })
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
      assert.deepStrictEqual(yield* Fiber.join(fiber), { snapshotRecorded: false, snapshotQueued: true, manifestWritten: true })
      assert.isFalse(yield* exists("/data/out/demo/runs.json"))
      assert.lengthOf((yield* listFiles).filter((file) => file.startsWith("/data/runs/demo/runs.pending/r1-")), 1)
      assert.isTrue(yield* exists("/data/runs/demo/r1/manifest.json"))
    }).pipe(Effect.provide(persistence({ roots }))))
})
