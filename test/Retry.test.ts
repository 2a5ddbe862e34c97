/**
 * The per-stage retry policy as pure functions (SPEC RET-1, DECISIONS B-1): the delays between
 * attempts, the Schedule that waits them (on the TestClock), which outcomes are worth another attempt,
 * and how a config with a bad `retry` is reported.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Option, Ref, Schema, TestClock } from "effect"
import { decodeJsonFile, InvalidFile } from "../src/domain/FileErrors.js"
import { PipelineConfigFile } from "../src/domain/Pipeline.js"
import { isRetryableOutcome, retryDelayMs, retryDelays, RetryPolicy, retrySchedule } from "../src/domain/Retry.js"

const exited = (exitCode: number) => ({ _tag: "Exited" as const, exitCode })
const timedOut = { _tag: "TimedOut" as const }
const spawnFailed = { _tag: "SpawnFailed" as const }

describe("retryDelayMs / retryDelays (RET-1: 250 ms, doubling)", () => {
  it("defaults to 250 ms doubling: 250, 500, 1000, 2000", () => {
    assert.deepStrictEqual(retryDelays({ attempts: 3 }), [250, 500])
    assert.deepStrictEqual(retryDelays({ attempts: 5 }), [250, 500, 1000, 2000])
    assert.deepStrictEqual([1, 2, 3, 4].map((n) => retryDelayMs({ attempts: 5 }, n)), [250, 500, 1000, 2000])
  })

  it("a single attempt has no delays; n attempts have n − 1", () => {
    assert.deepStrictEqual(retryDelays({ attempts: 1 }), [])
    assert.deepStrictEqual(retryDelays({ attempts: 2 }), [250])
    assert.strictEqual(retryDelays({ attempts: 20 }).length, 19)
  })

  it("honours initialDelayMs and factor", () => {
    assert.deepStrictEqual(retryDelays({ attempts: 4, initialDelayMs: 100, factor: 3 }), [100, 300, 900])
    assert.deepStrictEqual(retryDelays({ attempts: 4, initialDelayMs: 50 }), [50, 100, 200])
    assert.deepStrictEqual(retryDelays({ attempts: 4, factor: 1.5 }), [250, 375, 562.5])
    assert.deepStrictEqual(retryDelays({ attempts: 4, initialDelayMs: 40, factor: 1 }), [40, 40, 40], "factor 1: constant")
    assert.deepStrictEqual(retryDelays({ attempts: 3, initialDelayMs: 0 }), [0, 0], "no wait at all")
  })

  it("caps every delay at maxDelayMs", () => {
    assert.deepStrictEqual(retryDelays({ attempts: 6, maxDelayMs: 1500 }), [250, 500, 1000, 1500, 1500])
    assert.deepStrictEqual(retryDelays({ attempts: 3, initialDelayMs: 5000, maxDelayMs: 1000 }), [1000, 1000])
    assert.deepStrictEqual(retryDelays({ attempts: 4, maxDelayMs: 500 }), [250, 500, 500], "a cap equal to a delay keeps it")
  })
})

/** Runs an always-failing effect under `retrySchedule(policy)`; returns the fiber and the attempt counter. */
const retriedForever = (policy: RetryPolicy) =>
  Effect.gen(function*() {
    const runs = yield* Ref.make(0)
    const fiber = yield* Effect.fork(
      Effect.retry(Effect.zipRight(Ref.update(runs, (n) => n + 1), Effect.fail("boom" as const)), retrySchedule(policy))
    )
    return { fiber, runs: Ref.get(runs) }
  })

describe("retrySchedule (driven by the TestClock)", () => {
  it.effect("waits 250 ms then 500 ms, and stops after `attempts` attempts in all", () =>
    Effect.gen(function*() {
      const { fiber, runs } = yield* retriedForever({ attempts: 3 })
      yield* TestClock.adjust(0)
      assert.strictEqual(yield* runs, 1, "the first attempt runs at once")
      yield* TestClock.adjust(249)
      assert.strictEqual(yield* runs, 1, "not before 250 ms")
      yield* TestClock.adjust(1)
      assert.strictEqual(yield* runs, 2, "the second attempt at 250 ms")
      yield* TestClock.adjust(499)
      assert.strictEqual(yield* runs, 2, "not before 250 + 500 ms")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust(1)
      assert.strictEqual(yield* runs, 3, "the third attempt at 750 ms")
      const exit = yield* Fiber.await(fiber)
      assert.isTrue(Exit.isFailure(exit), "the last failure is the result")
      yield* TestClock.adjust("1 hour")
      assert.strictEqual(yield* runs, 3, "no fourth attempt")
    }))

  it.effect("a single attempt is never retried", () =>
    Effect.gen(function*() {
      const { fiber, runs } = yield* retriedForever({ attempts: 1 })
      yield* TestClock.adjust(0)
      assert.isTrue(Option.isSome(yield* Fiber.poll(fiber)), "done without waiting")
      yield* TestClock.adjust("1 hour")
      assert.strictEqual(yield* runs, 1)
    }))

  it.effect("waits the policy's delays: initial 100, factor 10, cap 2000", () =>
    Effect.gen(function*() {
      const { fiber, runs } = yield* retriedForever({ attempts: 4, initialDelayMs: 100, factor: 10, maxDelayMs: 2000 })
      const counts: Array<number> = []
      for (const step of [0, 99, 1, 999, 1, 1999, 1]) {
        yield* TestClock.adjust(step)
        counts.push(yield* runs)
      }
      // at 0, 99, 100, 1099, 1100, 3099, 3100 ms
      assert.deepStrictEqual(counts, [1, 1, 2, 2, 3, 3, 4])
      assert.isTrue(Option.isSome(yield* Fiber.poll(fiber)))
    }))

  it.effect("a successful attempt ends the retries", () =>
    Effect.gen(function*() {
      const runs = yield* Ref.make(0)
      const attempt = Effect.flatMap(Ref.updateAndGet(runs, (n) => n + 1), (n) => n < 2 ? Effect.fail("again") : Effect.succeed(n))
      const fiber = yield* Effect.fork(Effect.retry(attempt, retrySchedule({ attempts: 5 })))
      yield* TestClock.adjust("1 hour")
      assert.strictEqual(yield* Fiber.join(fiber), 2)
      assert.strictEqual(yield* Ref.get(runs), 2)
    }))
})

describe("isRetryableOutcome", () => {
  it("without onExitCodes: any non-zero exit and a timeout are retried, exit 0 is not", () => {
    const policy: RetryPolicy = { attempts: 3 }
    assert.isTrue(isRetryableOutcome(policy, exited(1)))
    assert.isTrue(isRetryableOutcome(policy, exited(75)))
    assert.isTrue(isRetryableOutcome(policy, exited(128)), "killed by a signal")
    assert.isTrue(isRetryableOutcome(policy, timedOut))
    assert.isFalse(isRetryableOutcome(policy, exited(0)))
  })

  it("with onExitCodes: only those codes; a timeout is then not retried", () => {
    const policy: RetryPolicy = { attempts: 3, onExitCodes: [75, 111] }
    assert.isTrue(isRetryableOutcome(policy, exited(75)))
    assert.isTrue(isRetryableOutcome(policy, exited(111)))
    assert.isFalse(isRetryableOutcome(policy, exited(1)))
    assert.isFalse(isRetryableOutcome(policy, exited(0)))
    assert.isFalse(isRetryableOutcome(policy, timedOut))
  })

  it("onExitCodes [] retries nothing, and listing 0 does not make a success retryable", () => {
    assert.isFalse(isRetryableOutcome({ attempts: 3, onExitCodes: [] }, exited(1)))
    assert.isFalse(isRetryableOutcome({ attempts: 3, onExitCodes: [] }, timedOut))
    assert.isFalse(isRetryableOutcome({ attempts: 3, onExitCodes: [0, 1] }, exited(0)))
  })

  it("a spawn error is never retried (RET-1: fatal)", () => {
    assert.isFalse(isRetryableOutcome({ attempts: 3 }, spawnFailed))
    assert.isFalse(isRetryableOutcome({ attempts: 20, onExitCodes: [1] }, spawnFailed))
  })
})

// ---------------------------------------------------------------------------------------------

const configPath = "codex.orchestrator.json"

const configWithRetry = (retry: unknown) => ({
  pipelines: [{ id: "p", title: "P", stages: [{ kind: "command", id: "a", title: "A", command: "x", retry }] }]
})

const decodeConfig = (value: unknown) => decodeJsonFile(PipelineConfigFile, configPath)(JSON.stringify(value))

const issuesOf = (retry: unknown) =>
  Effect.gen(function*() {
    const error = yield* Effect.flip(decodeConfig(configWithRetry(retry)))
    assert.isTrue(error instanceof InvalidFile)
    return error.issues
  })

const at = "pipelines.0.stages.0.retry"
/** How an issue names the items of its path (the pipeline and the stage, by id). */
const named = ' (pipeline "p", stage "a")'

describe("RetryPolicy in a config (B-1)", () => {
  it.effect("decodes a full policy and keeps it on the stage", () =>
    Effect.gen(function*() {
      const retry = { attempts: 4, initialDelayMs: 100, factor: 1.5, maxDelayMs: 2000, onExitCodes: [75] }
      const config = yield* decodeConfig(configWithRetry(retry))
      const stage = config.pipelines[0]?.stages[0]
      assert.deepStrictEqual(stage?.kind === "command" ? stage.retry : undefined, retry)
      const minimal = yield* decodeConfig(configWithRetry({ attempts: 1 }))
      const minimalStage = minimal.pipelines[0]?.stages[0]
      assert.deepStrictEqual(minimalStage?.kind === "command" ? minimalStage.retry : undefined, { attempts: 1 })
    }))

  it.effect("attempts 0 and 21 are rejected with readable messages naming the field", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* issuesOf({ attempts: 0 }), [
        `${at}.attempts${named}: must be an integer of at least 1 (the first attempt counts)`
      ])
      assert.deepStrictEqual(yield* issuesOf({ attempts: 21 }), [`${at}.attempts${named}: must be at most 20`])
      const error = yield* Effect.flip(decodeConfig(configWithRetry({ attempts: 0 })))
      assert.strictEqual(
        error.message,
        `${configPath} is not valid: ${at}.attempts${named}: must be an integer of at least 1 (the first attempt counts).`
      )
      // The bounds themselves are accepted.
      assert.strictEqual(Schema.decodeUnknownSync(RetryPolicy)({ attempts: 20 }).attempts, 20)
      assert.strictEqual(Schema.decodeUnknownSync(RetryPolicy)({ attempts: 1 }).attempts, 1)
    }))

  it.effect("reports every bad field of the policy at once", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(
        yield* issuesOf({ attempts: 2.5, initialDelayMs: -1, factor: 0.5, maxDelayMs: 0, onExitCodes: ["75"] }),
        [
          `${at}.attempts${named}: Expected an integer, actual 2.5`,
          `${at}.initialDelayMs${named}: must be a non-negative integer (milliseconds)`,
          `${at}.factor${named}: must be at least 1`,
          `${at}.maxDelayMs${named}: must be a positive integer (milliseconds)`,
          `${at}.onExitCodes.0${named}: Expected number, actual "75"`
        ]
      )
    }))

  it.effect("a policy without attempts, or not an object, is rejected", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* issuesOf({ initialDelayMs: 100 }), [`${at}.attempts${named}: is missing`])
      // Not an object: the message names the field, what it expects (not the schema's whole type) and the value.
      assert.deepStrictEqual(yield* issuesOf(3), [`${at}${named}: Expected an object, actual 3`])
    }))
})
