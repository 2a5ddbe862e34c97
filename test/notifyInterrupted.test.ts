/**
 * Ctrl-C while the summary of a finished run is being delivered to a target that never answers
 * (each attempt waits 10 s): the summary is still printed, its targets reported as not delivered,
 * before exit 130. Before, the command printed nothing on stdout: the run's result was lost.
 */
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Ref } from "effect"
import { withDeliveredSummary } from "../src/cli/notify.js"
import type { RunSummaryEvent } from "../src/domain/RunSummaryEvent.js"
import { runManifest } from "./support/manifests.js"

/** A server that takes requests and never answers; `arrived` resolves on the first. */
const silentServer = Effect.acquireRelease(
  Effect.gen(function*() {
    const arrived = yield* Deferred.make<void>()
    const server = createServer(() => Effect.runSync(Deferred.succeed(arrived, undefined)))
    yield* Effect.async<void>((resume) => void server.listen(0, "127.0.0.1", () => resume(Effect.void)))
    return { arrived, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` }
  }),
  ({ server }) => Effect.sync(() => server.closeAllConnections()).pipe(Effect.zipRight(Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))))
)

describe("--notify interrupted", () => {
  it.live("Ctrl-C during delivery still prints the summary, the target reported as not delivered", () =>
    Effect.scoped(Effect.gen(function*() {
      const { arrived, url } = yield* silentServer
      const printed = yield* Ref.make<ReadonlyArray<RunSummaryEvent>>([])
      const manifest = runManifest([], { status: "succeeded", completed_at: "2026-01-01T00:00:01.000Z" })
      const fiber = yield* Effect.fork(withDeliveredSummary(manifest, [url], undefined, (summary) => Ref.update(printed, (all) => [...all, summary])))
      yield* Deferred.await(arrived)
      yield* Fiber.interrupt(fiber)
      const [summary, ...more] = yield* Ref.get(printed)
      assert.strictEqual(more.length, 0)
      assert.strictEqual(summary?.payload.status, "succeeded")
      assert.deepStrictEqual(summary?.payload.notifications?.delivered, [])
      assert.deepStrictEqual(summary?.payload.notifications?.failures.map((f) => f.target), [url])
      assert.include(summary?.payload.notifications?.failures[0]?.error, "interrupted")
    })))
})
