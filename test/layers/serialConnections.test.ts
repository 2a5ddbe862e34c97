/**
 * Reserved connections that run one statement at a time (issue 18): statements sent from concurrent
 * fibers reach the connection one after the other, in the order they were sent, with their own results.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Connection } from "@effect/sql/SqlConnection"
import { Duration, Effect, Fiber, Ref, Stream, TestClock } from "effect"
import { serialConnection } from "../../src/layers/internal/serialConnections.js"

/** A connection whose statements take 10 ms each, recording how many run at once at most and in which order. */
const slowConnection = Effect.gen(function*() {
  const running = yield* Ref.make(0)
  const most = yield* Ref.make(0)
  const order = yield* Ref.make<ReadonlyArray<string>>([])
  const statement = (sql: string) =>
    Effect.gen(function*() {
      const now = yield* Ref.updateAndGet(running, (n) => n + 1)
      yield* Ref.update(most, (m) => Math.max(m, now))
      yield* Ref.update(order, (all) => [...all, sql])
      yield* Effect.sleep(Duration.millis(10))
      yield* Ref.update(running, (n) => n - 1)
      return [[sql]]
    })
  const connection: Connection = {
    execute: (sql) => statement(sql),
    executeRaw: (sql) => statement(sql),
    executeValues: (sql) => statement(sql),
    executeUnprepared: (sql) => statement(sql),
    executeStream: () => Stream.empty
  }
  return { connection, most, order }
})

describe("serialConnection", () => {
  it.effect("statements from concurrent fibers run one at a time, in order, each with its result", () =>
    Effect.gen(function*() {
      const { connection, most, order } = yield* slowConnection
      const serial = yield* serialConnection(connection)
      const fiber = yield* Effect.fork(Effect.all([
        serial.executeRaw("refresh", []),
        serial.executeValues("acquire", []),
        serial.execute("release", [], undefined),
        serial.executeUnprepared("heartbeat", [], undefined)
      ], { concurrency: "unbounded" }))
      yield* TestClock.adjust(Duration.millis(39))
      assert.isNull(fiber.unsafePoll(), "four statements of 10 ms take 40 ms one after the other")
      yield* TestClock.adjust(Duration.millis(1))
      const results = yield* Fiber.join(fiber)
      assert.deepStrictEqual(results, [[["refresh"]], [["acquire"]], [["release"]], [["heartbeat"]]])
      assert.strictEqual(yield* Ref.get(most), 1)
      assert.deepStrictEqual(yield* Ref.get(order), ["refresh", "acquire", "release", "heartbeat"])
    }))
})
