/**
 * Helpers for the integration tests: run the built CLI (dist/bin/codex-orchestrator.cjs) as a real
 * child process in a temporary repository, and read back what it wrote.
 */
import { type ChildProcess, spawn } from "node:child_process"
import {
  createReadStream,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  writeFileSync
} from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"

/** The package root (two levels above test/support/). */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..")

/** The bundled executable `npm run build` produces. */
export const cliPath = join(packageRoot, "dist", "bin", "codex-orchestrator.cjs")

/** The bundle with every command; the executable runs status.cjs instead for `status`. */
export const fullCliBundle = join(packageRoot, "dist", "bin", "cli.cjs")

/** For a vitest `beforeAll`: fails with a clear message when the CLI has not been built. */
export const requireBuiltCli = (): void => {
  if (!existsSync(cliPath)) {
    throw new Error(
      `The built CLI is missing: ${cliPath}. Run \`npm run build\` first (\`npm test\` builds before running vitest).`
    )
  }
}

export interface CliResult {
  /** Exit code, or null when the process died by a signal. */
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  /** Last VmHWM (peak resident set size) read from /proc/<pid>/status, in KiB; only with `sampleMemory`. */
  readonly peakRssKiB: number | undefined
}

export interface CliOptions {
  readonly cwd: string
  /** Added to the test environment; `undefined` removes a variable. */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Poll /proc/<pid>/status every 20 ms while the process runs and report the last VmHWM. */
  readonly sampleMemory?: boolean
  /** The script node runs instead of the executable (e.g. fullCliBundle). */
  readonly entry?: string
}

/**
 * The environment the CLI sees: the test process's, without anything that would change where or
 * how the orchestrator runs (so a developer's shell cannot influence a test), plus `env`.
 */
export const cliEnv = (env: Readonly<Record<string, string | undefined>> = {}): NodeJS.ProcessEnv => {
  const base: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (key === "MCP_RUNNER_TASK_ID" || key.startsWith("CODEX_ORCHESTRATOR_") || key === "NODE_OPTIONS") continue
    if (value !== undefined) base[key] = value
  }
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete base[key]
    else base[key] = value
  }
  return base
}

const readVmHwmKiB = (pid: number): number | undefined => {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8")
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(status)
    return match?.[1] === undefined ? undefined : Number(match[1])
  } catch {
    return undefined // the process has exited (or /proc is not there)
  }
}

/** Runs `node dist/bin/codex-orchestrator.cjs <args>` in `options.cwd` and collects its output. */
export const runCli = (args: ReadonlyArray<string>, options: CliOptions): Promise<CliResult> =>
  new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [options.entry ?? cliPath, ...args], {
      cwd: options.cwd,
      env: cliEnv(options.env),
      stdio: ["ignore", "pipe", "pipe"]
    })
    const stdout: Array<Buffer> = []
    const stderr: Array<Buffer> = []
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk))
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk))

    let peakRssKiB: number | undefined
    let timer: NodeJS.Timeout | undefined
    const sample = () => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
      const value = readVmHwmKiB(child.pid)
      if (value !== undefined) peakRssKiB = value
    }
    if (options.sampleMemory === true) {
      sample()
      timer = setInterval(sample, 20)
    }

    child.on("error", (error) => {
      if (timer !== undefined) clearInterval(timer)
      reject(error)
    })
    child.on("close", (code, signal) => {
      if (timer !== undefined) clearInterval(timer)
      resolvePromise({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
        peakRssKiB
      })
    })
  })

/** A temporary repository folder; `cleanup` removes it and everything the CLI wrote. */
export interface TempRepo {
  /** Absolute, symlinks resolved (the CLI's process.cwd() reports the real path). */
  readonly dir: string
  readonly path: (...segments: ReadonlyArray<string>) => string
  readonly cleanup: () => void
}

/**
 * Creates a temp folder under os.tmpdir(). `config` is written to `codex.orchestrator.json`:
 * a string verbatim (for malformed files), anything else as JSON; omitted, no config file.
 */
export const makeTempRepo = (config?: unknown): TempRepo => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "codex-orchestrator-it-")))
  if (config !== undefined) {
    writeFileSync(
      join(dir, "codex.orchestrator.json"),
      typeof config === "string" ? config : `${JSON.stringify(config, null, 2)}\n`
    )
  }
  return {
    dir,
    path: (...segments) => join(dir, ...segments),
    cleanup: () => rmSync(dir, { recursive: true, force: true })
  }
}

/** A command stage for a config. */
export const commandStage = (
  id: string,
  command: string,
  extra: Readonly<Record<string, unknown>> = {}
): Record<string, unknown> => ({ kind: "command", id, title: `Stage ${id}`, command, ...extra })

/** A nested pipeline stage for a config. */
export const subpipelineStage = (
  id: string,
  pipeline: string,
  extra: Readonly<Record<string, unknown>> = {}
): Record<string, unknown> => ({ kind: "subpipeline", id, title: `Nested ${pipeline}`, pipeline, ...extra })

/** A pipeline definition for a config. */
export const pipeline = (
  id: string,
  stages: ReadonlyArray<Record<string, unknown>>,
  extra: Readonly<Record<string, unknown>> = {}
): Record<string, unknown> => ({ id, title: `Pipeline ${id}`, stages, ...extra })

export type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }
export type JsonObject = { readonly [key: string]: Json }

const isObject = (value: Json | undefined): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** Narrows a JSON value to an object, failing the test with `what` otherwise. */
export const asObject = (value: Json | undefined, what: string): JsonObject => {
  if (!isObject(value)) throw new Error(`${what}: expected a JSON object, got ${JSON.stringify(value)}`)
  return value
}

/** Narrows a JSON value to an array, failing the test with `what` otherwise. */
export const asArray = (value: Json | undefined, what: string): ReadonlyArray<Json> => {
  if (!Array.isArray(value)) throw new Error(`${what}: expected a JSON array, got ${JSON.stringify(value)}`)
  return value
}

/** Narrows a JSON value to a string, failing the test with `what` otherwise. */
export const asString = (value: Json | undefined, what: string): string => {
  if (typeof value !== "string") throw new Error(`${what}: expected a string, got ${JSON.stringify(value)}`)
  return value
}

export const parseJson = (text: string): Json => JSON.parse(text) as Json

export const readJson = (file: string): JsonObject => asObject(parseJson(readFileSync(file, "utf8")), file)

/** Every line of an ndjson file, parsed. */
export const readNdjson = (file: string): ReadonlyArray<JsonObject> =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line, i) => asObject(parseJson(line), `${file}:${i + 1}`))

/** Streams an ndjson file line by line (for logs too large to hold twice in memory). */
export const forEachNdjsonLine = async (file: string, f: (event: JsonObject) => void): Promise<void> => {
  const lines = createInterface({ input: createReadStream(file, { encoding: "utf8" }), crlfDelay: Infinity })
  let n = 0
  for await (const line of lines) {
    n += 1
    if (line.length > 0) f(asObject(parseJson(line), `${file}:${n}`))
  }
}

/** The concatenated `data` of a stage log's `exec:chunk` events for one stream. */
export const stageOutput = (stageLog: string, stream: "stdout" | "stderr"): string =>
  readNdjson(stageLog)
    .filter((event) => event["type"] === "exec:chunk" && event["stream"] === stream)
    .map((event) => asString(event["data"], "exec:chunk data"))
    .join("")

/** Names in a folder, or [] when it does not exist. */
export const listDir = (dir: string): ReadonlyArray<string> => (existsSync(dir) ? readdirSync(dir).sort() : [])

/** The manifest entry at `position` (0-based) of `manifest.commands`. */
export const commandAt = (manifest: JsonObject, position: number): JsonObject =>
  asObject(asArray(manifest["commands"], "manifest.commands")[position], `manifest.commands[${position}]`)

/** Runs `f` with a fresh temp repository and removes it afterwards, whatever happens. */
export const withRepo = async <A>(config: unknown, f: (repo: TempRepo) => Promise<A>): Promise<A> => {
  const repo = makeTempRepo(config)
  try {
    return await f(repo)
  } finally {
    repo.cleanup()
  }
}

/** Describes a CLI result for assertion messages. */
export const describeResult = (result: CliResult): string =>
  `exit ${result.code}${result.signal === null ? "" : ` (signal ${result.signal})`}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`

export interface StartedRun {
  readonly result: CliResult
  /** stdout parsed as one JSON document. */
  readonly output: JsonObject
  /** Absolute run folder (`<repo>/<artifact_root>`). */
  readonly runDir: string
  readonly manifest: JsonObject
}

/**
 * `start <args> --format json` in `repo`: parses the whole stdout as JSON (it must be nothing else)
 * and reads the manifest it points at.
 */
export const startJson = async (
  repo: TempRepo,
  args: ReadonlyArray<string>,
  env?: Readonly<Record<string, string | undefined>>
): Promise<StartedRun> => {
  const result = await runCli(["start", ...args, "--format", "json"], { cwd: repo.dir, ...(env === undefined ? {} : { env }) })
  let output: JsonObject
  try {
    output = asObject(parseJson(result.stdout), "stdout")
  } catch (error) {
    throw new Error(`stdout is not one JSON document (${String(error)})\n${describeResult(result)}`)
  }
  const runDir = repo.path(asString(output["artifact_root"], "artifact_root"))
  return { result, output, runDir, manifest: readJson(join(runDir, "manifest.json")) }
}

/** ID-2: ISO timestamp with `:` and `.` replaced by `-`, then `-` and 8 lowercase hex digits. */
export const runIdPattern = /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z-[0-9a-f]{8}$/

/** `Date.prototype.toISOString()` form. */
export const isoPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

/** A CLI process running in the background (see `spawnCli`). */
export interface BackgroundCli {
  readonly child: ChildProcess
  /** The orchestrator's pid (the bin runs the bundle in-process, so this is the orchestrator itself). */
  readonly pid: number
  /** Resolves on the `exit` event: the process is gone and reaped (its pid no longer answers signal 0). */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>
  /** Resolves once the process has exited and its stdout/stderr are closed, with everything it printed. */
  readonly done: Promise<CliResult>
  /** Sends `signal` to the orchestrator only (not to its stages' process groups). */
  readonly kill: (signal: NodeJS.Signals) => void
}

/**
 * Starts `node dist/bin/codex-orchestrator.cjs <args>` in `options.cwd` without waiting for it, for
 * tests that signal, crash or race a run while it is in progress.
 */
export const spawnCli = (args: ReadonlyArray<string>, options: CliOptions): BackgroundCli => {
  const child = spawn(process.execPath, [cliPath, ...args], {
    cwd: options.cwd,
    env: cliEnv(options.env),
    stdio: ["ignore", "pipe", "pipe"]
  })
  const pid = child.pid
  if (pid === undefined) throw new Error(`could not spawn the CLI (${cliPath})`)
  const stdout: Array<Buffer> = []
  const stderr: Array<Buffer> = []
  child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk))
  child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk))
  const exited = new Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>((resolvePromise) => {
    child.once("exit", (code, signal) => resolvePromise({ code, signal }))
  })
  const done = new Promise<CliResult>((resolvePromise, reject) => {
    child.once("error", reject)
    child.once("close", (code, signal) =>
      resolvePromise({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
        peakRssKiB: undefined
      }))
  })
  return {
    child,
    pid,
    exited,
    done,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    }
  }
}

const sleep = (ms: number) => new Promise<void>((resolvePromise) => setTimeout(resolvePromise, ms))

/**
 * Polls `probe` until it returns something other than undefined (a thrown error counts as "not
 * yet", e.g. a file that does not exist yet), and returns that. Fails with `what` after `timeoutMs`.
 */
export const waitFor = async <A>(
  what: string,
  probe: () => A | undefined,
  options: { readonly timeoutMs?: number; readonly intervalMs?: number } = {}
): Promise<A> => {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000)
  let lastError: unknown
  for (;;) {
    try {
      const value = probe()
      if (value !== undefined) return value
    } catch (error) {
      lastError = error
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${lastError === undefined ? "" : ` (last error: ${String(lastError)})`}`)
    }
    await sleep(options.intervalMs ?? 50)
  }
}

/** The run folders (absolute) of `task` in `repo` that already have a manifest.json. */
export const runDirsOf = (repo: TempRepo, task: string): ReadonlyArray<string> => {
  const cliDir = repo.path(".runs", task, "cli")
  return listDir(cliDir).map((name) => join(cliDir, name)).filter((dir) => existsSync(join(dir, "manifest.json")))
}

/** One process from /proc: pid, state letter (Z = zombie) and process group. */
export interface ProcInfo {
  readonly pid: number
  readonly state: string
  readonly pgid: number
}

/** Parses the text of /proc/<pid>/stat (the command name may hold spaces and parentheses). */
export const parseProcStat = (text: string): ProcInfo | undefined => {
  const close = text.lastIndexOf(")")
  const pid = Number.parseInt(text, 10)
  const fields = text.slice(close + 2).split(" ")
  const state = fields[0]
  const pgid = Number(fields[2])
  if (close < 0 || Number.isNaN(pid) || state === undefined || Number.isNaN(pgid)) return undefined
  return { pid, state, pgid }
}

/** The process `pid` as /proc shows it, or undefined when there is none. */
export const procInfo = (pid: number): ProcInfo | undefined => {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, "utf8"))
  } catch {
    return undefined
  }
}

/** Whether `pid` is a running process (a zombie that nobody reaped yet counts as gone). */
export const isLiveProcess = (pid: number): boolean => {
  const info = procInfo(pid)
  return info !== undefined && info.state !== "Z"
}

/** Live (non-zombie) processes in process group `pgid`, from /proc (Linux). */
export const liveProcessGroupMembers = (pgid: number): ReadonlyArray<number> =>
  readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map((name) => procInfo(Number(name)))
    .filter((info): info is ProcInfo => info !== undefined && info.pgid === pgid && info.state !== "Z")
    .map((info) => info.pid)

/** Live (non-zombie) processes whose working directory is `dir` or below it, with their command lines. */
export const liveProcessesUnder = (dir: string): ReadonlyArray<{ readonly pid: number; readonly cmdline: string }> =>
  readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .flatMap((name) => {
      const pid = Number(name)
      try {
        const cwd = readlinkSync(`/proc/${pid}/cwd`)
        if (cwd !== dir && !cwd.startsWith(`${dir}/`)) return []
        if (!isLiveProcess(pid)) return []
        return [{ pid, cmdline: readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim() }]
      } catch {
        return [] // gone meanwhile, or not ours to inspect
      }
    })

/**
 * SIGKILLs process group `pgid` if anything is left in it (cleanup for a crashed run's stage, whose
 * group outlives the orchestrator). Refuses groups that are not a stage's: 0, 1 and the test's own.
 */
export const killProcessGroup = (pgid: number): void => {
  if (!Number.isInteger(pgid) || pgid <= 1 || pgid === procInfo(process.pid)?.pgid) return
  try {
    process.kill(-pgid, "SIGKILL")
  } catch {
    // already gone
  }
}
