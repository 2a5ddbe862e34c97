/**
 * `mirror fetch` of a large asset (SPEC MIR-2): the built CLI streams a 200 MiB body to disk with
 * flat memory (its peak resident set, VmHWM, stays under 250 MB; holding the body whole took a
 * 300 MB asset to ~985 MB), and an asset over `--max-asset-mb` fails by name with the cap and the
 * flag, in valid JSON, with no file left of it.
 */
import { existsSync, readdirSync, statSync } from "node:fs"
import { createServer, type Server } from "node:http"
import { join } from "node:path"
import { afterEach, assert, beforeAll, beforeEach, describe, it } from "vitest"
import { asArray, asObject, describeResult, makeTempRepo, requireBuiltCli, runCli, type TempRepo } from "../support/cli.js"
import { writeMirrorConfig } from "../support/mirrorFixture.js"

const MiB = 1024 * 1024

/** Serves `/` (a page with one video) and `/big.bin`, `size` bytes written a MiB at a time as the socket drains. */
const startServer = (size: number): Promise<{ readonly server: Server; readonly baseUrl: string }> =>
  new Promise((resolvePromise) => {
    const piece = new Uint8Array(MiB).fill(7)
    const server = createServer((req, res) => {
      if (req.url === "/") {
        res.writeHead(200, { "content-type": "text/html" })
        res.end(`<html><body><video src="/big.bin"></video></body></html>`)
        return
      }
      if (req.url !== "/big.bin") {
        res.writeHead(404)
        res.end()
        return
      }
      res.writeHead(200, { "content-type": "application/octet-stream" })
      let sent = 0
      const more = () => {
        while (sent < size) {
          const next = piece.subarray(0, Math.min(MiB, size - sent))
          sent += next.length
          if (!res.write(next)) {
            res.once("drain", more)
            return
          }
        }
        res.end()
      }
      more()
    })
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      resolvePromise({ server, baseUrl: `http://127.0.0.1:${port}` })
    })
  })

let repo: TempRepo
let server: Server | undefined

beforeAll(requireBuiltCli)
beforeEach(() => {
  repo = makeTempRepo()
})
afterEach(async () => {
  if (server !== undefined) {
    server.closeAllConnections()
    await new Promise((done) => server?.close(done))
  }
  server = undefined
  repo.cleanup()
})

const fetchLarge = async (size: number, args: ReadonlyArray<string> = []) => {
  const started = await startServer(size)
  server = started.server
  writeMirrorConfig(repo.dir, "demo", { origin: started.baseUrl, routes: ["/"] })
  return runCli(["mirror", "fetch", "--project", "demo", "--format", "json", ...args], {
    cwd: repo.dir,
    env: { MCP_RUNNER_TASK_ID: "mirror-task" },
    sampleMemory: true
  })
}

describe("mirror fetch of a large asset", () => {
  it("streams a 200 MiB asset to disk with flat memory (peak RSS under 250 MB)", async () => {
    const result = await fetchLarge(200 * MiB)
    assert.strictEqual(result.code, 0, describeResult(result))
    assert.strictEqual(statSync(repo.path("packages", "demo", "public", "big.bin")).size, 200 * MiB)
    const peak = result.peakRssKiB ?? Number.POSITIVE_INFINITY
    console.log(`mirror fetch of 200 MiB: peak RSS ${Math.round(peak / 1024)} MiB`)
    assert.isBelow(peak * 1024, 250 * 1000 * 1000, `peak RSS ${peak} KiB`)
  }, 120_000)

  it("an asset over --max-asset-mb fails by its URL with the cap and the flag (exit 1, JSON on stdout), leaving no file", async () => {
    const result = await fetchLarge(3 * MiB, ["--max-asset-mb", "2"])
    assert.strictEqual(result.code, 1, describeResult(result))
    const output = asObject(JSON.parse(result.stdout), "stdout")
    const errors = asArray(output["errors"], "errors")
    assert.strictEqual(errors.length, 1, describeResult(result))
    assert.match(
      String(errors[0]),
      /^http:\/\/127\.0\.0\.1:\d+\/big\.bin: over the 2 MiB an asset may have \(--max-asset-mb 2\): stopped at \d+ bytes; raise --max-asset-mb to mirror it$/
    )
    const cache = repo.path(".runs", "mirror-task", "mirror", "demo", "cache")
    assert.deepStrictEqual(readdirSync(cache).filter((name) => name.endsWith(".tmp")), [])
    assert.strictEqual(readdirSync(cache).length, 2, "only the page is cached")
    assert.isFalse(existsSync(join(repo.dir, "packages", "demo", "public")))
  }, 60_000)
})
