/**
 * MirrorFetcherLive in memory (SPEC MIR-2, MIR-3): an HttpClient answered by a function, in-memory
 * files and TestClock for the retries' backoff, so the attempts and their spacing are exact.
 */
import { HttpClient, HttpClientError, HttpClientResponse, Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Fiber, Layer, TestClock } from "effect"
import { FilesMemory, InMemoryFiles } from "../src/layers/Files.js"
import { MirrorFetcherLive } from "../src/layers/MirrorFetcher.js"
import { OrchestratorConfigTest } from "../src/layers/OrchestratorConfig.js"
import { MirrorFetcher } from "../src/services/MirrorFetcher.js"

type Reply = { readonly status: number; readonly body?: string; readonly type?: string } | "refused"

/** Answers each URL from `script` (a list played in order, the last repeating) and logs when it was asked. */
const scriptedHttp = (script: Readonly<Record<string, ReadonlyArray<Reply>>>) => {
  const asked: Array<{ readonly url: string; readonly at: number }> = []
  const layer = Layer.succeed(
    HttpClient.HttpClient,
    HttpClient.make((request, url) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) => {
        const href = url.toString()
        const earlier = asked.filter((entry) => entry.url === href).length
        asked.push({ url: href, at })
        const replies = script[href] ?? [{ status: 404 }]
        const reply = replies[Math.min(earlier, replies.length - 1)] ?? { status: 404 }
        return reply === "refused"
          ? Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause: new Error("ECONNREFUSED") }))
          : Effect.succeed(HttpClientResponse.fromWeb(
            request,
            new Response(reply.body ?? "", { status: reply.status, headers: { "content-type": reply.type ?? "text/html" } })
          ))
      })
    )
  )
  return { asked, layer }
}

const config = JSON.stringify({ origin: "https://site.test", routes: ["/"], archiveBaseUrl: "https://archive.test/web/" })
const page = `<html><head></head><body><img src="https://cdn.test/a.png"><img src="/b.png"></body></html>`

const setup = (script: Readonly<Record<string, ReadonlyArray<Reply>>>) => {
  const http = scriptedHttp(script)
  const layer = MirrorFetcherLive.pipe(
    Layer.provideMerge(Layer.mergeAll(http.layer, FilesMemory, OrchestratorConfigTest("/repo"), Path.layer))
  )
  return { http, layer }
}

const run = (dryRun: boolean) =>
  Effect.gen(function*() {
    yield* (yield* InMemoryFiles).write("/repo/packages/demo/mirror.config.json", config)
    const fiber = yield* Effect.fork((yield* MirrorFetcher).fetch({ project: "demo", dryRun, force: false }))
    yield* TestClock.adjust("1 minute")
    return yield* Fiber.join(fiber)
  })

describe("MirrorFetcherLive", () => {
  it.effect("retries with exponential backoff, then asks the archive for another host's asset", () => {
    const { http, layer } = setup({
      "https://site.test/": [{ status: 200, body: page }],
      "https://site.test/b.png": [{ status: 503 }, { status: 200, body: "B", type: "image/png" }],
      "https://cdn.test/a.png": ["refused"],
      "https://archive.test/web/https://cdn.test/a.png": [{ status: 200, body: "A", type: "image/png" }]
    })
    return Effect.gen(function*() {
      const { manifest } = yield* run(false)
      assert.strictEqual(manifest.status, "ok")
      const cdn = http.asked.filter((entry) => entry.url === "https://cdn.test/a.png").map((entry) => entry.at)
      assert.deepStrictEqual(cdn.map((at) => at - (cdn[0] ?? 0)), [0, 250, 750])
      const a = manifest.urls.find((entry) => entry.url === "https://cdn.test/a.png")
      assert.deepStrictEqual([a?.outcome, a?.attempts, a?.path], ["archived", 4, "external/cdn.test/a.png"])
      assert.deepStrictEqual(manifest.urls.find((entry) => entry.url === "https://site.test/b.png")?.attempts, 2)
      const files = yield* InMemoryFiles
      assert.strictEqual(yield* files.read("/repo/packages/demo/public/external/cdn.test/a.png"), "A")
      assert.include(
        (yield* files.read("/repo/packages/demo/public/index.html")) ?? "",
        `<img src="/external/cdn.test/a.png"><img src="/b.png">`
      )
    }).pipe(Effect.provide(layer))
  })

  it.effect("a 404 on the origin is not retried, fails the URL and blocks promotion", () => {
    const { http, layer } = setup({
      "https://site.test/": [{ status: 200, body: page }],
      "https://cdn.test/a.png": [{ status: 200, body: "A", type: "image/png" }]
    })
    return Effect.gen(function*() {
      const { manifest } = yield* run(false)
      assert.strictEqual(manifest.status, "incomplete")
      assert.strictEqual(manifest.promotion, "skipped")
      assert.strictEqual(http.asked.filter((entry) => entry.url === "https://site.test/b.png").length, 1)
      assert.isFalse((yield* (yield* InMemoryFiles).list).some((name) => name.startsWith("/repo/packages/demo/public/")))
    }).pipe(Effect.provide(layer))
  })
})
