/**
 * `codex-orchestrator runner`'s bad input (issue 18), in this process, without a database: each is
 * one line that names what is wrong and the fix, exit 2, and no runner is served. The database URL
 * points at a closed port of this machine, so a refusal that comes only after the runner tried its
 * database shows as "cannot reach the cluster database".
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer, type Server } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Cause, ConfigProvider, Effect, Exit, Option } from "effect"
import * as Cli from "../src/cli/index.js"
import { stripAnsi } from "../src/domain/Colour.js"
import { TestKit } from "../src/index.js"
import { probeDatabase } from "../src/layers/internal/databaseProbe.js"
import { captured } from "./support/cliMemory.js"

const app = TestKit.AppMemory({})

/** A server on a port of 127.0.0.1 (closed once `use` is done): a port in use. */
const listening = <A, E, R>(use: (port: number) => Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.async<Server>((resume) => {
      const server = createServer()
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) => {
      const address = server.address()
      return use(typeof address === "object" && address !== null ? address.port : 0)
    },
    (server) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
  )

/** A port of 127.0.0.1 where nothing listens (it did a moment ago). */
const closedPort = listening((port) => Effect.succeed(port))

/** The one line `runner args` fails with (exit 2), in a workspaces folder of its own. */
const refused = (...args: ReadonlyArray<string>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "codex-runner-flags-"))),
    (workspaces) =>
      Effect.gen(function*() {
        const result = yield* captured(Cli.cli(["node", "codex-orchestrator", "runner", "--workspaces", workspaces, ...args]))
        const failure = Exit.isFailure(result.exit) ? Option.getOrUndefined(Cause.failureOption(result.exit.cause)) : undefined
        assert.strictEqual(result.code, 2, `exit ${result.code}: ${String(failure)}`)
        assert.strictEqual(result.stdout, "")
        const line = failure instanceof Error ? failure.message : String(failure)
        assert.notInclude(line, "\n")
        return line
      }),
    (workspaces) => Effect.sync(() => rmSync(workspaces, { recursive: true, force: true }))
  ).pipe(Effect.provide(app), Effect.provide(NodeContext.layer))

describe("runner: bad input is one line, exit 2", () => {
  it.live("a capacity past the bound is refused before the runner joins the cluster (each runner's shard ring grows with it)", () =>
    Effect.gen(function*() {
      const url = `postgres://postgres:x@127.0.0.1:${yield* closedPort}/postgres`
      const line = yield* refused("--database-url", url, "--listen", "127.0.0.1:34999", "--capacity", "100000000")
      assert.strictEqual(line, "--capacity 100000000 is more than a runner takes (at most 256 stages at once); give 1 to 256.")
      assert.include(yield* refused("--database-url", url, "--listen", "127.0.0.1:34999", "--capacity", "257"), "--capacity 257 is more than")
    }))

  it.live("--verbose is taken, as by every other command (the edge prints the full cause with it)", () =>
    Effect.gen(function*() {
      const url = `postgres://postgres:x@127.0.0.1:${yield* closedPort}/postgres`
      // Before: 'unknown option --verbose'.
      assert.include(yield* refused("--verbose", "--database-url", url, "--listen", "127.0.0.1:34999", "--capacity", "257"), "--capacity 257 is more than")
    }))

  it.live("a --listen port out of range says the range; a value without a port says host:port", () =>
    Effect.gen(function*() {
      const url = `postgres://postgres:x@127.0.0.1:${yield* closedPort}/postgres`
      for (const port of ["0", "70000"]) {
        assert.strictEqual(
          yield* refused("--database-url", url, "--listen", `localhost:${port}`),
          `--listen localhost:${port}: the port must be 1 to 65535 (host:port, for example localhost:34431).`
        )
      }
      assert.strictEqual(yield* refused("--database-url", url, "--listen", "nowhere"), "--listen nowhere is not host:port (for example localhost:34431).")
    }))

  it.live("no database URL at all names the flag and the variable, and where a URL comes from", () =>
    Effect.gen(function*() {
      const line = yield* refused("--listen", "127.0.0.1:34999").pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map())))
      assert.strictEqual(
        line,
        "runner needs the cluster's database: give --database-url or set CODEX_CLUSTER_DATABASE_URL " +
          "(a PostgreSQL URL; `codex-orchestrator cluster db` starts one and prints it)."
      )
    }))

  it.live("a bad database URL names where it came from: the variable, or the flag (and a flag given wins over the variable)", () =>
    Effect.gen(function*() {
      const fromEnv = (entries: ReadonlyArray<readonly [string, string]>) => Effect.withConfigProvider(ConfigProvider.fromMap(new Map(entries)))
      const badEnv = fromEnv([["CODEX_CLUSTER_DATABASE_URL", "bad-value"]])
      // Before: '--database-url="bad-value" is not ...', for a value from the variable.
      assert.strictEqual(
        yield* refused("--listen", "127.0.0.1:34999").pipe(badEnv),
        'CODEX_CLUSTER_DATABASE_URL="bad-value" is not a PostgreSQL URL (postgres://user:password@host:port/database).'
      )
      assert.strictEqual(
        yield* refused("--database-url", "bad-flag", "--listen", "127.0.0.1:34999").pipe(badEnv),
        '--database-url="bad-flag" is not a PostgreSQL URL (postgres://user:password@host:port/database).'
      )
      const port = yield* closedPort
      const url = `postgres://postgres:x@127.0.0.1:${port}/postgres`
      // The flag's URL is used, the variable's bad value not read; the unreachable one is named as it was given.
      assert.include(
        yield* refused("--database-url", url, "--listen", "127.0.0.1:34999", "--capacity", "1").pipe(badEnv),
        `cannot reach the cluster database (--database-url): PgClient: Failed to connect: connect ECONNREFUSED 127.0.0.1:${port}.`
      )
      assert.include(
        yield* refused("--listen", "127.0.0.1:34999", "--capacity", "1").pipe(fromEnv([["CODEX_CLUSTER_DATABASE_URL", url]])),
        `cannot reach the cluster database (CODEX_CLUSTER_DATABASE_URL): PgClient: Failed to connect: connect ECONNREFUSED 127.0.0.1:${port}.`
      )
      // `cluster db` reads no URL: the variable's bad value is not its error.
      const db = yield* captured(Cli.cli(["node", "codex-orchestrator", "cluster", "db", "--port", "0"])).pipe(
        badEnv,
        Effect.provide(app),
        Effect.provide(NodeContext.layer)
      )
      const failure = Exit.isFailure(db.exit) ? Option.getOrUndefined(Cause.failureOption(db.exit.cause)) : undefined
      assert.strictEqual(failure instanceof Error ? failure.message : String(failure), "--port 0 is not a port (1-65535).")
    }))

  it.live("a --listen address in use names it and asks for another, before the database is tried", () =>
    Effect.gen(function*() {
      const url = `postgres://postgres:x@127.0.0.1:${yield* closedPort}/postgres`
      const line = yield* listening((port) => refused("--database-url", url, "--listen", `127.0.0.1:${port}`, "--capacity", "1"))
      assert.match(line, /^--listen 127\.0\.0\.1:\d+: cannot listen there \(.*EADDRINUSE.*\)\. Give the runner another --listen host:port\.$/)
    }))

  it.live("an unreachable database says why the driver could not connect", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      const line = yield* refused("--database-url", `postgres://postgres:x@127.0.0.1:${port}/postgres`, "--listen", "127.0.0.1:34999", "--capacity", "1")
      assert.include(line, `cannot reach the cluster database (--database-url): PgClient: Failed to connect: connect ECONNREFUSED 127.0.0.1:${port}.`)
    }))
})

describe("doctor's database probe", () => {
  it.live("says why the driver could not connect", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      const why = yield* Effect.flip(probeDatabase(`postgres://postgres:x@127.0.0.1:${port}/postgres`))
      assert.strictEqual(why, `PgClient: Failed to connect: connect ECONNREFUSED 127.0.0.1:${port}`)
    }))
})

describe("runner and cluster db --help", () => {
  const helpOf = (...args: ReadonlyArray<string>) =>
    captured(Cli.cli(["node", "codex-orchestrator", ...args, "--help"])).pipe(
      Effect.map((result) => stripAnsi(result.stdout)),
      Effect.provide(app),
      Effect.provide(NodeContext.layer)
    )

  it.effect("say each flag's default and the variables that tune a runner", () =>
    Effect.gen(function*() {
      const runner = yield* helpOf("runner")
      for (const said of ["(default: localhost:34431)", "(default: .codex-runner/workspaces)", "at most 256", "CODEX_CLUSTER_LOCK_EXPIRY", "CODEX_CLUSTER_STOP_GRACE"]) {
        assert.include(runner, said)
      }
      assert.include(yield* helpOf("cluster", "db"), "(default: 54329)")
    }))
})
