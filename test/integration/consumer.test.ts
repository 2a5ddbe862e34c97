/**
 * Issue 20: test/consumer/ is an app that uses the package as an installed dependency would. The
 * package is packed (`npm pack`: package.json's `files` and `exports` as published) and unpacked into
 * a temp app's node_modules next to its dependencies; the app is compiled with strict TypeScript,
 * each of its programs runs (production layers, a cloud executor and an agent of its own, events,
 * the CLI mounted as `myapp orch`, the Promise facade) and its test runs under vitest with TestClock.
 * An import of the package's internals does not compile.
 */
import { spawn } from "node:child_process"
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { cliEnv, packageRoot, requireBuiltCli } from "../support/cli.js"

const consumerSource = join(packageRoot, "test", "consumer")
const nodeModules = join(packageRoot, "node_modules")
const tsc = join(nodeModules, "typescript", "bin", "tsc")

interface Ran {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const describeRun = (ran: Ran) => `exit ${ran.code}\n--- stdout\n${ran.stdout}\n--- stderr\n${ran.stderr}`

let app = ""

/** The app in a temp folder: its sources, the packed package and (linked) its dependencies in node_modules. */
const install = async (): Promise<string> => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "codex-orchestrator-consumer-")))
  for (const entry of ["package.json", "tsconfig.json", "src", "test"]) cpSync(join(consumerSource, entry), join(dir, entry), { recursive: true })
  const packed: ReadonlyArray<{ readonly filename: string }> = JSON.parse(
    await output("npm", ["pack", "--json", "--pack-destination", dir], packageRoot)
  )
  const tarball = join(dir, packed[0]?.filename ?? assert.fail("npm pack named no file"))
  const modules = join(dir, "node_modules")
  mkdirSync(modules)
  await output("tar", ["-xzf", tarball, "-C", dir], dir)
  renameSync(join(dir, "package"), join(modules, "codex-orchestrator"))
  rmSync(tarball)
  // A flat install, as npm makes one: every other package next to it (linked, not copied).
  for (const name of readdirSync(nodeModules)) {
    if (name === ".bin" || name.startsWith(".") || existsSync(join(modules, name))) continue
    symlinkSync(join(nodeModules, name), join(modules, name))
  }
  return dir
}

/** Runs a process to its end (asynchronously: a synchronous wait would stall vitest's worker). */
const run = (command: string, args: ReadonlyArray<string>, cwd = app): Promise<Ran> =>
  new Promise((resolve, reject) => {
    // cliEnv: a run around this test (start diagnostics on this repository) must not move the app's runs.
    const child = spawn(command, args, { cwd, env: cliEnv({ MCP_RUNNER_TASK_ID: "" }), stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text))
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

/** Runs a process that must succeed; its stdout. */
const output = async (command: string, args: ReadonlyArray<string>, cwd: string): Promise<string> => {
  const ran = await run(command, args, cwd)
  if (ran.code !== 0) throw new Error(`${command} ${args.join(" ")}: ${describeRun(ran)}`)
  return ran.stdout
}
const node = (program: string, ...args: ReadonlyArray<string>): Promise<Ran> => run(process.execPath, [join("dist", "src", `${program}.js`), ...args])

beforeAll(async () => {
  requireBuiltCli()
  app = await install()
  const compiled = await run(process.execPath, [tsc, "-p", "tsconfig.json"])
  assert.strictEqual(compiled.code, 0, `the consumer does not compile:\n${describeRun(compiled)}`)
}, 240_000)

afterAll(() => {
  if (app !== "") rmSync(app, { recursive: true, force: true })
})

describe("a consumer app on the packed package", () => {
  it("resolves the package from node_modules, through its exports", async () => {
    const resolved = await run(process.execPath, ["--input-type=module", "-e", "console.log(import.meta.resolve('codex-orchestrator/test-kit'))"])
    assert.strictEqual(resolved.stdout.trim(), `file://${app}/node_modules/codex-orchestrator/dist/TestKit.js`, describeRun(resolved))
  })

  it("runs a pipeline on the production layers configured from code, and reads its log", async () => {
    const ran = await node("production")
    assert.strictEqual(ran.code, 0, describeRun(ran))
    assert.match(ran.stdout, /^\S+ succeeded: build printed "built\\n"\n$/)
    assert.isTrue(existsSync(join(app, ".runs", "demo", "cli")), "the run is under the repoRoot given in code")
  })

  it("runs cloud stages on an executor of its own that needs a service of its own", async () => {
    const ran = await node("swapExecutor")
    assert.strictEqual(ran.code, 0, describeRun(ran))
    assert.strictEqual(ran.stdout, "succeeded (cloud): echo built on build-farm-1\n")
  })

  it("subscribes to events with on and subscribe", async () => {
    const ran = await node("events")
    assert.strictEqual(ran.code, 0, describeRun(ran))
    const lines = ran.stdout.trim().split("\n")
    assert.deepStrictEqual(lines.slice(0, 2), ["on: build succeeded", "on: test succeeded"])
    assert.strictEqual(lines[2], [
      "subscribe: run:created, plan:completed, run:started",
      "stage:started, tool:call, tool:call, stage:completed",
      "stage:started, tool:call, tool:call, stage:completed",
      "build:completed, test:completed, review:completed, run:completed"
    ].join(", "))
    assert.strictEqual(lines.length, 3)
  })

  it("replaces the reviewer with an agent of its own", async () => {
    const ran = await node("agent")
    assert.strictEqual(ran.code, 0, describeRun(ran))
    assert.strictEqual(ran.stdout, "review: Held. approved=false\nrun: succeeded\n")
  })

  it("mounts the CLI as `myapp orch`, exit codes included", async () => {
    const started = await node("cli", "orch", "start", "ci", "--task", "mounted", "--format", "json")
    assert.strictEqual(started.code, 0, describeRun(started))
    const result: { readonly status: string; readonly manifest: string } = JSON.parse(started.stdout)
    assert.strictEqual(result.status, "succeeded")
    assert.isTrue(existsSync(join(app, result.manifest)), result.manifest)
    const refused = await node("cli", "orch", "start", "ci", "--approval-policy", "bogus")
    assert.strictEqual(refused.code, 2, describeRun(refused))
    assert.strictEqual(
      refused.stderr,
      "error: --approval-policy \"bogus\": Expected one of the following cases: never, on-request, auto. See 'myapp orch start --help'.\n",
      describeRun(refused)
    )
    const own = await node("cli", "hello")
    assert.strictEqual(own.stdout, "hello from myapp\n", describeRun(own))
  })

  it("uses the Promise facade and disposes of it", async () => {
    const ran = await node("promise")
    assert.strictEqual(ran.code, 0, describeRun(ran))
    const lines = ran.stdout.trim().split("\n")
    assert.deepStrictEqual([lines[0], lines[1], lines[3]], ["stage build: succeeded", "stage test: succeeded", "rejected: PipelineNotFound"])
    assert.match(lines[2] ?? "", /^succeeded: .*\/\.runs\/demo\/cli\/.*\/manifest\.json$/)
  })

  it("tests a pipeline in memory under TestClock with @effect/vitest", async () => {
    const ran = await run(process.execPath, [join(nodeModules, "vitest", "vitest.mjs"), "run", "--root", app, "test/"])
    assert.strictEqual(ran.code, 0, describeRun(ran))
    assert.match(ran.stdout, /1 passed/)
  })

  it("cannot import the package's internals: a deep import does not compile", async () => {
    mkdirSync(join(app, "probe"), { recursive: true })
    writeFileSync(join(app, "probe", "internal.ts"), [
      "import { AppLive } from \"codex-orchestrator/dist/layers/App.js\"",
      "import { RunEngineLive } from \"codex-orchestrator/layers/RunEngine\"",
      "export const internals = [AppLive, RunEngineLive]",
      ""
    ].join("\n"))
    // The same layer through the public export compiles: in the same program (one tsc run, ~5 s of
    // CPU each), with no error of its own.
    writeFileSync(join(app, "probe", "public.ts"), "import { App } from \"codex-orchestrator\"\nexport const live = App.AppLive\n")
    writeFileSync(join(app, "tsconfig.probe.json"), JSON.stringify({ extends: "./tsconfig.json", include: ["probe"], compilerOptions: { noEmit: true } }))
    const probed = await run(process.execPath, [tsc, "-p", "tsconfig.probe.json"])
    assert.strictEqual(probed.code, 2, describeRun(probed))
    const errors = probed.stdout.trim().split("\n").filter((line) => line.includes("error TS"))
    assert.deepStrictEqual(errors, [
      "probe/internal.ts(1,25): error TS2307: Cannot find module 'codex-orchestrator/dist/layers/App.js' or its corresponding type declarations.",
      "probe/internal.ts(2,31): error TS2307: Cannot find module 'codex-orchestrator/layers/RunEngine' or its corresponding type declarations."
    ], describeRun(probed))
  })
})
