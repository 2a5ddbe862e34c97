/**
 * The README's "Running stages on other machines" example, run as written: the ```console block is
 * taken from README.md, each `# terminal` of it runs as a bash session in a copy of the repository
 * (as a reader has it after the install, under git), and every line the README shows a terminal
 * printing must be among what it printed (`<...>` stands for what varies). The one change: the
 * block's port numbers are replaced by free ones, so the test runs beside anything else on the machine.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { readFileSync, rmSync } from "node:fs"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { asArray, asObject, cliEnv, packageRoot, readJson, requireBuiltCli, waitFor } from "../support/cli.js"
import { freePort } from "../support/clusterProcesses.js"
import { copyOfRepository } from "../support/readme.js"

interface Terminal {
  readonly title: string
  readonly commands: ReadonlyArray<string>
  /** What the README shows it printing, as patterns. */
  readonly printed: ReadonlyArray<RegExp>
  readonly shown: ReadonlyArray<string>
}

const heading = "## Running stages on other machines"

/** The first ```console block under the heading. */
const readmeBlock = (): string => {
  const readme = readFileSync(join(packageRoot, "README.md"), "utf8")
  const match = /```console\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf(heading)))
  if (match?.[1] === undefined) throw new Error(`README.md has no console block under ${heading}`)
  return match[1]
}

/** A printed line as a pattern: literal text, `<...>` for any text. */
const patternOf = (line: string) =>
  new RegExp(`^${line.trim().split(/<[a-z-]+>/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".+")}$`)

/** The block's terminals, its ports replaced by free ones. */
const terminalsOf = async (block: string): Promise<ReadonlyArray<Terminal>> => {
  let text = block
  for (const port of new Set([...block.matchAll(/(?:localhost|127\.0\.0\.1):(\d+)/g)].map((m) => m[1] ?? ""))) {
    text = text.split(port).join(String(await freePort()))
  }
  const terminals: Array<{ title: string; commands: Array<string>; shown: Array<string> }> = []
  for (const line of text.split("\n")) {
    if (line.startsWith("# terminal")) terminals.push({ title: line.slice(2), commands: [], shown: [] })
    else if (line.trim() === "" || line.startsWith("#")) continue
    else if (line.startsWith("$ ")) terminals[terminals.length - 1]?.commands.push(line.slice(2))
    else terminals[terminals.length - 1]?.shown.push(line)
  }
  return terminals.map((t) => ({ ...t, printed: t.shown.map(patternOf) }))
}

interface Session {
  readonly terminal: Terminal
  readonly child: ChildProcess
  readonly lines: () => ReadonlyArray<string>
  readonly exited: Promise<number | null>
}

/** A terminal's commands in one bash session, in a process group of its own (Ctrl-C reaches all of it). */
const open = (dir: string, terminal: Terminal): Session => {
  const child = spawn("bash", ["-eu", "-c", terminal.commands.join("\n")], {
    cwd: dir,
    detached: true,
    env: cliEnv({ NO_COLOR: "1", npm_config_offline: "true", npm_config_update_notifier: "false" }),
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")))
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")))
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  return { terminal, child, exited, lines: () => output.split("\n").map((line) => line.trim()) }
}

/** The README's lines this session has not printed (yet). */
const missing = (session: Session) => {
  const lines = session.lines()
  return session.terminal.printed.filter((pattern) => !lines.some((line) => pattern.test(line)))
}

const describeSession = (session: Session) =>
  `${session.terminal.title}:\n  $ ${session.terminal.commands.join("\n  $ ")}\n  ${session.lines().join("\n  ")}`

/** Ctrl-C to the session's process group, then SIGKILL if it has not exited within 20 s. */
const stop = async (session: Session) => {
  const pid = session.child.pid
  if (pid === undefined || session.child.exitCode !== null) return
  process.kill(-pid, "SIGINT")
  const timer = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 20_000))
  if ((await Promise.race([session.exited, timer])) === "timeout") process.kill(-pid, "SIGKILL")
}

let dir = ""
const sessions: Array<Session> = []

beforeAll(() => {
  requireBuiltCli()
  dir = copyOfRepository("readme-cluster-", true)
})

afterAll(async () => {
  // Runners first, the database last, as a reader would.
  for (const session of [...sessions].reverse()) await stop(session)
  if (dir !== "") rmSync(dir, { recursive: true, force: true })
}, 60_000)

describe("README: running stages on other machines", () => {
  it("the database, two runners and a cloud run, exactly as written, print what the README shows", async () => {
    const terminals = await terminalsOf(readmeBlock())
    assert.strictEqual(terminals.length, 4, "terminals: the database, two runners, the run")
    const [database, ...rest] = terminals
    const runners = rest.slice(0, -1)
    const run = rest[rest.length - 1]
    if (database === undefined || run === undefined) throw new Error("the README block has no terminals")
    const ready = (session: Session) =>
      waitFor(`${session.terminal.title} to print what the README shows`, () => (missing(session).length === 0 ? true : undefined), {
        timeoutMs: 90_000,
        intervalMs: 200
      }).catch((error: unknown) => {
        throw new Error(`${String(error)}\n${describeSession(session)}`)
      })
    const server = (terminal: Terminal) => {
      const session = open(dir, terminal)
      sessions.push(session)
      return session
    }
    await ready(server(database))
    await Promise.all(runners.map((terminal) => ready(server(terminal))))
    const session = open(dir, run)
    const code = await session.exited
    assert.strictEqual(code, 0, describeSession(session))
    assert.deepStrictEqual(missing(session).map(String), [], describeSession(session))
    // Every stage ran on one of the runners: the manifest says so too.
    const manifestLine = session.lines().find((line) => line.startsWith("Manifest: ")) ?? ""
    const manifest = readJson(join(dir, manifestLine.slice("Manifest: ".length)))
    const remotes = asArray(manifest["commands"], "commands").map((entry) => asObject(asObject(entry, "entry")["remote"], "remote"))
    assert.strictEqual(remotes.length, 4)
    for (const remote of remotes) assert.strictEqual(remote["executor"], "cluster")
    assert.strictEqual(manifest["cloud_fallback_reason"], null)
    // The database's folder and the runners' workspaces add nothing to the repository's changes.
    assert.strictEqual(execFileSync("git", ["status", "--porcelain"], { cwd: dir, encoding: "utf8" }), "")
  }, 240_000)
})
