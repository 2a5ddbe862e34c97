/**
 * Helpers for the integration tests: run the built CLI (dist/bin/codex-orchestrator.mjs) as a real
 * child process in a temporary repository, and read back what it wrote.
 */
import { spawn } from "node:child_process"
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"

/** The package root (two levels above test/support/). */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..")

/** The bundled executable `npm run build` produces. */
export const cliPath = join(packageRoot, "dist", "bin", "codex-orchestrator.mjs")

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

/** Runs `node dist/bin/codex-orchestrator.mjs <args>` in `options.cwd` and collects its output. */
export const runCli = (args: ReadonlyArray<string>, options: CliOptions): Promise<CliResult> =>
  new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
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
