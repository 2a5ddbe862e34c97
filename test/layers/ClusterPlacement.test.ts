/**
 * Capacity-aware placement (issue 18): a runner at capacity refuses an attempt (RunnerBusy) and the
 * executor places it again under a fresh entity id, so stages spread over runners with free slots;
 * a key's stored result is found again by walking the same placements.
 * The walk itself on the TestClock; the cluster's in-memory runners on the live clock (their own
 * fibers poll on it).
 */
import * as EntityId from "@effect/cluster/EntityId"
import * as MessageStorage from "@effect/cluster/MessageStorage"
import * as Sharding from "@effect/cluster/Sharding"
import * as ShardId from "@effect/cluster/ShardId"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Fiber, Layer, Option, Ref, Schedule, TestClock } from "effect"
import { placementEntityId, RemoteStartFailed, RunnerBusy } from "../../src/domain/Cluster.js"
import { makeClusterExecutor } from "../../src/layers/ClusterExecutor.js"
import { defaultPlacement, placeAttempt } from "../../src/layers/internal/placement.js"
import type { ExecutionEvent, ExecutionRequest } from "../../src/services/Executor.js"
import { ProcessRunner } from "../../src/services/ProcessRunner.js"
import { memoryCluster } from "../support/cluster.js"

const busy = new RunnerBusy({ runner: "r:1", capacity: 1 })

/** A sender whose placements answer as `answers` says, recording what it was sent. */
const sender = (answers: (placement: number, last: boolean) => "busy" | "ran" | "failed") =>
  Effect.map(Ref.make<ReadonlyArray<[number, boolean]>>([]), (sent) => ({
    sent,
    send: (placement: number, last: boolean) =>
      Effect.zipRight(
        Ref.update(sent, (all): ReadonlyArray<[number, boolean]> => [...all, [placement, last]]),
        Effect.suspend((): Effect.Effect<string, RunnerBusy | RemoteStartFailed> => {
          const answer = answers(placement, last)
          return answer === "ran"
            ? Effect.succeed(`ran at ${placement}`)
            : answer === "busy"
            ? Effect.fail(busy)
            : Effect.fail(new RemoteStartFailed({ reason: "no such commit", runner: "r:1" }))
        })
      )
  }))

describe("placeAttempt", () => {
  it.effect("a refusal is placed again after a short pause, not failed", () =>
    Effect.gen(function*() {
      const { send, sent } = yield* sender((placement) => (placement < 2 ? "busy" : "ran"))
      const fiber = yield* Effect.fork(placeAttempt(send))
      yield* TestClock.adjust(Duration.millis(19))
      assert.deepStrictEqual(yield* Ref.get(sent), [[0, false]], "placement 1 waits 20 ms")
      yield* TestClock.adjust(Duration.millis(1))
      assert.deepStrictEqual(yield* Ref.get(sent), [[0, false], [1, false]])
      yield* TestClock.adjust(Duration.millis(19))
      assert.deepStrictEqual(yield* Ref.get(sent), [[0, false], [1, false]], "placement 2 waits 20 ms more, not 40")
      yield* TestClock.adjust(Duration.millis(1))
      assert.strictEqual(yield* Fiber.join(fiber), "ran at 2")
      assert.deepStrictEqual(yield* Ref.get(sent), [[0, false], [1, false], [2, false]])
    }))

  it.effect("when every runner stays full, the last placement waits for a slot instead of being refused", () =>
    Effect.gen(function*() {
      const { send, sent } = yield* sender((_, last) => (last ? "ran" : "busy"))
      const fiber = yield* Effect.fork(placeAttempt(send))
      // 20 ms five times, then 40, 80, ..., 640 ms, then 1 s apart: 15 pauses, 6.34 s.
      yield* TestClock.adjust(Duration.millis(6339))
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "still refused after 6.339 s")
      assert.strictEqual((yield* Ref.get(sent)).length, defaultPlacement.placements - 1)
      yield* TestClock.adjust(Duration.millis(1))
      assert.strictEqual(yield* Fiber.join(fiber), `ran at ${defaultPlacement.placements - 1}`)
      const placements = yield* Ref.get(sent)
      assert.deepStrictEqual(placements.map(([p]) => p), Array.from({ length: defaultPlacement.placements }, (_, i) => i))
      assert.deepStrictEqual(placements.filter(([, last]) => last), [[defaultPlacement.placements - 1, true]])
    }))

  it.effect("any other failure ends the walk with it", () =>
    Effect.gen(function*() {
      const { send, sent } = yield* sender(() => "failed")
      const error = yield* Effect.flip(placeAttempt(send))
      assert.strictEqual(error._tag, "RemoteStartFailed")
      assert.strictEqual((yield* Ref.get(sent)).length, 1)
    }))
})

const request = (key: string): ExecutionRequest => ({
  idempotencyKey: key,
  runId: "run-1",
  stageId: key,
  attempt: 1,
  command: "together",
  cwd: "/repo",
  env: {},
  runsOn: undefined
})

/**
 * Processes that finish (exit 0) only once two of them run at the same time, and otherwise give up
 * after 5 s (exit 1): two stages that were run one after the other fail.
 */
const together = Layer.effect(
  ProcessRunner,
  Effect.gen(function*() {
    const both = yield* Deferred.make<void>()
    const running = yield* Ref.make(0)
    const invocations = yield* Ref.make(0)
    return ProcessRunner.of({
      run: (_spec, handlers) =>
        Effect.gen(function*() {
          yield* Ref.update(invocations, (n) => n + 1)
          yield* handlers?.onStart?.(1) ?? Effect.void
          if ((yield* Ref.updateAndGet(running, (n) => n + 1)) === 2) yield* Deferred.succeed(both, undefined)
          const met = yield* Deferred.await(both).pipe(Effect.timeoutOption(Duration.seconds(5)))
          yield* Ref.update(running, (n) => n - 1)
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

/**
 * Two keys whose first placements hash to shards of the runner in context (memory:1), once the two
 * runners have shared the 8 shards: sent together, one of them is refused there.
 */
const keysOnTheFirstRunner = Effect.gen(function*() {
  const sharding = yield* Sharding.Sharding
  const shardOf = (key: string) => sharding.getShardId(EntityId.make(placementEntityId([], key, 0)), "default")
  const shards = Array.from({ length: 8 }, (_, i) => ShardId.make("default", i + 1))
  yield* Effect.repeat(Effect.sync(() => shards.filter(sharding.hasShardId).length), {
    until: (held) => held === 4,
    schedule: Schedule.spaced(Duration.millis(20))
  }).pipe(Effect.timeout(Duration.seconds(5)))
  const keys = Array.from({ length: 64 }, (_, i) => `k-${i}`).filter((key) => sharding.hasShardId(shardOf(key)))
  assert.isAtLeast(keys.length, 2)
  return [keys[0] ?? "", keys[1] ?? ""] as const
})

describe("ClusterExecutor placement on in-memory runners", () => {
  it.live("two runners of capacity 1: two stages run at once, the refused one placed again; its key is answered from storage after", () =>
    Effect.gen(function*() {
      const executor = yield* makeClusterExecutor({ placement: { placements: 16, pause: Schedule.spaced(Duration.millis(10)) } })
      const runStage = (key: string) =>
        Effect.gen(function*() {
          const events = yield* Ref.make<ReadonlyArray<ExecutionEvent>>([])
          const exit = yield* executor.run(request(key), (event) => Ref.update(events, (all) => [...all, event]))
          const all = yield* Ref.get(events)
          return { exit, runner: runnerOf(all), starts: all.filter((event) => event._tag === "Started").length }
        })
      const [first, second] = yield* keysOnTheFirstRunner
      const [a, b] = yield* Effect.all([runStage(first), runStage(second)], { concurrency: "unbounded" })
      assert.deepStrictEqual([a.exit.exitCode, b.exit.exitCode], [0, 0], "both ran at the same time")
      assert.deepStrictEqual([...a.runner, ...b.runner].sort(), ["memory:1", "memory:2"])
      const placements = [...(yield* placementsOf(first)), ...(yield* placementsOf(second))]
      assert.isAbove(placements.length, 2, `one of them was refused and placed again: ${placements.join(", ")}`)
      // The refused key again (a resumed run): its refusals are stored replies, its result too.
      const refused = (yield* placementsOf(first)).length > 1 ? first : second
      const before = yield* placementsOf(refused)
      const again = yield* runStage(refused)
      assert.deepStrictEqual(again, refused === first ? a : b, "the stored result and output (one start), not a new run")
      assert.deepStrictEqual(yield* placementsOf(refused), before, "no new placement")
    }).pipe(Effect.provide(memoryCluster([], { runners: 2, capacity: 1 }).pipe(Layer.provideMerge(together)))))
})
