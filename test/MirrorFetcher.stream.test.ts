/**
 * `mirror fetch` keeps memory flat (SPEC MIR-2): an asset's body goes to its file chunk by chunk as
 * it arrives, never whole in memory; a body over the per-asset cap fails that asset and leaves no
 * file; a slow but steady body is not cut off by the idle timeout. In-memory files watched for the
 * largest buffer that passes through them, and an HttpClient answered with streamed bodies.
 */
import { HttpClient, HttpClientError, HttpClientResponse, Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Layer, Ref, Schedule, Stream, TestClock } from "effect"
import { FilesMemory, InMemoryFiles } from "../src/layers/Files.js"
import { MirrorFetcherLive } from "../src/layers/MirrorFetcher.js"
import { OrchestratorConfigTest } from "../src/layers/OrchestratorConfig.js"
import { Files } from "../src/services/Files.js"
import { MirrorFetcher, type MirrorFetchRequest } from "../src/services/MirrorFetcher.js"

const KiB = 1024
const chunkSize = 16 * KiB

type Body = Stream.Stream<Uint8Array, HttpClientError.ResponseError>

interface Reply {
  readonly type: string
  /** The body, or one made for the response (to fail as the response's body would). */
  readonly body: Body | ((response: HttpClientResponse.HttpClientResponse) => Body)
  readonly headers?: Readonly<Record<string, string>>
}

/** A body of `count` chunks of `chunkSize` bytes, each filled with its index. */
const chunks = (count: number): Body => Stream.range(0, count - 1).pipe(Stream.map((index) => new Uint8Array(chunkSize).fill(index % 256)))

/**
 * A response whose body is `body` whether it is read as a stream or whole (`arrayBuffer` collects
 * the same stream, as a whole-body read would).
 */
const streamed = (response: HttpClientResponse.HttpClientResponse, body: Body): HttpClientResponse.HttpClientResponse => {
  const whole = Effect.map(Stream.runCollect(body), (parts) => {
    const all = new Uint8Array(Chunk.reduce(parts, 0, (n, part) => n + part.length))
    let at = 0
    for (const part of parts) {
      all.set(part, at)
      at += part.length
    }
    return all.buffer
  })
  return Object.create(response, { stream: { value: body }, arrayBuffer: { value: whole } }) as HttpClientResponse.HttpClientResponse
}

const replying = (script: Readonly<Record<string, Reply>>, asked: Array<string>) =>
  Layer.succeed(
    HttpClient.HttpClient,
    HttpClient.make((request, url) => {
      asked.push(url.href)
      const reply = script[url.href]
      const web = new Response(reply === undefined ? "" : null, {
        status: reply === undefined ? 404 : 200,
        headers: { "content-type": reply?.type ?? "text/plain", ...reply?.headers }
      })
      const response = HttpClientResponse.fromWeb(request, web)
      if (reply === undefined) return Effect.succeed(response)
      return Effect.succeed(streamed(response, typeof reply.body === "function" ? reply.body(response) : reply.body))
    })
  )

/** Files that remember the largest single buffer written or read through them. */
const watched = (largest: Ref.Ref<number>) =>
  Layer.effect(
    Files,
    Effect.map(Files, (files) => {
      const saw = (size: number) => Ref.update(largest, (n) => Math.max(n, size))
      return Files.of({
        ...files,
        writeBytes: (path, bytes) => Effect.zipRight(saw(bytes.length), files.writeBytes(path, bytes)),
        readAllBytes: (path) => Effect.tap(files.readAllBytes(path), (bytes) => saw(bytes?.length ?? 0)),
        readText: (path) => Effect.tap(files.readText(path), (text) => saw(text?.length ?? 0)),
        writeAtomicStream: (path, fill, options) =>
          files.writeAtomicStream(path, (writer) => fill({ write: (bytes) => Effect.zipRight(saw(bytes.length), writer.write(bytes)) }), options)
      })
    })
  )

const page = `<html><head></head><body><img src="/big.bin"></body></html>`
const config = JSON.stringify({ origin: "https://site.test", routes: ["/"], archiveBaseUrl: "https://archive.test/web/" })

const fetchWith = (script: Readonly<Record<string, Reply>>, request: Partial<MirrorFetchRequest> = {}) => {
  const asked: Array<string> = []
  return Effect.gen(function*() {
    const largest = yield* Ref.make(0)
    const layer = MirrorFetcherLive.pipe(
      Layer.provide(watched(largest)),
      Layer.provideMerge(Layer.mergeAll(replying(script, asked), FilesMemory, OrchestratorConfigTest("/repo"), Path.layer))
    )
    return yield* Effect.gen(function*() {
      const memory = yield* InMemoryFiles
      yield* memory.write("/repo/packages/demo/mirror.config.json", config)
      const fiber = yield* Effect.fork(Effect.flatMap(MirrorFetcher, (fetcher) => fetcher.fetch({ project: "demo", dryRun: false, force: true, ...request })))
      yield* TestClock.adjust("10 minutes")
      const { manifest } = yield* Fiber.join(fiber)
      const raw = yield* Files
      return { manifest, asked, largest: yield* Ref.get(largest), names: yield* memory.list, raw }
    }).pipe(Effect.provide(layer))
  })
}

const html = (text: string): Body => Stream.make(new TextEncoder().encode(text))

describe("MirrorFetcherLive streams asset bodies", () => {
  it.effect("an asset's body reaches its file in pieces as it arrives, never whole in memory", () =>
    Effect.gen(function*() {
      const { largest, manifest, raw } = yield* fetchWith({
        "https://site.test/": { type: "text/html", body: html(page) },
        "https://site.test/big.bin": { type: "application/octet-stream", body: chunks(64) }
      })
      assert.strictEqual(manifest.status, "ok")
      const big = manifest.urls.find((entry) => entry.url === "https://site.test/big.bin")
      assert.deepStrictEqual([big?.outcome, big?.bytes], ["fetched", 64 * chunkSize])
      assert.strictEqual(largest, chunkSize, "no buffer larger than one chunk went through the files")
      const copy = yield* raw.readAllBytes("/repo/packages/demo/public/big.bin")
      assert.strictEqual(copy?.length, 64 * chunkSize)
      assert.deepStrictEqual([copy?.[0], copy?.[chunkSize], copy?.[63 * chunkSize]], [0, 1, 63])
    }))

  it.effect("a body over the cap fails that asset, naming the cap and the flag, leaves no file and asks no archive", () =>
    Effect.gen(function*() {
      const { asked, manifest, names } = yield* fetchWith({
        "https://site.test/": { type: "text/html", body: html(`<html><body><img src="/big.bin"><img src="https://cdn.test/v.mp4"></body></html>`) },
        "https://site.test/big.bin": { type: "application/octet-stream", body: chunks(96) },
        "https://cdn.test/v.mp4": { type: "video/mp4", body: chunks(1), headers: { "content-length": String(5 * 1024 * KiB) } }
      }, { maxAssetMib: 1 })
      assert.strictEqual(manifest.status, "incomplete")
      assert.deepStrictEqual(manifest.errors, [
        "https://cdn.test/v.mp4: declares 5242880 bytes (Content-Length), over the 1 MiB an asset may have " +
        "(--max-asset-mb 1); raise --max-asset-mb to mirror it",
        "https://site.test/big.bin: over the 1 MiB an asset may have (--max-asset-mb 1): stopped at 1064960 bytes; " +
        "raise --max-asset-mb to mirror it"
      ])
      const failed = manifest.urls.filter((entry) => entry.outcome === "failed")
      assert.deepStrictEqual(failed.map((entry) => [entry.attempts, entry.http_status]), [[1, 200], [1, 200]], "not retried")
      assert.notInclude(asked, "https://archive.test/web/https://cdn.test/v.mp4")
      assert.deepStrictEqual(names.filter((name) => name.includes("big") || name.includes("v.mp4") || name.endsWith(".tmp")), [])
      assert.deepStrictEqual(names.filter((name) => name.includes("/cache/")).length, 2, "only the page is cached (.bin and .json)")
    }))

  it.effect("a body that keeps arriving is not cut off after 30 s; one that stalls for 30 s is", () =>
    Effect.gen(function*() {
      const slow = chunks(6).pipe(Stream.schedule(Schedule.spaced("10 seconds")))
      const stalled = Stream.concat(chunks(1), Stream.never)
      const { manifest } = yield* fetchWith({
        "https://site.test/": { type: "text/html", body: html(`<html><body><img src="/slow.bin"><img src="/stalled.bin"></body></html>`) },
        "https://site.test/slow.bin": { type: "application/octet-stream", body: slow },
        "https://site.test/stalled.bin": { type: "application/octet-stream", body: stalled }
      })
      const outcomes = manifest.urls.map((entry) => [entry.url, entry.outcome, entry.bytes, entry.error])
      assert.deepStrictEqual(outcomes, [
        ["https://site.test/", "fetched", 84, null],
        ["https://site.test/slow.bin", "fetched", 6 * chunkSize, null],
        ["https://site.test/stalled.bin", "failed", 0, "no data for 30s"]
      ])
    }))

  it.effect("a connection dropped mid-body says why (the client's own words only said 'Decode error')", () =>
    Effect.gen(function*() {
      const dropped = (response: HttpClientResponse.HttpClientResponse): Body =>
        Stream.concat(
          chunks(1),
          Stream.fail(new HttpClientError.ResponseError({ request: response.request, response, reason: "Decode", cause: new Error("terminated", { cause: new Error("other side closed") }) }))
        )
      const { manifest } = yield* fetchWith({
        "https://site.test/": { type: "text/html", body: html(page) },
        "https://site.test/big.bin": { type: "application/octet-stream", body: dropped }
      })
      assert.deepStrictEqual(manifest.errors, [
        "https://site.test/big.bin: Decode error (200 GET https://site.test/big.bin): terminated: other side closed"
      ])
    }))
})
