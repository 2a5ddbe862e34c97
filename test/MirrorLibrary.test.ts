/**
 * The mirror tools through the package's public namespaces (`Mirror`, `App`), as an embedder uses
 * them: a fetch from a loopback origin into a real temporary repository, then the fetched copy served
 * by `Mirror.MirrorServerLayer` and read back over HTTP.
 */
import { createServer, type Server } from "node:http"
import { mkdtempSync, readFileSync, rmSync, mkdirSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeContext } from "@effect/platform-node"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { App, Mirror } from "../src/index.js"

let origin: Server
let originUrl = ""
let repo = ""

beforeAll(async () => {
  origin = createServer((req, res) => {
    if (req.url === "/") {
      res.writeHead(200, { "content-type": "text/html" })
      res.end(`<!doctype html><html><head><script src="https://www.googletagmanager.com/gtm.js"></script></head>` +
        `<body><a href="${originUrl}/about">About</a><img src="/logo.png"></body></html>`)
    } else if (req.url === "/about") {
      res.writeHead(200, { "content-type": "text/html" })
      res.end("<!doctype html><html><body>about us</body></html>")
    } else if (req.url === "/logo.png") {
      res.writeHead(200, { "content-type": "image/png" })
      res.end(Buffer.from([137, 80, 78, 71]))
    } else {
      res.writeHead(404)
      res.end()
    }
  })
  await new Promise<void>((ready) => origin.listen(0, "127.0.0.1", ready))
  const address = origin.address()
  originUrl = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`
  repo = mkdtempSync(join(tmpdir(), "mirror-library-"))
  mkdirSync(join(repo, "packages", "demo"), { recursive: true })
  writeFileSync(join(repo, "packages", "demo", "mirror.config.json"), JSON.stringify({ origin: originUrl, routes: ["/", "/about"] }))
})

afterAll(() => {
  origin.close()
  rmSync(repo, { recursive: true, force: true })
})

const layer = () =>
  Mirror.MirrorToolsLayer.pipe(
    Layer.provideMerge(App.makeAppBaseLayer({ repoRoot: repo })),
    Layer.provideMerge(NodeContext.layer)
  )

describe("Mirror (public namespace)", () => {
  it.live("fetches a site into packages/<project>/public and serves it", () =>
    Effect.gen(function*() {
      const fetched = yield* (yield* Mirror.MirrorFetcher).fetch({ project: "demo", dryRun: false, force: false })
      assert.strictEqual(fetched.manifest.status, "ok")
      assert.strictEqual(fetched.manifest.promotion, "promoted")
      assert.deepStrictEqual(fetched.manifest.totals.failed, 0)
      const home = readFileSync(join(repo, "packages", "demo", "public", "index.html"), "utf8")
      assert.notInclude(home, "googletagmanager")
      assert.notInclude(home, originUrl)
      const manifest = JSON.parse(readFileSync(join(repo, fetched.manifestPath), "utf8")) as { readonly status: string }
      assert.strictEqual(manifest.status, "ok")

      const serving = yield* (yield* Mirror.MirrorServer).start({ project: "demo", host: "127.0.0.1", port: 0, csp: "self", range: true, logRequests: false })
      const response = yield* Effect.promise(() => fetch(`${serving.url}/about`))
      assert.strictEqual(response.status, 200)
      assert.include(yield* Effect.promise(() => response.text()), "about us")
      assert.strictEqual(response.headers.get("cache-control"), "no-cache")
      const logo = yield* Effect.promise(() => fetch(`${serving.url}/logo.png`))
      assert.strictEqual(logo.status, 200)
      assert.include(logo.headers.get("cache-control") ?? "", "immutable")
    }).pipe(Effect.scoped, Effect.provide(layer())), 30_000)
})
