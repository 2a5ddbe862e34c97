/**
 * The EventBus (SPEC EVT-1, EVT-2) on its PubSub: subscriptions see what is published after they
 * subscribe, in order; handlers registered with `on` cannot hurt the publisher or each other; a slow
 * handler only falls behind, and `settled` waits for it. Time is the TestClock.
 */
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Deferred, Effect, Exit, Fiber, Logger, LogLevel, Option, Ref, Scope, Stream, TestClock } from "effect"
import type { LogEvent, OrchestratorEvent, PlanCompleted, RunStarted } from "../src/domain/Events.js"
import type { RunSummary } from "../src/domain/RunSummary.js"
import { EventBusLive, logCapacity } from "../src/layers/EventBus.js"
import { EventBus } from "../src/services/EventBus.js"

// ---------------------------------------------------------------------------------------------
// Fixtures

const stamp = (runId: string) => ({ taskId: "demo", runId, timestamp: "1970-01-01T00:00:00.000Z" })

const planCompleted = (runId: string): PlanCompleted => ({
  type: "plan:completed",
  ...stamp(runId),
  plan: { items: [], targetId: null }
})

const runStarted = (runId: string): RunStarted => ({
  type: "run:started",
  ...stamp(runId),
  pipelineId: "p",
  pipelineTitle: "P",
  manifestPath: "m",
  logPath: "l",
  status: "in_progress",
  stages: []
})

const summary = (runId: string): RunSummary => ({
  taskId: "demo",
  runId,
  mode: "mcp",
  plan: { items: [], targetId: null },
  build: { subtaskId: "s", artifacts: [], mode: "mcp", runId, success: true },
  test: { subtaskId: "s", success: true, reports: [], runId },
  review: { summary: "ok", decision: { approved: true } },
  timestamp: "1970-01-01T00:00:00.000Z"
})

const runCompleted = (runId: string): OrchestratorEvent => ({ type: "run:completed", ...stamp(runId), summary: summary(runId) })

const log = (runId: string, message: string): LogEvent => ({
  type: "log",
  ...stamp(runId),
  stageId: "build",
  stageIndex: 1,
  level: "info",
  message,
  source: "stdout"
})

/** run ids tagged with their type, e.g. `plan:completed/r1`. */
const labels = (events: ReadonlyArray<OrchestratorEvent>) => events.map((event) => `${event.type}/${event.runId}`)

/** Lets forked fibers (handlers, collectors) run as far as they can without time passing. */
const drain = Effect.gen(function*() {
  yield* TestClock.adjust(0)
  for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
})

/** Runs `effect` with a logger that keeps the messages of warnings and worse. */
const withWarnings = <A, E, R>(effect: Effect.Effect<A, E, R>) => {
  const warnings: Array<string> = []
  const logger = Logger.make(({ logLevel, message }) => {
    if (LogLevel.greaterThanEqual(logLevel, LogLevel.Warning)) {
      warnings.push(Array.isArray(message) ? message.map(String).join(" ") : String(message))
    }
  })
  return Effect.map(effect.pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger))), (a) => [a, warnings] as const)
}

// ---------------------------------------------------------------------------------------------

describe("EventBus: subscriptions", () => {
  it.scoped("a wildcard subscription sees every event published after it, in order", () =>
    Effect.gen(function*() {
      const bus = yield* EventBus
      yield* bus.publish(planCompleted("before"))
      const events = yield* bus.subscribe
      const collector = yield* Effect.fork(Stream.runCollect(Stream.take(events, 4)))
      yield* bus.publish(planCompleted("r1"))
      yield* bus.publish(runStarted("r1"))
      yield* bus.publish(runCompleted("r1"))
      yield* bus.publish(planCompleted("r2"))
      assert.deepStrictEqual(labels(Chunk.toReadonlyArray(yield* Fiber.join(collector))), [
        "plan:completed/r1",
        "run:started/r1",
        "run:completed/r1",
        "plan:completed/r2"
      ])
    }).pipe(Effect.provide(EventBusLive)))

  it.scoped("a per-type subscription sees only its type, in order; several subscribers each see everything", () =>
    Effect.gen(function*() {
      const bus = yield* EventBus
      const plans = yield* bus.subscribeTo("plan:completed")
      const completions = yield* bus.subscribeTo("run:completed")
      const all = yield* bus.subscribe
      const plansSeen = yield* Effect.fork(Stream.runCollect(Stream.take(plans, 2)))
      const completionsSeen = yield* Effect.fork(Stream.runCollect(Stream.take(completions, 2)))
      const allSeen = yield* Effect.fork(Stream.runCollect(Stream.take(all, 5)))
      for (const event of [planCompleted("r1"), runStarted("r1"), runCompleted("r1"), planCompleted("r2"), runCompleted("r2")]) {
        yield* bus.publish(event)
      }
      const planEvents = Chunk.toReadonlyArray(yield* Fiber.join(plansSeen))
      assert.deepStrictEqual(labels(planEvents), ["plan:completed/r1", "plan:completed/r2"])
      // The per-type stream is typed: its events carry the plan.
      assert.deepStrictEqual(planEvents.map((event) => event.plan.items.length), [0, 0])
      const completionEvents = Chunk.toReadonlyArray(yield* Fiber.join(completionsSeen))
      assert.deepStrictEqual(labels(completionEvents), ["run:completed/r1", "run:completed/r2"])
      assert.deepStrictEqual(completionEvents.map((event) => event.summary.runId), ["r1", "r2"])
      assert.strictEqual(Chunk.size(yield* Fiber.join(allSeen)), 5)
    }).pipe(Effect.provide(EventBusLive)))

  it.scoped("`on` handles only its type, in order", () =>
    Effect.gen(function*() {
      const bus = yield* EventBus
      const seen = yield* Ref.make<ReadonlyArray<string>>([])
      const wildcard = yield* Ref.make<ReadonlyArray<string>>([])
      yield* bus.on("run:completed", (event) => Ref.update(seen, (all) => [...all, event.summary.runId]))
      yield* bus.on("plan:completed", (event) => Ref.update(wildcard, (all) => [...all, event.runId]))
      for (const event of [planCompleted("r1"), runCompleted("r1"), runStarted("r2"), runCompleted("r2"), runCompleted("r3")]) {
        yield* bus.publish(event)
      }
      yield* bus.settled
      assert.deepStrictEqual(yield* Ref.get(seen), ["r1", "r2", "r3"])
      assert.deepStrictEqual(yield* Ref.get(wildcard), ["r1"])
    }).pipe(Effect.provide(EventBusLive)))
})

describe("EventBus: onLifecycle", () => {
  it.scoped("handles every event but log, one at a time in publication order across types; settled waits for it", () =>
    Effect.gen(function*() {
      const bus = yield* EventBus
      const seen = yield* Ref.make<ReadonlyArray<string>>([])
      // Slow on run:started: a handler per type would let the later plan:completed overtake it.
      yield* bus.onLifecycle((event) =>
        Effect.sleep(event.type === "run:started" ? "1 second" : "0 millis").pipe(
          Effect.zipRight(Ref.update(seen, (all) => [...all, `${event.type}/${event.runId}`]))
        ))
      for (const event of [runStarted("r1"), log("r1", "chunk"), planCompleted("r1"), runCompleted("r1")]) yield* bus.publish(event)
      const settled = yield* Effect.fork(bus.settled)
      yield* drain
      assert.deepStrictEqual(yield* Ref.get(seen), [])
      assert.isTrue(Option.isNone(yield* Fiber.poll(settled)), "not settled while run:started is being handled")
      yield* TestClock.adjust("1 second")
      yield* drain
      assert.deepStrictEqual(yield* Ref.get(seen), ["run:started/r1", "plan:completed/r1", "run:completed/r1"])
      assert.isTrue(Option.isSome(yield* Fiber.poll(settled)))
    }).pipe(Effect.provide(EventBusLive)))
})

describe("EventBus: failing handlers", () => {
  it.scoped("a handler that fails or dies does not reach the publisher, handles the next events, and others get everything", () =>
    Effect.gen(function*() {
      const bus = yield* EventBus
      const flaky = yield* Ref.make<ReadonlyArray<string>>([])
      const steady = yield* Ref.make<ReadonlyArray<string>>([])
      // The handlers log from their own fibers, which take the logger of the fiber that registered them.
      const [exits, warnings] = yield* withWarnings(Effect.gen(function*() {
        yield* bus.on("plan:completed", (event) =>
          Effect.gen(function*() {
            yield* Ref.update(flaky, (all) => [...all, event.runId])
            if (event.runId === "fails") return yield* Effect.fail("handler failed")
            if (event.runId === "dies") return yield* Effect.die(new Error("handler died"))
          }))
        yield* bus.on("plan:completed", (event) => Ref.update(steady, (all) => [...all, event.runId]))
        const results = []
        for (const runId of ["ok-1", "fails", "ok-2", "dies", "ok-3"]) {
          results.push(yield* Effect.exit(bus.publish(planCompleted(runId))))
        }
        yield* bus.settled
        return results
      }))
      assert.isTrue(exits.every(Exit.isSuccess), "every publish succeeded")
      assert.deepStrictEqual(yield* Ref.get(flaky), ["ok-1", "fails", "ok-2", "dies", "ok-3"])
      assert.deepStrictEqual(yield* Ref.get(steady), ["ok-1", "fails", "ok-2", "dies", "ok-3"])
      assert.deepStrictEqual(warnings, [
        "A plan:completed subscriber failed; the run is not affected.",
        "A plan:completed subscriber failed; the run is not affected."
      ])
    }).pipe(Effect.provide(EventBusLive)))
})

describe("EventBus: slow handlers and settled", () => {
  it.scoped("a slow handler does not block publish; settled waits until it has handled everything", () =>
    Effect.gen(function*() {
      const bus = yield* EventBus
      const handled = yield* Ref.make<ReadonlyArray<string>>([])
      yield* bus.on("plan:completed", (event) =>
        Effect.sleep("1 second").pipe(Effect.zipRight(Ref.update(handled, (all) => [...all, event.runId]))))

      // Publishing three events takes no time, although handling them takes three seconds.
      const publisher = yield* Effect.fork(Effect.forEach(["r1", "r2", "r3"], (runId) => bus.publish(planCompleted(runId))))
      yield* drain
      assert.isTrue(Option.isSome(yield* Fiber.poll(publisher)), "publish returned while the handler sleeps")
      assert.deepStrictEqual(yield* Ref.get(handled), [])

      const settled = yield* Effect.fork(bus.settled)
      yield* TestClock.adjust("1 second")
      yield* drain
      assert.deepStrictEqual(yield* Ref.get(handled), ["r1"])
      assert.isTrue(Option.isNone(yield* Fiber.poll(settled)), "not settled after 1 s")
      yield* TestClock.adjust("1999 millis")
      yield* drain
      assert.deepStrictEqual(yield* Ref.get(handled), ["r1", "r2"])
      assert.isTrue(Option.isNone(yield* Fiber.poll(settled)), "not settled at 2999 ms, the last event is still being handled")
      yield* TestClock.adjust("1 millis")
      yield* drain
      assert.deepStrictEqual(yield* Ref.get(handled), ["r1", "r2", "r3"])
      assert.isTrue(Option.isSome(yield* Fiber.poll(settled)), "settled once the handler caught up")
    }).pipe(Effect.provide(EventBusLive)))

  it.scoped("settled counts only events published before it was called", () =>
    Effect.gen(function*() {
      const bus = yield* EventBus
      yield* bus.on("plan:completed", () => Effect.sleep("1 second"))
      yield* bus.publish(planCompleted("r1"))
      const settled = yield* Effect.fork(bus.settled)
      yield* drain
      yield* bus.publish(planCompleted("r2"))
      yield* TestClock.adjust("1 second")
      yield* drain
      assert.isTrue(Option.isSome(yield* Fiber.poll(settled)), "r2, published later, is not waited for")
    }).pipe(Effect.provide(EventBusLive)))

  it.scoped("settle gives up on a handler that never finishes after the bound, naming its event type", () =>
    Effect.gen(function*() {
      const bus = yield* EventBus
      yield* bus.on("plan:completed", () => Effect.void)
      yield* bus.on("run:completed", () => Effect.never)
      yield* bus.publish(planCompleted("r1"))
      yield* bus.publish(runCompleted("r1"))
      const settle = yield* Effect.fork(bus.settle("10 seconds"))
      yield* TestClock.adjust("9999 millis")
      yield* drain
      assert.isTrue(Option.isNone(yield* Fiber.poll(settle)), "still waiting before the bound")
      yield* TestClock.adjust("1 millis")
      yield* drain
      assert.deepStrictEqual(yield* Fiber.join(settle), ["run:completed"])
    }).pipe(Effect.provide(EventBusLive)))

  it.scoped("settle returns as soon as every handler caught up, with nothing behind", () =>
    Effect.gen(function*() {
      const bus = yield* EventBus
      yield* bus.on("plan:completed", () => Effect.sleep("1 second"))
      yield* bus.on("run:completed", () => Effect.sleep("2 seconds"))
      yield* bus.publish(planCompleted("r1"))
      yield* bus.publish(runCompleted("r1"))
      const settle = yield* Effect.fork(bus.settle("1 minute"))
      yield* TestClock.adjust("2 seconds")
      yield* drain
      // Waited for together: 2 s, not 1 s + 2 s.
      assert.deepStrictEqual(yield* Fiber.join(settle), [])
    }).pipe(Effect.provide(EventBusLive)))

  it.effect("settled with no handlers returns at once", () =>
    Effect.gen(function*() {
      const bus = yield* EventBus
      yield* bus.publish(planCompleted("r1"))
      yield* bus.settled
    }).pipe(Effect.provide(EventBusLive)))
})

describe("EventBus: scoped handlers", () => {
  it.scoped("a handler whose scope is closed stops receiving", () =>
    Effect.gen(function*() {
      const bus = yield* EventBus
      const seen = yield* Ref.make<ReadonlyArray<string>>([])
      const scope = yield* Scope.make()
      yield* bus.on("plan:completed", (event) => Ref.update(seen, (all) => [...all, event.runId])).pipe(Scope.extend(scope))
      const witness = yield* bus.subscribeTo("plan:completed")
      const witnessed = yield* Effect.fork(Stream.runCollect(Stream.take(witness, 2)))

      yield* bus.publish(planCompleted("r1"))
      yield* drain
      assert.deepStrictEqual(yield* Ref.get(seen), ["r1"])
      yield* Scope.close(scope, Exit.void)
      yield* bus.publish(planCompleted("r2"))
      // The event was delivered (another subscriber got it), but not to the closed handler.
      assert.deepStrictEqual(labels(Chunk.toReadonlyArray(yield* Fiber.join(witnessed))), [
        "plan:completed/r1",
        "plan:completed/r2"
      ])
      yield* drain
      assert.deepStrictEqual(yield* Ref.get(seen), ["r1"])
    }).pipe(Effect.provide(EventBusLive)))
})

describe("EventBus.settled after a handler's scope closed", () => {
  it.effect("does not wait for a handler that stopped", () =>
    Effect.gen(function*() {
      const bus = yield* EventBus
      const scope = yield* Scope.make()
      yield* bus.on("plan:completed", () => Effect.void).pipe(Scope.extend(scope))
      yield* Scope.close(scope, Exit.void)
      yield* bus.publish({ type: "plan:completed", taskId: "t", runId: "r", timestamp: "1970-01-01T00:00:00.000Z", plan: { items: [], targetId: null } })
      const settled = yield* Effect.fork(bus.settled)
      yield* TestClock.adjust("1 second")
      assert.isTrue(Option.isSome(yield* Fiber.poll(settled)), "settled is still waiting for a handler that stopped")
    }).pipe(Effect.provide(EventBusLive)))
})

describe("EventBus: log events, on a bounded channel of their own (EVT-2)", () => {
  it.scoped("reach log and wildcard subscribers only; settle names a log handler that is stuck", () =>
    Effect.gen(function*() {
      const bus = yield* EventBus
      const logs = yield* bus.subscribeTo("log")
      const all = yield* bus.subscribe
      const completions = yield* Ref.make<ReadonlyArray<string>>([])
      yield* bus.on("run:completed", (event) => Ref.update(completions, (seen) => [...seen, event.runId]))
      yield* bus.on("log", () => Effect.never) // stuck for good
      const logsSeen = yield* Effect.fork(Stream.runCollect(Stream.take(logs, 2)))
      const allSeen = yield* Effect.fork(Stream.runCollect(Stream.take(all, 3)))
      yield* bus.publish(log("r1", "one"))
      yield* bus.publish(runCompleted("r1"))
      yield* bus.publish(log("r1", "two"))
      const settle = yield* Effect.fork(bus.settle("1 second"))
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(yield* Fiber.join(settle), ["log"])
      assert.deepStrictEqual(yield* Ref.get(completions), ["r1"])
      assert.deepStrictEqual(Chunk.toReadonlyArray(yield* Fiber.join(logsSeen)).map((e) => e.message), ["one", "two"])
      // Within a channel the order holds; between the two it is not defined.
      const everything = Chunk.toReadonlyArray(yield* Fiber.join(allSeen))
      assert.deepStrictEqual(everything.filter((e) => e.type === "log").map((e) => e.type === "log" && e.message), ["one", "two"])
      assert.deepStrictEqual(labels(everything.filter((e) => e.type !== "log")), ["run:completed/r1"])
    }).pipe(Effect.provide(EventBusLive)))

  it.scoped("a subscriber that takes nothing keeps only the newest chunks, and publishing never waits", () =>
    Effect.gen(function*() {
      const bus = yield* EventBus
      const logs = yield* bus.subscribeTo("log")
      const total = logCapacity + 10
      const publisher = yield* Effect.fork(Effect.forEach(Array.from({ length: total }, (_, i) => i), (i) => bus.publish(log("r", `#${i}`))))
      yield* drain
      assert.isTrue(Option.isSome(yield* Fiber.poll(publisher)), "publish waited for a subscriber")
      const kept = Chunk.toReadonlyArray(yield* Stream.runCollect(Stream.take(logs, logCapacity))).map((e) => e.message)
      assert.strictEqual(kept[0], "#10")
      assert.strictEqual(kept[logCapacity - 1], `#${total - 1}`)
    }).pipe(Effect.provide(EventBusLive)))

  it.scoped("wantsLogs is true only while a log or wildcard subscription is open", () =>
    Effect.gen(function*() {
      const bus = yield* EventBus
      assert.isFalse(yield* bus.wantsLogs)
      yield* bus.on("run:completed", () => Effect.void)
      yield* bus.subscribeTo("plan:completed")
      assert.isFalse(yield* bus.wantsLogs, "other subscriptions do not ask for output")
      const byType = yield* Scope.make()
      yield* bus.subscribeTo("log").pipe(Scope.extend(byType))
      assert.isTrue(yield* bus.wantsLogs)
      yield* Scope.close(byType, Exit.void)
      assert.isFalse(yield* bus.wantsLogs)
      const wildcard = yield* Scope.make()
      yield* bus.subscribe.pipe(Scope.extend(wildcard))
      assert.isTrue(yield* bus.wantsLogs)
      yield* Scope.close(wildcard, Exit.void)
      assert.isFalse(yield* bus.wantsLogs)
    }).pipe(Effect.provide(EventBusLive)))

  it.scoped("settled waits for a slow log handler until its queue is empty; what the queue dropped it does not wait for", () =>
    Effect.gen(function*() {
      const bus = yield* EventBus
      const handled = yield* Ref.make<ReadonlyArray<string>>([])
      const total = logCapacity + 5
      const last = `#${total - 1}`
      // The handler is slow where it matters, held by gates rather than by time (each TestClock
      // step costs real milliseconds): on its first chunk while the rest queue up, and on the last.
      const firstHeld = yield* Deferred.make<void>()
      const lastHeld = yield* Deferred.make<void>()
      const calls = yield* Ref.make(0)
      yield* bus.on("log", (event) =>
        Effect.gen(function*() {
          if ((yield* Ref.getAndUpdate(calls, (n) => n + 1)) === 0) yield* Deferred.await(firstHeld)
          if (event.message === last) yield* Deferred.await(lastHeld)
          yield* Ref.update(handled, (all) => [...all, event.message])
        }))
      yield* Effect.forEach(Array.from({ length: total }, (_, i) => i), (i) => bus.publish(log("r", `#${i}`)))
      const settled = yield* Effect.fork(bus.settled)
      // 5 ms is settled's poll interval: four polls with a full queue, then four with the queue
      // empty but the last chunk in the handler; settled must wait through both.
      yield* TestClock.adjust("20 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(settled)), "settled returned with chunks still queued")
      yield* Deferred.succeed(firstHeld, undefined)
      yield* drain
      yield* TestClock.adjust("20 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(settled)), "settled returned while the last chunk was being handled")
      yield* Deferred.succeed(lastHeld, undefined)
      yield* drain
      yield* TestClock.adjust("5 millis")
      const seen = yield* Ref.get(handled)
      assert.isTrue(Option.isSome(yield* Fiber.poll(settled)), "settled still waiting after the queue emptied")
      // The held first chunk, then the newest logCapacity of the rest (the older ones were dropped).
      assert.isAtLeast(seen.length, logCapacity)
      assert.isAtMost(seen.length, logCapacity + 2)
      assert.strictEqual(seen.at(-1), last)
      yield* TestClock.adjust("1 second")
      yield* drain
      assert.strictEqual((yield* Ref.get(handled)).length, seen.length, "more was handled after settled")
    }).pipe(Effect.provide(EventBusLive)))
})
