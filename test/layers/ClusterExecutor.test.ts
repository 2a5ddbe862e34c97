/**
 * The cluster executor (issue 18) against the cluster's in-memory runner: output and exit come back
 * from the runner, labels route, a key with a stored result does not run again, interruption
 * cancels the remote process.
 */
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Duration, Effect, Fiber, Layer, Ref, Schedule } from "effect"
import { makeClusterExecutor } from "../../src/layers/ClusterExecutor.js"
import { ProcessInvocations, ProcessRunnerMemory, type ScriptedProcess } from "../../src/layers/ProcessRunner.js"
import type { ExecutionEvent, ExecutionRequest } from "../../src/services/Executor.js"
import { AttemptOutput, AttemptOutputError } from "../../src/services/AttemptOutput.js"
import { ProcessRunner } from "../../src/services/ProcessRunner.js"
import { memoryCluster } from "../support/cluster.js"
import { withLogs } from "../support/logs.js"

const decoder = new TextDecoder()

const request = (key: string, command: string, runsOn?: ReadonlyArray<string>): ExecutionRequest => ({
  idempotencyKey: key,
  runId: "run-1",
  stageId: "build",
  attempt: 1,
  command,
  cwd: "/repo",
  env: { A: "1" },
  runsOn
})

const scripts = {
  "echo hi": { output: [{ stream: "stdout", data: "hi\n" }], exitCode: 3 },
  // 80 KiB in two chunks: more than a result carries back (resultEventBytes).
  "print much": { output: [{ stream: "stdout", data: "a".repeat(40 * 1024) }, { stream: "stdout", data: "b".repeat(40 * 1024) }] },
  "sleep 60": { duration: "60 seconds" }
} satisfies Record<string, ScriptedProcess>

const cluster = (labels: ReadonlyArray<string>) =>
  memoryCluster(labels).pipe(Layer.provideMerge(ProcessRunnerMemory(scripts)))

/** The scripted processes, plus a count of the ones interrupted (a real runner kills their group). */
const killable = (interruptions: Ref.Ref<number>) => Layer.effect(
  ProcessRunner,
  Effect.map(ProcessRunner, (inner) =>
    ProcessRunner.of({
      run: (spec, handlers) => inner.run(spec, handlers).pipe(Effect.onInterrupt(() => Ref.update(interruptions, (n) => n + 1)))
    }))
).pipe(Layer.provideMerge(ProcessRunnerMemory(scripts)))

const runCollect = (req: ExecutionRequest) =>
  Effect.gen(function*() {
    const executor = yield* makeClusterExecutor()
    const events = yield* Ref.make<ReadonlyArray<ExecutionEvent>>([])
    const exit = yield* executor.run(req, (event) => Ref.update(events, (all) => [...all, event]))
    return { exit, events: yield* Ref.get(events) }
  })

/** The executor on an AttemptOutput that counts its reads (the runners write to the real one). */
const withCountedReads = (reads: Ref.Ref<number>) =>
  Effect.flatMap(AttemptOutput, (output) =>
    makeClusterExecutor({ pollEvery: "1 hour" }).pipe(Effect.provideService(AttemptOutput, {
      ...output,
      read: (key, after) => Effect.zipRight(Ref.update(reads, (n) => n + 1), output.read(key, after))
    })))

/** Polls `check` until it holds (the cluster's fibers run on the live clock here). */
const eventually = (check: Effect.Effect<boolean>) =>
  Effect.repeat(check, { until: (ok) => ok, schedule: Schedule.spaced("20 millis") }).pipe(Effect.timeout("5 seconds"))

describe("ClusterExecutor", () => {
  it.live("runs the attempt on a runner: output, runner and exit code come back", () =>
    Effect.gen(function*() {
      const { events, exit } = yield* runCollect(request("k-1", "echo hi"))
      assert.deepStrictEqual(exit, { exitCode: 3, signal: null })
      const output = events.flatMap((e) => (e._tag === "Output" ? Chunk.toReadonlyArray(e.chunks).map((b) => decoder.decode(b)) : []))
      assert.strictEqual(output.join(""), "hi\n")
      const last = events[events.length - 1]
      assert.isTrue(last?._tag === "Exited" && last.remote?.runner === "memory:1" && last.remote.host === "memory-host")
      assert.isTrue(events.some((e) => e._tag === "Started" && e.remote?.runner === "memory:1"))
      const invocations = yield* (yield* ProcessInvocations).all
      assert.deepStrictEqual(invocations.map((spec) => [spec.command, spec.cwd, spec.env.A]), [["echo hi", "/repo", "1"]])
    }).pipe(Effect.provide(cluster([]))))

  it.live("routes by labels: a runner with the labels runs the stage; none with them fails it with the reason", () =>
    Effect.gen(function*() {
      const routed = yield* runCollect(request("k-linux", "echo hi", ["linux"]))
      assert.strictEqual(routed.exit.exitCode, 3)
      const executor = yield* makeClusterExecutor({ routingWait: Duration.millis(300) })
      const error = yield* Effect.flip(executor.run(request("k-gpu", "echo hi", ["gpu", "linux"]), () => Effect.void))
      assert.strictEqual(error._tag, "ProcessSpawnError")
      assert.match(error.reason, /no runner has the labels gpu,linux \(runners: localhost:34431 \[linux\]\)/)
      const invocations = yield* (yield* ProcessInvocations).all
      assert.strictEqual(invocations.length, 1)
    }).pipe(Effect.provide(cluster(["linux"]))))

  it.live("a key with a stored result is answered from storage with its stored output, and not run again", () =>
    Effect.gen(function*() {
      const first = yield* runCollect(request("k-once", "echo hi"))
      const second = yield* runCollect(request("k-once", "echo hi"))
      assert.deepStrictEqual(second.exit, first.exit)
      const last = second.events[second.events.length - 1]
      assert.isTrue(last?._tag === "Exited" && last.remote?.runner === "memory:1")
      // The stored output of the one run comes back with the stored result (a resumed run writes it).
      const outputOf = (events: ReadonlyArray<ExecutionEvent>) =>
        events.flatMap((e) => (e._tag === "Output" ? Chunk.toReadonlyArray(e.chunks).map((b) => decoder.decode(b)) : [])).join("")
      assert.strictEqual(outputOf(second.events), "hi\n")
      assert.strictEqual(second.events.filter((e) => e._tag === "Started").length, 1, "started once")
      const invocations = yield* (yield* ProcessInvocations).all
      assert.strictEqual(invocations.length, 1)
    }).pipe(Effect.provide(cluster([]))))

  it.live("output stored before the executor reads it is not lost: the result says how far to read", () =>
    Effect.gen(function*() {
      // No read while the call is pending: everything comes from the reads after the result.
      const executor = yield* makeClusterExecutor({ pollEvery: "1 hour" })
      const events = yield* Ref.make<ReadonlyArray<ExecutionEvent>>([])
      yield* executor.run(request("k-late", "echo hi"), (event) => Ref.update(events, (all) => [...all, event]))
      assert.deepStrictEqual((yield* Ref.get(events)).map((e) => e._tag), ["Started", "Output", "Exited"])
    }).pipe(Effect.provide(cluster([]))))

  it.live("the result carries a small output's events: nothing is read from storage for them", () =>
    Effect.gen(function*() {
      const reads = yield* Ref.make(0)
      const executor = yield* withCountedReads(reads)
      const events = yield* Ref.make<ReadonlyArray<ExecutionEvent>>([])
      yield* executor.run(request("k-carried", "echo hi"), (event) => Ref.update(events, (all) => [...all, event]))
      assert.deepStrictEqual((yield* Ref.get(events)).map((e) => e._tag), ["Started", "Output", "Exited"])
      assert.strictEqual(yield* Ref.get(reads), 0)
    }).pipe(Effect.provide(cluster([]))))

  it.live("an output larger than a result carries is read from storage, whole and in order", () =>
    Effect.gen(function*() {
      const reads = yield* Ref.make(0)
      const executor = yield* withCountedReads(reads)
      const printed = yield* Ref.make("")
      yield* executor.run(request("k-much", "print much"), (event) =>
        event._tag === "Output" ? Ref.update(printed, (all) => all + Chunk.toReadonlyArray(event.chunks).map((b) => decoder.decode(b)).join("")) : Effect.void)
      assert.strictEqual(yield* Ref.get(printed), "a".repeat(40 * 1024) + "b".repeat(40 * 1024))
      assert.isAtLeast(yield* Ref.get(reads), 1)
    }).pipe(Effect.provide(cluster([]))))

  it.live("a redelivered attempt continues the stored sequence: the first runner's start and output stay, the second's follow", () =>
    Effect.gen(function*() {
      const output = yield* AttemptOutput
      // What a runner lost mid-stage had stored for the key.
      yield* output.append("k-again", [
        { seq: 1, event: { _tag: "Started", runner: "lost:1", host: "gone", pid: 7 } },
        { seq: 2, event: { _tag: "Output", stream: "stdout", bytes: new TextEncoder().encode("partial\n") } }
      ])
      const { events } = yield* runCollect(request("k-again", "echo hi"))
      const started = events.flatMap((e) => (e._tag === "Started" ? [e.remote?.runner] : []))
      assert.deepStrictEqual(started, ["lost:1", "memory:1"])
      const printed = events.flatMap((e) => (e._tag === "Output" ? Chunk.toReadonlyArray(e.chunks).map((b) => decoder.decode(b)) : []))
      assert.deepStrictEqual(printed, ["partial\n", "hi\n"])
      assert.deepStrictEqual((yield* output.read("k-again", 0)).map((entry) => entry.seq), [1, 2, 3, 4])
    }).pipe(Effect.provide(cluster([]))))

  it.live("interrupting the call cancels the process on the runner", () =>
    Effect.gen(function*() {
      const interruptions = yield* Ref.make(0)
      yield* Effect.gen(function*() {
      const executor = yield* makeClusterExecutor()
      const started = yield* Ref.make(false)
      const fiber = yield* Effect.fork(executor.run(request("k-cancel", "sleep 60"), (event) =>
        event._tag === "Started" ? Ref.set(started, true) : Effect.void))
      yield* eventually(Ref.get(started))
      yield* Fiber.interrupt(fiber)
      yield* eventually(Effect.map(Ref.get(interruptions), (n) => n === 1))
      assert.strictEqual(yield* Ref.get(interruptions), 1)
      }).pipe(Effect.provide(memoryCluster([]).pipe(Layer.provideMerge(killable(interruptions)))))
    }))

  it.live("a database that stops answering while the stage runs: one warning, then the attempt fails with the reason, its process cancelled", () =>
    Effect.gen(function*() {
      const interruptions = yield* Ref.make(0)
      yield* Effect.gen(function*() {
        // Killing the cluster's PostgreSQL mid-stage: the run waited forever, warning ten times a second.
        const gone = new AttemptOutputError({ reason: "reading output failed: Failed to acquire connection" })
        const executor = yield* Effect.flatMap(AttemptOutput, (output) =>
          makeClusterExecutor({ pollEvery: "20 millis", storageOutage: "400 millis" }).pipe(
            Effect.provideService(AttemptOutput, { ...output, read: () => Effect.fail(gone) })
          ))
        const [failed, logged] = yield* withLogs(Effect.flip(executor.run(request("k-gone", "sleep 60"), () => Effect.void)))
        assert.match(failed.reason, /^the cluster database has not answered for 400ms \(attempt output storage: reading output failed: Failed to acquire connection\); /)
        // The stage did start (its process was cancelled): the message says it ended without a result, not that it could not start.
        assert.match(failed.message, /^"sleep 60" in \S+ ended without a result: the cluster database has not answered/)
        assert.deepStrictEqual(logged.filter(([level]) => level === "WARN").map(([, message]) => message), [
          "build: attempt output storage: reading output failed: Failed to acquire connection (retrying while the cluster database does not answer, for at most 400ms)"
        ])
        yield* eventually(Effect.map(Ref.get(interruptions), (n) => n === 1))
      }).pipe(Effect.provide(memoryCluster([]).pipe(Layer.provideMerge(killable(interruptions)))))
    }))
})
