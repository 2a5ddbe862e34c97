/**
 * MirrorFetcherLive in memory (SPEC MIR-2, MIR-3): an HttpClient answered by a function, in-memory
 * files and TestClock for the retries' backoff, so the attempts and their spacing are exact.
 */
import { HttpClient, HttpClientError, HttpClientResponse, Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Deferred, Effect, Fiber, Layer, TestClock } from "effect"
import { FilesMemory, InMemoryFiles } from "../src/layers/Files.js"
import { MirrorFetcherLive } from "../src/layers/MirrorFetcher.js"
import { OrchestratorConfigTest } from "../src/layers/OrchestratorConfig.js"
import { Files } from "../src/services/Files.js"
import { MirrorFetcher } from "../src/services/MirrorFetcher.js"

type Reply = { readonly status: number; readonly body?: string; readonly type?: string; readonly location?: string } | "refused"

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
            new Response(reply.body ?? "", {
              status: reply.status,
              headers: { "content-type": reply.type ?? "text/html", ...(reply.location === undefined ? {} : { location: reply.location }) }
            })
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
  it.effect("a config field of the wrong type names the file, the field, what was found, what is expected and the fix", () => {
    const { layer } = setup({})
    return Effect.gen(function*() {
      yield* (yield* InMemoryFiles).write("/repo/packages/demo/mirror.config.json", JSON.stringify({ origin: "https://site.test", routes: "x" }))
      const error = yield* Effect.flip((yield* MirrorFetcher).fetch({ project: "demo", dryRun: true, force: false }))
      assert.strictEqual(
        error.message,
        `packages/demo/mirror.config.json is not valid: routes: Expected an array of strings, actual "x". ` +
          `Fix the fields listed; the least a mirror needs is {"origin": "https://example.com", "routes": ["/"]}.`
      )
    }).pipe(Effect.provide(layer))
  })

  it.effect("a --config file that does not exist is named with a fix that does not ask for --config again", () => {
    const { layer } = setup({})
    return Effect.gen(function*() {
      const error = yield* Effect.flip((yield* MirrorFetcher).fetch({ project: "demo", configPath: "/elsewhere/none.json", dryRun: true, force: false }))
      assert.strictEqual(
        error.message,
        `/elsewhere/none.json is not valid: the file does not exist. ` +
          `Create it with at least {"origin": "https://example.com", "routes": ["/"]}, or give --config a file that exists.`
      )
      const missing = yield* Effect.flip((yield* MirrorFetcher).fetch({ project: "demo", dryRun: true, force: false }))
      assert.strictEqual(
        missing.message,
        `packages/demo/mirror.config.json is not valid: the file does not exist. ` +
          `Create it with at least {"origin": "https://example.com", "routes": ["/"]}, or pass --config <file>.`
      )
    }).pipe(Effect.provide(layer))
  })

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

  it.effect("a page that redirects (/about to /about/) has its relative URLs resolved where it was answered, fetched or cached", () => {
    const { layer } = setup({
      "https://site.test/about": [{ status: 301, location: "/about/" }],
      "https://site.test/about/": [{ status: 200, body: `<html><body><img src="pic.png"></body></html>` }],
      "https://site.test/about/pic.png": [{ status: 200, body: "P", type: "image/png" }]
    })
    return Effect.gen(function*() {
      const memory = yield* InMemoryFiles
      yield* memory.write("/repo/packages/demo/mirror.config.json", JSON.stringify({ origin: "https://site.test", routes: ["/about"] }))
      for (const outcome of ["fetched", "cached"]) {
        const fiber = yield* Effect.fork((yield* MirrorFetcher).fetch({ project: "demo", dryRun: false, force: false }))
        yield* TestClock.adjust("1 minute")
        const { manifest } = yield* Fiber.join(fiber)
        assert.deepStrictEqual(manifest.errors, [], outcome)
        assert.deepStrictEqual(manifest.urls.map((entry) => [entry.url, entry.outcome]), [
          ["https://site.test/about", outcome],
          ["https://site.test/about/pic.png", outcome]
        ])
        assert.include((yield* memory.read("/repo/packages/demo/public/about/index.html")) ?? "", `<img src="/about/pic.png">`)
        assert.strictEqual(yield* memory.read("/repo/packages/demo/public/about/pic.png"), "P")
      }
    }).pipe(Effect.provide(layer))
  })

  it.effect("a redirect loop fails its URL after 10 redirects instead of staging an empty page", () => {
    const { http, layer } = setup({ "https://site.test/": [{ status: 302, location: "/" }] })
    return Effect.gen(function*() {
      const { manifest } = yield* run(false)
      assert.deepStrictEqual(manifest.errors, ["https://site.test/: HTTP 302: still a redirect after 10"])
      assert.strictEqual(http.asked.length, 11)
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

  it.effect("Ctrl-C while pages download leaves no half-staged fetch folder; the cache keeps what arrived", () => {
    const http = scriptedHttp({
      "https://site.test/": [{ status: 200, body: page }],
      "https://site.test/b.png": [{ status: 200, body: "B", type: "image/png" }]
    })
    // cdn.test never answers (its 30 s timeout is TestClock's): the fetch is still crawling when interrupted.
    const hanging = Layer.effect(
      HttpClient.HttpClient,
      Effect.map(HttpClient.HttpClient, (client) =>
        HttpClient.make((request, url) => url.host === "cdn.test" ? Effect.never : client.execute(request)))
    )
    return Effect.gen(function*() {
      const memory = yield* InMemoryFiles
      yield* memory.write("/repo/packages/demo/mirror.config.json", config)
      const fiber = yield* Effect.fork(Effect.flatMap(MirrorFetcher, (fetcher) => fetcher.fetch({ project: "demo", dryRun: false, force: false })))
      yield* TestClock.adjust("1 second")
      const before = yield* memory.list
      assert.isTrue(before.some((name) => name.includes("/staging/public/")), "the crawl had staged a page")
      yield* Fiber.interrupt(fiber)
      const after = yield* memory.list
      assert.deepStrictEqual(after.filter((name) => name.includes("/mirror/demo/") && !name.includes("/mirror/demo/cache/")), [])
      assert.isTrue(after.some((name) => name.includes("/mirror/demo/cache/")), "the cache keeps what arrived")
    }).pipe(Effect.provide(MirrorFetcherLive.pipe(
      Layer.provide(hanging.pipe(Layer.provide(http.layer))),
      Layer.provideMerge(Layer.mergeAll(FilesMemory, OrchestratorConfigTest("/repo"), Path.layer))
    )))
  })

  it.effect("Ctrl-C while public/ is replaced leaves the old or the new copy whole, and nothing beside it", () => {
    const http = scriptedHttp({
      "https://site.test/": [{ status: 200, body: page }],
      "https://site.test/b.png": [{ status: 200, body: "B", type: "image/png" }],
      "https://cdn.test/a.png": [{ status: 200, body: "A", type: "image/png" }]
    })
    const demo = "/repo/packages/demo"
    return Effect.gen(function*() {
      const memory = yield* InMemoryFiles
      const removing = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      // A removal under the project goes one file at a time, as rm does, and halts after the first
      // file until the test has interrupted the fetch: the Ctrl-C lands in the middle of it.
      const slowRemoval = Layer.effect(
        Files,
        Effect.map(Files, (files) => ({
          ...files,
          removeTree: (target: string) =>
            Effect.gen(function*() {
              const inside = (yield* memory.list).filter((name) => name.startsWith(`${target}/`))
              if (!target.startsWith(`${demo}/`) || inside.length === 0) return yield* files.removeTree(target)
              for (const [index, name] of inside.entries()) {
                yield* files.remove(name)
                if (index === 0) yield* Effect.zipRight(Deferred.succeed(removing, undefined), Deferred.await(release))
              }
              yield* files.removeTree(target)
            })
        }))
      )
      const layer = MirrorFetcherLive.pipe(
        Layer.provide(slowRemoval),
        Layer.provideMerge(Layer.mergeAll(http.layer, OrchestratorConfigTest("/repo"), Path.layer))
      )
      yield* memory.write(`${demo}/mirror.config.json`, config)
      yield* memory.write(`${demo}/public/index.html`, "old")
      yield* memory.write(`${demo}/public/old.css`, "old")
      yield* memory.write(`${demo}/public/old.js`, "old")
      const fetch = Effect.flatMap(MirrorFetcher, (fetcher) => fetcher.fetch({ project: "demo", dryRun: false, force: false }))
      const fiber = yield* Effect.fork(Effect.provide(fetch, layer))
      yield* TestClock.adjust("1 minute")
      yield* Deferred.await(removing)
      const interrupted = yield* Effect.fork(Fiber.interrupt(fiber))
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(interrupted)
      const left = (yield* memory.list).filter((name) => name.startsWith(`${demo}/`)).map((name) => name.slice(demo.length + 1))
      const oldCopy = ["mirror.config.json", "public/index.html", "public/old.css", "public/old.js"]
      const newCopy = ["mirror.config.json", "public/b.png", "public/external/cdn.test/a.png", "public/index.html"]
      assert.include([JSON.stringify(oldCopy), JSON.stringify(newCopy)], JSON.stringify(left))
    }).pipe(Effect.provide(Layer.mergeAll(FilesMemory, Path.layer)))
  })
})
