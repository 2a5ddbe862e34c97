/**
 * Notifications (SPEC EXEC-4, DECISIONS B-6) on the in-memory HttpClient and the TestClock: the
 * summary is POSTed as JSON, a server error or a refused connection is retried after 0.5 s, 1 s and
 * 2 s, a client error is not, and what never arrived is reported, not raised.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Logger, Option, Ref, TestClock } from "effect"
import { resolveTargets } from "../src/domain/Notify.js"
import { noNotifications, type RunSummaryEvent } from "../src/domain/RunSummaryEvent.js"
import { type HandledRequest, HttpClientMemory, type HandlerReply } from "../src/layers/HttpClientMemory.js"
import { NotifierLive } from "../src/layers/Notifier.js"
import { Notifier } from "../src/services/Notifier.js"

const event: RunSummaryEvent = {
  type: "run:summary",
  timestamp: "1970-01-01T00:00:00.000Z",
  payload: {
    status: "succeeded",
    run: { id: "r1", taskId: "t", pipelineId: "exec", manifest: "m.json", artifactRoot: "a", summary: null },
    stages: [],
    logs: { runner: "runner.ndjson" },
    notifications: { ...noNotifications, targets: ["http://a.test/hook"] }
  }
}

/** A Notifier whose server answers each URL from its script, in order (the last answer repeats); requests are recorded with the TestClock's time. */
const scripted = (script: Readonly<Record<string, ReadonlyArray<HandlerReply>>>) =>
  Effect.gen(function*() {
    const seen = yield* Ref.make<ReadonlyArray<{ readonly at: number; readonly request: HandledRequest }>>([])
    const handler = (request: HandledRequest) =>
      Effect.gen(function*() {
        const at = yield* TestClock.currentTimeMillis
        const before = (yield* Ref.get(seen)).filter((r) => r.request.url === request.url).length
        yield* Ref.update(seen, (all) => [...all, { at, request }])
        const replies = script[request.url] ?? [{ status: 404 }]
        return replies[Math.min(before, replies.length - 1)] ?? { status: 404 }
      })
    return { seen, client: HttpClientMemory(handler) }
  })

const deliverWith = (script: Readonly<Record<string, ReadonlyArray<HandlerReply>>>, targets: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const { client, seen } = yield* scripted(script)
    const fiber = yield* Effect.fork(Effect.flatMap(Notifier, (n) => n.deliver(targets, event)).pipe(Effect.provide(NotifierLive), Effect.provide(client)))
    yield* TestClock.adjust("1 minute")
    const polled = yield* Fiber.poll(fiber)
    assert.isTrue(Option.isSome(polled), "delivery finished")
    return { report: yield* Fiber.join(fiber), seen: yield* Ref.get(seen) }
  })

describe("Notifier", () => {
  it.effect("POSTs the summary as JSON to each target; a 500 is retried after 0.5 s and then delivered", () =>
    Effect.gen(function*() {
      const { report, seen } = yield* deliverWith(
        { "http://a.test/hook": [{ status: 200 }], "http://b.test/hook": [{ status: 500 }, { status: 204 }] },
        ["http://a.test/hook", "http://b.test/hook"]
      )
      assert.deepStrictEqual(report, { targets: ["http://a.test/hook", "http://b.test/hook"], delivered: ["http://a.test/hook", "http://b.test/hook"], failures: [] })
      const toB = seen.filter((r) => r.request.url === "http://b.test/hook")
      assert.deepStrictEqual(toB.map((r) => r.at), [0, 500])
      assert.strictEqual(seen[0]?.request.method, "POST")
      assert.strictEqual(seen[0]?.request.headers["content-type"], "application/json")
      assert.deepStrictEqual(seen[0]?.request.body, event)
    }))

  it.effect("a target that keeps failing gets 4 attempts (0.5, 1 and 2 s apart), then is reported; a refused connection too", () =>
    Effect.gen(function*() {
      const { report, seen } = yield* deliverWith(
        { "http://down.test/": [{ status: 503 }], "http://gone.test/": [{ transportError: "connection refused" }] },
        ["http://down.test/", "http://gone.test/"]
      )
      assert.deepStrictEqual(report.delivered, [])
      assert.deepStrictEqual(report.failures.map((f) => [f.target, f.attempts]), [["http://down.test/", 4], ["http://gone.test/", 4]])
      assert.strictEqual(report.failures[0]?.error, "HTTP 503")
      assert.include(report.failures[1]?.error, "connection refused")
      assert.deepStrictEqual(seen.filter((r) => r.request.url === "http://down.test/").map((r) => r.at), [0, 500, 1500, 3500])
    }))

  it.effect("says on stderr (the log) when an attempt failed and when the next one comes, so a slow target is not silence", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const collect = Logger.make(({ logLevel, message }) => void lines.push(`${logLevel.label} ${String(message)}`))
      yield* deliverWith({ "http://down.test/": [{ status: 503 }] }, ["http://down.test/"]).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, collect))
      )
      assert.deepStrictEqual(lines, [
        "INFO Run summary to http://down.test/: attempt 1 of 4 failed (HTTP 503); next in 0.5 s",
        "INFO Run summary to http://down.test/: attempt 2 of 4 failed (HTTP 503); next in 1 s",
        "INFO Run summary to http://down.test/: attempt 3 of 4 failed (HTTP 503); next in 2 s",
        "WARN Could not deliver the run summary to http://down.test/ (HTTP 503, 4 attempt(s)); the run is not affected."
      ])
    }))

  it.effect("a token in a target's query is not written to the log; the report keeps the target as given", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const collect = Logger.make(({ message }) => void lines.push(String(message)))
      const target = "http://down.test/hook?token=s3cret"
      const { report } = yield* deliverWith({ [target]: [{ status: 503 }] }, [target]).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, collect))
      )
      assert.strictEqual(lines.length, 4)
      for (const line of lines) assert.include(line, "http://down.test/hook?token=***")
      assert.notInclude(lines.join("\n"), "s3cret")
      assert.deepStrictEqual(report.failures.map((f) => f.target), [target])
      // A transport error's message names the URL it was posting to: hidden there too.
      lines.length = 0
      const refused = "http://gone.test/hook?token=s3cret"
      yield* deliverWith({ [refused]: [{ transportError: "connection refused" }] }, [refused]).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, collect))
      )
      assert.strictEqual(lines.length, 4)
      assert.notInclude(lines.join("\n"), "s3cret")
    }))

  it.effect("a client error (404) is not retried", () =>
    Effect.gen(function*() {
      const { report, seen } = yield* deliverWith({}, ["http://a.test/missing"])
      assert.deepStrictEqual(report.failures, [{ target: "http://a.test/missing", error: "HTTP 404", attempts: 1 }])
      assert.strictEqual(seen.length, 1)
    }))
})

describe("resolveTargets", () => {
  it("takes the first source that names a target, splits comma lists and drops repeats", () => {
    assert.deepStrictEqual(resolveTargets(["http://a/, http://b/", "http://a/"], ["http://env/"], ["http://cfg/"]), ["http://a/", "http://b/"])
    assert.deepStrictEqual(resolveTargets([], ["http://env/,http://env/"], ["http://cfg/"]), ["http://env/"])
    assert.deepStrictEqual(resolveTargets([], [], ["http://cfg/"]), ["http://cfg/"])
    assert.deepStrictEqual(resolveTargets([" , "], [], []), [])
  })
})
