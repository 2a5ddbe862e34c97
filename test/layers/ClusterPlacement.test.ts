/**
 * Placement of remote attempts (issue 18): the executor works out which runner holds which shard,
 * sends each attempt straight to a runner with a free slot (no refused message on the way), waits
 * in the orchestrator while every slot is taken, records where it sent each key so a resumed run
 * finds the stored result there, and moves on when a runner full with others' stages refuses.
 * The cluster's in-memory runners run on the live clock (their own fibers poll on it).
 */
import * as EntityId from "@effect/cluster/EntityId"
import * as MessageStorage from "@effect/cluster/MessageStorage"
import * as RunnerStorage from "@effect/cluster/RunnerStorage"
import * as Sharding from "@effect/cluster/Sharding"
import * as ShardId from "@effect/cluster/ShardId"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Fiber, Layer, Ref, Schedule } from "effect"
import { placementEntityId } from "../../src/domain/Cluster.js"
import { makeClusterExecutor } from "../../src/layers/ClusterExecutor.js"
import { chooseRunner, shardMapOf } from "../../src/layers/cluster/shardMap.js"
import { ProcessInvocations, ProcessRunnerMemory } from "../../src/layers/ProcessRunner.js"
import { ClusterPlacements } from "../../src/services/ClusterPlacements.js"
import type { ExecutionEvent, ExecutionRequest } from "../../src/services/Executor.js"
import { ProcessRunner } from "../../src/services/ProcessRunner.js"
import { memoryCluster } from "../support/cluster.js"

const request = (key: string, command = "together"): ExecutionRequest => ({
  idempotencyKey: key,
  runId: "run-1",
  stageId: key,
  attempt: 1,
  command,
  cwd: "/repo",
  env: {},
  runsOn: undefined
})

/**
 * Processes that finish (exit 0) only once `n` of them run at the same time, and otherwise give up
 * after 5 s (exit 1): stages that were not all running at once fail.
 */
const together = (n: number) =>
  Layer.effect(
    ProcessRunner,
    Effect.gen(function*() {
      const all = yield* Deferred.make<void>()
      const running = yield* Ref.make(0)
      return ProcessRunner.of({
        run: (_spec, handlers) =>
          Effect.gen(function*() {
            yield* handlers?.onStart?.(1) ?? Effect.void
            if ((yield* Ref.updateAndGet(running, (k) => k + 1)) === n) yield* Deferred.succeed(all, undefined)
            const met = yield* Deferred.await(all).pipe(Effect.timeoutOption(Duration.seconds(5)))
            yield* Ref.update(running, (k) => k - 1)
            return { exitCode: met._tag === "Some" ? 0 : 1, signal: null }
          })
      })
    })
  )

/** Runners that ran a stage, from its events. */
const runnerOf = (events: ReadonlyArray<ExecutionEvent>) =>
  events.flatMap((event) => (event._tag === "Exited" && event.remote !== undefined ? [event.remote.runner] : []))

/** The entity ids a key's messages went to, from the in-memory message storage. */
const placementsOf = (key: string) =>
  Effect.map(MessageStorage.MemoryDriver, (driver) =>
    Array.from(driver.requestsByPrimaryKey.keys()).filter((id) => id.endsWith(`/Run/${key}`)).map((id) => id.split("/").slice(1, -2).join("/")).sort())

const runWith = (executor: Effect.Effect.Success<ReturnType<typeof makeClusterExecutor>>, req: ExecutionRequest) =>
  Effect.gen(function*() {
    const events = yield* Ref.make<ReadonlyArray<ExecutionEvent>>([])
    const exit = yield* executor.run(req, (event) => Ref.update(events, (all) => [...all, event]))
    return { exit, runner: runnerOf(yield* Ref.get(events)) }
  })

/** Waits until the `n` runners have registered and the one in context holds its share of the 8 shards. */
const settled = (n: number) =>
  Effect.gen(function*() {
    const sharding = yield* Sharding.Sharding
    const shards = Array.from({ length: 8 }, (_, i) => ShardId.make("default", i + 1))
    yield* Effect.repeat(Effect.sync(() => shards.filter(sharding.hasShardId).length), {
      until: (held) => held === 8 / n,
      schedule: Schedule.spaced(Duration.millis(20))
    }).pipe(Effect.timeout(Duration.seconds(5)))
    const runners = yield* RunnerStorage.RunnerStorage.pipe(Effect.flatMap((storage) => storage.getRunners), Effect.orDie)
    return { sharding, shards, map: shardMapOf(runners, 8) }
  })

/** Keys whose placement 0 hashes to a shard of the runner in context (memory:1): hashing alone sends them all there. */
const keysOnTheFirstRunner = (count: number) =>
  Effect.gen(function*() {
    const { sharding } = yield* settled(2)
    const keys = Array.from({ length: 256 }, (_, i) => `k-${i}`)
      .filter((key) => sharding.hasShardId(sharding.getShardId(EntityId.make(placementEntityId([], key, 0)), "default")))
    assert.isAtLeast(keys.length, count)
    return keys.slice(0, count)
  })

const noLoad = { inFlight: new Map<string, number>(), fullUntil: new Map<string, number>() }

describe("the shard map", () => {
  it.live("is the cluster's own assignment: the shards it gives the first runner are the ones that runner holds", () =>
    Effect.gen(function*() {
      const { map, sharding, shards } = yield* settled(2)
      const mine = shards.filter((shard) => map.owners.get("default")?.[shard.id - 1] === "localhost:34431")
      assert.deepStrictEqual(mine.map((shard) => shard.id), shards.filter(sharding.hasShardId).map((shard) => shard.id))
      assert.deepStrictEqual(Array.from(map.runners.values()), [
        { name: "localhost:34431", capacity: 2 },
        { name: "localhost:34432", capacity: 2 }
      ], "a runner's capacity is its shard weight")
    }).pipe(Effect.provide(memoryCluster([], { runners: 2 }).pipe(Layer.provideMerge(together(1))))))
})

describe("chooseRunner", () => {
  const map = {
    owners: new Map([["default", ["a:1", "b:1", "a:1", "b:1"]]]),
    runners: new Map([["a:1", { name: "a:1", capacity: 2 }], ["b:1", { name: "b:1", capacity: 4 }]])
  }
  it("takes the runner with the most of its capacity free, then none refusing; all full: the least loaded, not free", () => {
    const load = (a: number, b: number, fullUntil: ReadonlyArray<[string, number]> = []) => ({
      inFlight: new Map([["a:1", a], ["b:1", b]]),
      fullUntil: new Map(fullUntil)
    })
    assert.strictEqual(chooseRunner(map, "default", load(1, 1), "k", 0)?.runner.name, "b:1", "1/2 used against 1/4")
    assert.strictEqual(chooseRunner(map, "default", load(0, 3), "k", 0)?.runner.name, "a:1")
    assert.deepStrictEqual(chooseRunner(map, "default", load(0, 0, [["a:1", 10], ["b:1", 10]]), "k", 5)?.free, false, "both refusing")
    assert.strictEqual(chooseRunner(map, "default", load(0, 1, [["b:1", 10]]), "k", 5)?.runner.name, "a:1", "b refusing")
    assert.strictEqual(chooseRunner(map, "default", load(0, 1, [["a:1", 10]]), "k", 10)?.runner.name, "a:1", "a's refusal lapsed")
    const full = chooseRunner(map, "default", load(2, 5), "k", 0)
    assert.deepStrictEqual([full?.runner.name, full?.free], ["a:1", false])
    assert.isUndefined(chooseRunner(map, "gpu", load(0, 0), "k", 0))
  })
  it("breaks ties by where an attempt of ours ended longest ago (never first), whatever the key", () => {
    const even = { ...map, runners: new Map([["a:1", { name: "a:1", capacity: 2 }], ["b:1", { name: "b:1", capacity: 2 }]]) }
    const endedOn = (lastEnded: ReadonlyArray<[string, number]>) => ({ ...noLoad, lastEnded: new Map(lastEnded) })
    const picks = (lastEnded: ReadonlyArray<[string, number]>) =>
      new Set(Array.from({ length: 16 }, (_, i) => chooseRunner(even, "default", endedOn(lastEnded), `key-${i}`, 0)?.runner.name))
    assert.deepStrictEqual([...picks([["a:1", 1]])], ["b:1"], "ours never ended on b")
    assert.deepStrictEqual([...picks([["a:1", 3], ["b:1", 2]])], ["b:1"])
    assert.deepStrictEqual([...picks([["a:1", 2], ["b:1", 3]])], ["a:1"])
    const busier = { ...endedOn([["b:1", 1]]), inFlight: new Map([["b:1", 1]]) }
    assert.strictEqual(chooseRunner(even, "default", busier, "key-0", 0)?.runner.name, "a:1", "the free capacity comes first")
  })
  it("breaks ties by the key, so orchestrators starting together spread out", () => {
    const even = { ...map, runners: new Map([["a:1", { name: "a:1", capacity: 2 }], ["b:1", { name: "b:1", capacity: 2 }]]) }
    const picks = new Set(Array.from({ length: 16 }, (_, i) => chooseRunner(even, "default", noLoad, `key-${i}`, 0)?.runner.name))
    assert.deepStrictEqual([...picks].sort(), ["a:1", "b:1"])
  })
})

describe("ClusterExecutor placement on in-memory runners", () => {
  it.live("four stages on two runners of capacity 2 run at once, each sent once (none refused), even when hashing alone sends all four to one runner", () =>
    Effect.gen(function*() {
      const executor = yield* makeClusterExecutor()
      const keys = yield* keysOnTheFirstRunner(4)
      const results = yield* Effect.forEach(keys, (key) => runWith(executor, request(key)), { concurrency: "unbounded" })
      assert.deepStrictEqual(results.map((r) => r.exit.exitCode), [0, 0, 0, 0], "all four ran at the same time")
      assert.deepStrictEqual(results.flatMap((r) => r.runner).sort(), ["memory:1", "memory:1", "memory:2", "memory:2"])
      for (const key of keys) assert.strictEqual((yield* placementsOf(key)).length, 1, `${key} was sent once`)
    }).pipe(Effect.provide(memoryCluster([], { runners: 2, capacity: 2 }).pipe(Layer.provideMerge(together(4))))))

  it.live("stages placed side by side each see the others' slots taken, even while their records are slow to write", () =>
    Effect.gen(function*() {
      const { map } = yield* settled(2)
      // Four keys that each go to the same runner when nothing runs: only the slots taken tell them apart.
      const target = chooseRunner(map, "default", noLoad, "k-0", 0)?.runner.name
      const keys = Array.from({ length: 256 }, (_, i) => `k-${i}`)
        .filter((key) => chooseRunner(map, "default", noLoad, key, 0)?.runner.name === target).slice(0, 4)
      const slowRecords = Effect.map(ClusterPlacements, (records) =>
        ClusterPlacements.of({ place: (key, expected, next) => Effect.delay(records.place(key, expected, next), Duration.millis(30)) }))
      const executor = yield* makeClusterExecutor().pipe(Effect.provideServiceEffect(ClusterPlacements, slowRecords))
      const results = yield* Effect.forEach(keys, (key) => runWith(executor, request(key)), { concurrency: "unbounded" })
      assert.deepStrictEqual(results.map((r) => r.exit.exitCode), [0, 0, 0, 0], "all four ran at the same time")
      assert.deepStrictEqual(results.flatMap((r) => r.runner).sort(), ["memory:1", "memory:1", "memory:2", "memory:2"])
      for (const key of keys) assert.strictEqual((yield* placementsOf(key)).length, 1, `${key} was sent once`)
    }).pipe(Effect.provide(memoryCluster([], { runners: 2, capacity: 2 }).pipe(Layer.provideMerge(together(4))))))

  it.live("stages one after another take turns on two idle runners (each makes its worktree fresh while the other runs)", () =>
    Effect.gen(function*() {
      const executor = yield* makeClusterExecutor()
      const { map } = yield* settled(2)
      // Keys that the key alone would all send to one runner.
      const target = chooseRunner(map, "default", noLoad, "t-0", 0)?.runner.name
      const keys = Array.from({ length: 256 }, (_, i) => `t-${i}`)
        .filter((key) => chooseRunner(map, "default", noLoad, key, 0)?.runner.name === target).slice(0, 6)
      const runners: Array<string> = []
      for (const key of keys) {
        const { exit, runner } = yield* runWith(executor, request(key, "short"))
        assert.strictEqual(exit.exitCode, 0)
        runners.push(...runner)
      }
      assert.strictEqual(runners.length, 6)
      for (let i = 1; i < runners.length; i++) assert.notStrictEqual(runners[i], runners[i - 1], `stage ${i} ran where stage ${i - 1} did: ${runners.join(", ")}`)
    }).pipe(Effect.provide(memoryCluster([], { runners: 2, capacity: 2 }).pipe(
      Layer.provideMerge(ProcessRunnerMemory({ short: { duration: "10 millis" } }))
    ))))

  it.live("with every slot taken, a stage waits in the orchestrator and is sent when one is free: nothing refused", () =>
    Effect.gen(function*() {
      const executor = yield* makeClusterExecutor()
      const keys = yield* keysOnTheFirstRunner(3)
      const results = yield* Effect.forEach(keys, (key) => runWith(executor, request(key, "short")), { concurrency: "unbounded" })
      assert.deepStrictEqual(results.map((r) => r.exit.exitCode), [0, 0, 0])
      for (const key of keys) assert.deepStrictEqual((yield* placementsOf(key)).length, 1, `${key} was sent once`)
      assert.strictEqual((yield* (yield* ProcessInvocations).all).length, 3)
    }).pipe(Effect.provide(memoryCluster([], { runners: 2, capacity: 1 }).pipe(
      Layer.provideMerge(ProcessRunnerMemory({ short: { duration: "300 millis" } }))
    ))))

  it.live("a key's recorded placement is where it is sent (a resumed run), whatever the runners' load says", () =>
    Effect.gen(function*() {
      const [key = ""] = yield* keysOnTheFirstRunner(1)
      // Recorded by an earlier orchestrator, at a placement this one would never pick first.
      const recorded = placementEntityId([], key, 40)
      yield* Effect.flatMap(ClusterPlacements, (records) => records.place(key, null, "elsewhere-never-used").pipe(
        Effect.zipRight(records.place(key, "elsewhere-never-used", recorded))
      ))
      const first = yield* runWith(yield* makeClusterExecutor(), request(key, "short"))
      assert.strictEqual(first.exit.exitCode, 0)
      assert.deepStrictEqual(yield* placementsOf(key), [recorded])
      // Resumed by a third orchestrator: the stored result, not a second run.
      const again = yield* runWith(yield* makeClusterExecutor(), request(key, "short"))
      assert.deepStrictEqual(again, first)
      assert.strictEqual((yield* (yield* ProcessInvocations).all).length, 1)
    }).pipe(Effect.provide(memoryCluster([], { runners: 2, capacity: 1 }).pipe(
      Layer.provideMerge(ProcessRunnerMemory({ short: { duration: "50 millis" } }))
    ))))

  it.live("a runner full with another orchestrator's stage refuses; the attempt moves to a free runner, and its record with it", () =>
    Effect.gen(function*() {
      const { map } = yield* settled(2)
      // Two keys that an orchestrator with nothing running sends to the same runner.
      const keys = Array.from({ length: 64 }, (_, i) => `r-${i}`)
      const target = chooseRunner(map, "default", noLoad, keys[0] ?? "", 0)?.runner.name
      const [held = "", moved = ""] = keys.filter((key) => chooseRunner(map, "default", noLoad, key, 0)?.runner.name === target)
      const other = yield* makeClusterExecutor()
      const holding = yield* Effect.fork(runWith(other, request(held)))
      yield* Effect.repeat(Effect.map(placementsOf(held), (ids) => ids.length), { until: (n) => n === 1, schedule: Schedule.spaced("10 millis") })
      const result = yield* runWith(yield* makeClusterExecutor(), request(moved))
      const heldResult = yield* Fiber.join(holding)
      assert.deepStrictEqual([heldResult.exit.exitCode, result.exit.exitCode], [0, 0], "both ran at the same time")
      assert.notDeepEqual(result.runner, heldResult.runner)
      const sent = yield* placementsOf(moved)
      assert.strictEqual(sent.length, 2, `refused once, then taken: ${sent.join(", ")}`)
      // Resumed: the record moved with it, so the stored result, not the refusal again and a third placement.
      const again = yield* runWith(yield* makeClusterExecutor(), request(moved))
      assert.deepStrictEqual(again, result)
      assert.deepStrictEqual(yield* placementsOf(moved), sent)
    }).pipe(Effect.provide(memoryCluster([], { runners: 2, capacity: 1 }).pipe(Layer.provideMerge(together(2))))))

  it.live("refused by every runner (full with another orchestrator's stages), an attempt is sent anew, not to an entity that refused it: it runs once one is free", () =>
    Effect.gen(function*() {
      yield* settled(2)
      // Another orchestrator's two stages take both runners' one slot for a while.
      const other = yield* makeClusterExecutor()
      const holders = yield* Effect.fork(Effect.all([runWith(other, request("h-1", "hold")), runWith(other, request("h-2", "hold"))], { concurrency: 2 }))
      yield* Effect.repeat(Effect.zipWith(placementsOf("h-1"), placementsOf("h-2"), (a, b) => a.length + b.length), {
        until: (n) => n === 2,
        schedule: Schedule.spaced("10 millis")
      })
      const result = yield* runWith(yield* makeClusterExecutor(), request("mine", "short"))
      const held = yield* Fiber.join(holders)
      assert.deepStrictEqual(held.map((h) => h.exit.exitCode), [0, 0])
      assert.strictEqual(result.exit.exitCode, 0, "it ran once a runner was free")
      const sent = yield* placementsOf("mine")
      assert.strictEqual(new Set(sent).size, sent.length, `each placement a new entity: ${sent.join(", ")}`)
    }).pipe(Effect.provide(memoryCluster([], { runners: 2, capacity: 1 }).pipe(
      Layer.provideMerge(ProcessRunnerMemory({ hold: { duration: "1500 millis" }, short: { duration: "10 millis" } }))
    ))))
})
