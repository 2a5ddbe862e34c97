/**
 * `mirror serve` through the built CLI (SPEC MIR-4): a real server process on a free loopback port,
 * asked with raw HTTP requests (node:http sends paths exactly as written, `..` and `%2e` included).
 */
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs"
import { request } from "node:http"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { type BackgroundCli, describeResult, makeTempRepo, requireBuiltCli, spawnCli, type TempRepo, waitFor } from "../support/cli.js"
import { binary } from "../support/mirrorFixture.js"

interface Answer {
  readonly status: number
  readonly headers: Record<string, string | Array<string> | undefined>
  readonly body: Buffer
}

const ask = (base: string, path: string, options: { readonly method?: string; readonly headers?: Record<string, string> } = {}) =>
  new Promise<Answer>((resolvePromise, reject) => {
    const url = new URL(base)
    const req = request({ host: url.hostname, port: url.port, path, method: options.method ?? "GET", headers: options.headers ?? {} }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (chunk: Buffer) => chunks.push(chunk))
      res.on("end", () => resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
    })
    req.on("error", reject)
    req.end()
  })

let repo: TempRepo
const servers: Array<BackgroundCli> = []

/** Starts `mirror serve --port 0 <args>` and returns its address once it prints it. */
const serve = async (args: ReadonlyArray<string> = []): Promise<string> => {
  const server = spawnCli(["mirror", "serve", "--project", "demo", "--port", "0", ...args], { cwd: repo.dir })
  servers.push(server)
  let stdout = ""
  server.child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
  return waitFor("the server's address", () => /at (http:\/\/[^\s]+)\/\n/.exec(stdout)?.[1])
}

let base = ""
const logo = binary(1)

beforeAll(async () => {
  requireBuiltCli()
  repo = makeTempRepo()
  const pub = repo.path("packages", "demo", "public")
  mkdirSync(`${pub}/about`, { recursive: true })
  mkdirSync(`${pub}/images`, { recursive: true })
  writeFileSync(`${pub}/index.html`, "<!doctype html><title>home</title>")
  writeFileSync(`${pub}/about/index.html`, "<!doctype html><title>about</title>")
  writeFileSync(`${pub}/images/logo.png`, logo)
  writeFileSync(repo.path("packages", "demo", "secret.txt"), "secret")
  symlinkSync("../secret.txt", `${pub}/leak.txt`)
  symlinkSync("..", `${pub}/up`)
  symlinkSync("images/logo.png", `${pub}/inside.png`)
  symlinkSync("loop", `${pub}/loop`)
  base = await serve()
})

afterAll(async () => {
  for (const server of servers) server.kill("SIGTERM")
  await Promise.all(servers.map((server) => server.exited))
  repo.cleanup()
})

describe("mirror serve", () => {
  it("binds to 127.0.0.1 and serves pages (index fallback, no-cache, CSP) and assets (immutable, ranges advertised)", async () => {
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/)
    for (const path of ["/", "/about", "/about/", "/about/?x=1"]) {
      const page = await ask(base, path)
      assert.strictEqual(page.status, 200, path)
      assert.strictEqual(page.headers["content-type"], "text/html; charset=utf-8")
      assert.strictEqual(page.headers["cache-control"], "no-cache")
      assert.include(String(page.headers["content-security-policy"]), "default-src 'self'")
    }
    assert.strictEqual((await ask(base, "/about")).body.toString(), "<!doctype html><title>about</title>")
    const image = await ask(base, "/images/logo.png")
    assert.strictEqual(image.status, 200)
    assert.deepStrictEqual(new Uint8Array(image.body), logo)
    assert.strictEqual(image.headers["cache-control"], "public, max-age=31536000, immutable")
    assert.strictEqual(image.headers["content-type"], "image/png")
    assert.strictEqual(image.headers["accept-ranges"], "bytes")
    assert.isUndefined(image.headers["content-security-policy"])
    assert.strictEqual((await ask(base, "/inside.png")).status, 200)
  })

  it("answers HEAD without a body, refuses other methods with 405, missing files and folders without index with 404", async () => {
    const head = await ask(base, "/images/logo.png", { method: "HEAD" })
    assert.strictEqual(head.status, 200)
    assert.strictEqual(head.headers["content-length"], "64")
    assert.strictEqual(head.body.length, 0)
    for (const method of ["POST", "PUT", "DELETE"]) {
      const refused = await ask(base, "/", { method })
      assert.strictEqual(refused.status, 405, method)
      assert.strictEqual(refused.headers["allow"], "GET, HEAD")
    }
    assert.strictEqual((await ask(base, "/missing.png")).status, 404)
    assert.strictEqual((await ask(base, "/images/")).status, 404)
    assert.strictEqual((await ask(base, "/images")).status, 404)
    // Names no file can have: a symbolic link to itself, a name over 255 bytes (not a server error).
    for (const path of ["/loop", "/loop/x.png", `/${"a".repeat(300)}`, `/${"a".repeat(300)}.png`]) {
      assert.strictEqual((await ask(base, path)).status, 404, path)
    }
  })

  it("refuses traversal in every spelling, NUL bytes and symlinks leading out of the folder with 403", async () => {
    for (const path of ["/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt", "/images/..%2f..%2fsecret.txt", "/..%5csecret.txt", "/a%00.html", "/leak.txt", "/up/secret.txt"]) {
      const answer = await ask(base, path)
      assert.strictEqual(answer.status, 403, path)
      assert.notInclude(answer.body.toString(), "secret", path)
    }
  })

  it("answers byte ranges with 206 and unsatisfiable ones with 416", async () => {
    const part = await ask(base, "/images/logo.png", { headers: { range: "bytes=10-19" } })
    assert.strictEqual(part.status, 206)
    assert.strictEqual(part.headers["content-range"], "bytes 10-19/64")
    assert.deepStrictEqual(new Uint8Array(part.body), logo.slice(10, 20))
    const suffix = await ask(base, "/images/logo.png", { headers: { range: "bytes=-5" } })
    assert.deepStrictEqual([suffix.status, suffix.headers["content-range"]], [206, "bytes 59-63/64"])
    assert.deepStrictEqual(new Uint8Array(suffix.body), logo.slice(59))
    const open = await ask(base, "/images/logo.png", { headers: { range: "bytes=60-" } })
    assert.deepStrictEqual(new Uint8Array(open.body), logo.slice(60))
    for (const range of ["bytes=64-", "bytes=9-3", "lines=1-2"]) {
      const bad = await ask(base, "/images/logo.png", { headers: { range } })
      assert.strictEqual(bad.status, 416, range)
      assert.strictEqual(bad.headers["content-range"], "bytes */64")
    }
  })

  it("--no-range ignores Range; --csp strict, off or a policy of one's own", async () => {
    const [plain, strict, custom] = await Promise.all([serve(["--no-range", "--csp", "off"]), serve(["--csp", "strict"]), serve(["--csp", "default-src 'none'"])])
    const whole = await ask(plain, "/images/logo.png", { headers: { range: "bytes=0-1" } })
    assert.strictEqual(whole.status, 200)
    assert.strictEqual(whole.body.length, 64)
    assert.isUndefined(whole.headers["accept-ranges"])
    assert.isUndefined((await ask(plain, "/")).headers["content-security-policy"])
    assert.include(String((await ask(strict, "/")).headers["content-security-policy"]), "frame-ancestors 'none'")
    assert.strictEqual((await ask(custom, "/")).headers["content-security-policy"], "default-src 'none'")
  })

  it("exits 2 with one line, no stack trace, for a port out of range; a port in use is named with the system's reason", async () => {
    for (const port of ["99999", "-1"]) {
      const result = await spawnCli(["mirror", "serve", "--project", "demo", "--port", port], { cwd: repo.dir }).done
      assert.strictEqual(result.code, 2, describeResult(result))
      assert.strictEqual(result.stderr, `error: --port ${port} is not a port; give 1-65535 (or 0 for a free one).\n`)
    }
    const check = await spawnCli(["mirror", "check", "--project", "demo", "--port", "0"], { cwd: repo.dir }).done
    assert.strictEqual(check.code, 2, describeResult(check))
    assert.strictEqual(check.stderr, "error: --port 0 is not a port; give the port the mirror is served on (1-65535).\n")
    const taken = new URL(base).port
    const busy = await spawnCli(["mirror", "serve", "--project", "demo", "--port", taken], { cwd: repo.dir }).done
    assert.strictEqual(busy.code, 1, describeResult(busy))
    assert.include(busy.stderr, `error: could not listen on 127.0.0.1:${taken}: listen EADDRINUSE: address already in use`)
    assert.notInclude(busy.stderr, "    at ")
  })

  it("exits 2 naming the fix when the project has no mirror yet", async () => {
    const empty = makeTempRepo()
    try {
      const result = await spawnCli(["mirror", "serve", "--project", "demo", "--port", "0"], { cwd: empty.dir }).done
      assert.strictEqual(result.code, 2, describeResult(result))
      assert.include(result.stderr, "packages/demo/public is not valid: the folder does not exist. Run `codex-orchestrator mirror fetch --project demo` first.")
    } finally {
      empty.cleanup()
    }
  })
})
