/**
 * `cloud` stages when processes die (issue 18): an orchestrator killed mid-stage and resumed, Ctrl-C
 * on the orchestrator, kill -9 and SIGTERM of the runner running a stage. An embedded PostgreSQL
 * started here; each case starts its own runners (labels keep its stages on them), with a short shard
 * lock expiry (CODEX_CLUSTER_LOCK_EXPIRY) on runners and orchestrators alike. Also a runner's hold on
 * its `--workspaces` folder: a second runner there is refused, a killed holder's hold taken over.
 */
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import {
  asArray,
  asObject,
  asString,
  commandAt,
  commandStage,
  describeResult,
  type JsonObject,
  liveProcessesUnder,
  makeTempRepo,
  pipeline,
  readJson,
  requireBuiltCli,
  runCli,
  runDirsOf,
  spawnCli,
  stageOutput,
  type TempRepo,
  waitFor
} from "../support/cli.js"
import { startDatabase, startRunner, stopProcess, type TestDatabase, type TestRunner } from "../support/clusterProcesses.js"

let database: TestDatabase
let home: TempRepo

beforeAll(async () => {
  requireBuiltCli()
  home = makeTempRepo()
  database = await startDatabase()
}, 120_000)

afterAll(async () => {
  await database?.stop()
  home?.cleanup()
}, 60_000)

const lockExpiry = { CODEX_CLUSTER_LOCK_EXPIRY: "6 seconds" }
const clusterEnv = () => ({ CODEX_CLUSTER_DATABASE_URL: database.url, ...lockExpiry })

/** Runners named `names`, each with its own workspaces folder and the given labels. */
const startRunners = (names: ReadonlyArray<string>, labels: ReadonlyArray<string>) =>
  Promise.all(names.map((name) => {
    mkdirSync(home.path(`ws-${name}`), { recursive: true })
    return startRunner({ url: database.url, cwd: home.dir, workspaces: home.path(`ws-${name}`), capacity: 2, labels, env: lockExpiry })
  }))

const stopAll = (runners: ReadonlyArray<TestRunner>) => Promise.all(runners.map((runner) => runner.stop()))

/** A repository with one commit holding the pipelines (runners fetch the commit from it). */
const committedRepo = (pipelines: ReadonlyArray<Record<string, unknown>>) => {
  const repo = makeTempRepo({ pipelines })
  const git = (...args: ReadonlyArray<string>) =>
    execFileSync("git", ["-c", "user.name=test", "-c", "user.email=test@example.com", ...args], { cwd: repo.dir, stdio: "pipe" })
  git("init", "-q")
  git("add", "-A")
  git("commit", "-q", "-m", "base")
  return repo
}

const manifestOf = (runDir: string) => readJson(join(runDir, "manifest.json"))

/** The entry's `remote` once its runner is known (the runner started it), else undefined. */
const remoteOf = (manifest: JsonObject, position: number): JsonObject | undefined => {
  const remote = commandAt(manifest, position)["remote"]
  return remote === undefined || remote === null || typeof remote !== "object" || Array.isArray(remote) ? undefined : asObject(remote, "remote")
}

const startedOn = (runDir: string, position: number) =>
  waitFor(`stage ${position} to start on a runner`, () => {
    const runner = remoteOf(manifestOf(runDir), position)?.["runner"]
    return typeof runner === "string" ? runner : undefined
  }, { timeoutMs: 60_000 })

const deliveriesOf = (manifest: JsonObject, position: number) =>
  asArray(remoteOf(manifest, position)?.["deliveries"] ?? [], "deliveries").map((d) => asString(asObject(d, "delivery")["runner"], "runner"))

const byAddress = (runners: ReadonlyArray<TestRunner>, address: string) => {
  const runner = runners.find((r) => r.address === address)
  if (runner === undefined) throw new Error(`no runner at ${address}`)
  return runner
}

/** Stage processes left under a runner's workspaces (its worktrees are the stages' working directories). */
const stageProcesses = (name: string) => liveProcessesUnder(home.path(`ws-${name}`))

// The runner stops by itself within this once SIGTERM'd, so its finalizers (the hold's release) run.
const stopGrace = { CODEX_CLUSTER_STOP_GRACE: "2 seconds" }

describe("cloud stages when processes die", () => {
  it("an orchestrator killed mid-stage, then resumed, takes the result stored meanwhile: the stage ran once, its output is in the log", async () => {
    const runners = await startRunners(["k1"], ["crash"])
    const repo = committedRepo([pipeline("slow", [
      commandStage("wait", "sleep 3; echo waited on $CODEX_ORCHESTRATOR_RUNNER", { runsOn: ["crash"] }),
      commandStage("after", "echo after", { runsOn: ["crash"] })
    ])])
    try {
      const task = "crashed"
      const cli = spawnCli(["start", "slow", "--cloud", "--task", task, "--format", "json"], { cwd: repo.dir, env: clusterEnv() })
      const runDir = await waitFor("the run folder", () => runDirsOf(repo, task)[0], { timeoutMs: 60_000 })
      const runner = await startedOn(runDir, 0)
      const key = asString(remoteOf(manifestOf(runDir), 0)?.["idempotency_key"], "idempotency_key")
      cli.kill("SIGKILL")
      await cli.exited
      const runId = asString(manifestOf(runDir)["run_id"], "run_id")
      const logs = () => runners.map((r) => r.stderr()).join("")
      await waitFor("the stage to finish on its runner", () => (logs().includes(`wait (run ${runId}) exited 0`) ? true : undefined), { timeoutMs: 30_000 })

      // Without --cloud: a run that ran in cloud resumes in cloud.
      const resumed = await runCli(["resume", "--run", runId, "--task", task, "--format", "json"], { cwd: repo.dir, env: clusterEnv() })
      assert.strictEqual(resumed.code, 0, describeResult(resumed))
      const manifest = manifestOf(runDir)
      assert.strictEqual(manifest["status"], "succeeded")
      const entry = commandAt(manifest, 0)
      assert.strictEqual(entry["exit_code"], 0)
      assert.strictEqual(remoteOf(manifest, 0)?.["idempotency_key"], key, "the resumed stage kept the interrupted attempt's key")
      assert.strictEqual(logs().split(`wait (run ${runId}, attempt`).length - 1, 1, `the stage ran more than once:\n${logs()}`)
      assert.include(stageOutput(repo.path(asString(entry["log_path"], "log_path")), "stdout"), `waited on ${runner}`)
      assert.strictEqual(commandAt(manifest, 1)["exit_code"], 0)
    } finally {
      await stopAll(runners)
      repo.cleanup()
    }
  }, 180_000)

  it("Ctrl-C on the orchestrator leaves no stage process on either runner", async () => {
    const runners = [...await startRunners(["i1"], ["left"]), ...await startRunners(["i2"], ["right"])]
    const repo = committedRepo([pipeline("both", [
      commandStage("l", "sleep 120", { runsOn: ["left"], needs: [] }),
      commandStage("r", "sleep 120", { runsOn: ["right"], needs: [] })
    ])])
    try {
      const task = "interrupted"
      const cli = spawnCli(["start", "both", "--cloud", "--task", task, "--concurrency", "2"], { cwd: repo.dir, env: clusterEnv() })
      await waitFor("a stage process on each runner", () =>
        stageProcesses("i1").length > 0 && stageProcesses("i2").length > 0 ? true : undefined, { timeoutMs: 60_000 })
      cli.kill("SIGINT")
      const result = await cli.done
      assert.strictEqual(result.code, 130, describeResult(result))
      await waitFor("no stage process left on the runners", () =>
        stageProcesses("i1").length === 0 && stageProcesses("i2").length === 0 ? true : undefined, { timeoutMs: 15_000 })
      const runDir = runDirsOf(repo, task)[0] ?? ""
      assert.strictEqual(manifestOf(runDir)["status"], "cancelled")
    } finally {
      await stopAll(runners)
      repo.cleanup()
    }
  }, 180_000)

  it("kill -9 of the runner running a stage: the stage is delivered to the other runner, the run succeeds, both runners recorded", async () => {
    const names = ["x1", "x2"]
    const runners = await startRunners(names, ["lossy"])
    const repo = committedRepo([pipeline("lossy", [commandStage("long", "sleep 4; echo done on $CODEX_ORCHESTRATOR_RUNNER", { runsOn: ["lossy"] })])])
    try {
      const task = "lost-runner"
      const cli = spawnCli(["start", "lossy", "--cloud", "--task", task, "--format", "json"], { cwd: repo.dir, env: clusterEnv() })
      const runDir = await waitFor("the run folder", () => runDirsOf(repo, task)[0], { timeoutMs: 60_000 })
      const first = byAddress(runners, await startedOn(runDir, 0))
      const other = runners.find((r) => r !== first)
      first.cli.kill("SIGKILL")
      await first.cli.exited
      // A machine that is lost takes its processes with it.
      for (const orphan of stageProcesses(names[runners.indexOf(first)] ?? "")) process.kill(orphan.pid, "SIGKILL")
      const result = await cli.done
      assert.strictEqual(result.code, 0, describeResult(result))
      const manifest = manifestOf(runDir)
      assert.strictEqual(commandAt(manifest, 0)["exit_code"], 0)
      assert.deepStrictEqual(deliveriesOf(manifest, 0), [first.address, other?.address])
      assert.strictEqual(remoteOf(manifest, 0)?.["runner"], other?.address)
      const log = repo.path(asString(commandAt(manifest, 0)["log_path"], "log_path"))
      assert.include(stageOutput(log, "stdout"), `done on ${other?.address ?? ""}`)
    } finally {
      await stopAll(runners)
      repo.cleanup()
    }
  }, 180_000)

  it("SIGTERM to the runner running a stage: it finishes the stage, then exits (130) within its grace, leaving no process", async () => {
    const runners = await startRunners(["t1"], ["graceful"])
    const repo = committedRepo([pipeline("graceful", [commandStage("long", "sleep 3; echo done on $CODEX_ORCHESTRATOR_RUNNER", { runsOn: ["graceful"] })])])
    try {
      const task = "stopped-runner"
      const cli = spawnCli(["start", "graceful", "--cloud", "--task", task, "--format", "json"], { cwd: repo.dir, env: clusterEnv() })
      const runDir = await waitFor("the run folder", () => runDirsOf(repo, task)[0], { timeoutMs: 60_000 })
      const runner = byAddress(runners, await startedOn(runDir, 0))
      const stoppedAt = performance.now()
      runner.cli.kill("SIGTERM")
      const exited = await runner.cli.exited
      const stopMs = performance.now() - stoppedAt
      assert.isBelow(stopMs, 20_000, `the runner took ${Math.round(stopMs)} ms to stop`)
      // Stopped by a signal: the command line's "interrupted" code.
      assert.strictEqual(exited.code, 130, `runner exit: ${JSON.stringify(exited)}\n${runner.stderr()}`)
      assert.include(runner.stderr(), `Runner ${runner.address} stopped`)
      assert.deepStrictEqual(stageProcesses("t1"), [])
      const result = await cli.done
      assert.strictEqual(result.code, 0, describeResult(result))
      const manifest = manifestOf(runDir)
      assert.deepStrictEqual(deliveriesOf(manifest, 0), [runner.address])
      const log = repo.path(asString(commandAt(manifest, 0)["log_path"], "log_path"))
      assert.include(stageOutput(log, "stdout"), `done on ${runner.address}`)
    } finally {
      await stopAll(runners)
      repo.cleanup()
    }
  }, 180_000)

  it("a stage that ignores SIGTERM: the runner still exits within its shortened grace (CODEX_CLUSTER_STOP_GRACE), killing the stage's process group", async () => {
    mkdirSync(home.path("ws-g1"), { recursive: true })
    const runner = await startRunner({
      url: database.url,
      cwd: home.dir,
      workspaces: home.path("ws-g1"),
      labels: ["stubborn"],
      env: { ...lockExpiry, CODEX_CLUSTER_STOP_GRACE: "3 seconds" }
    })
    const repo = committedRepo([pipeline("stubborn", [commandStage("deaf", "trap '' TERM; echo deaf; sleep 120", { runsOn: ["stubborn"] })])])
    const cli = spawnCli(["start", "stubborn", "--cloud", "--task", "stubborn"], { cwd: repo.dir, env: clusterEnv() })
    try {
      const runDir = await waitFor("the run folder", () => runDirsOf(repo, "stubborn")[0], { timeoutMs: 60_000 })
      await startedOn(runDir, 0)
      await waitFor("the stage's process", () => (stageProcesses("g1").length > 0 ? true : undefined), { timeoutMs: 30_000 })
      const stoppedAt = performance.now()
      runner.cli.kill("SIGTERM")
      const exited = await runner.cli.exited
      const stopMs = performance.now() - stoppedAt
      // Without the setting the runner waits for the cluster's 15 s, then 5 s more for SIGKILL.
      assert.isBelow(stopMs, 9_000, `the runner took ${Math.round(stopMs)} ms to stop:\n${runner.stderr()}`)
      assert.isAtLeast(stopMs, 2_500, `the runner did not wait for its grace:\n${runner.stderr()}`)
      assert.strictEqual(exited.code, 130, `runner exit: ${JSON.stringify(exited)}\n${runner.stderr()}`)
      assert.include(runner.stderr(), `Runner ${runner.address} did not stop within 3s`)
      assert.include(runner.stderr(), "the process groups of its 1 running stage(s) killed")
      await waitFor("no stage process left", () => (stageProcesses("g1").length === 0 ? true : undefined), { timeoutMs: 5_000 })
    } finally {
      cli.kill("SIGKILL")
      await cli.exited
      await runner.stop()
      repo.cleanup()
    }
  }, 180_000)

  it("a second runner on the folder exits 2 naming the holder while the first keeps running; after kill -9 of the first, a new runner takes it over; SIGTERM releases it", async () => {
    const workspaces = home.path("ws-shared")
    mkdirSync(workspaces, { recursive: true })
    const hold = `${workspaces}/.runner.json`
    const first = await startRunner({ url: database.url, cwd: home.dir, workspaces, env: stopGrace })
    try {
      const record = JSON.parse(readFileSync(hold, "utf8"))
      assert.deepInclude(record, { pid: first.cli.pid, listen: first.address })
      assert.match(record.started, /^\d+$/)

      const second = await runCli(["runner", "--database-url", database.url, "--listen", "127.0.0.1:1", "--workspaces", workspaces], {
        cwd: home.dir
      })
      assert.strictEqual(second.code, 2, describeResult(second))
      const lines = second.stderr.trim().split("\n")
      assert.lengthOf(lines, 1, second.stderr)
      assert.include(lines[0], `--workspaces ${workspaces} is held by the runner ${first.address} (pid ${first.cli.pid} on `)
      assert.include(lines[0], "give this runner --workspaces <another folder>")
      assert.isNull(first.cli.child.exitCode)
      assert.strictEqual(JSON.parse(readFileSync(hold, "utf8")).pid, first.cli.pid)
    } finally {
      first.cli.kill("SIGKILL")
      await first.cli.exited
    }

    const third = await startRunner({ url: database.url, cwd: home.dir, workspaces, env: stopGrace })
    assert.include(third.stderr(), `Taking over ${workspaces} from a previous runner: its runner ${first.address} (pid ${first.cli.pid}) is gone`)
    assert.strictEqual(JSON.parse(readFileSync(hold, "utf8")).pid, third.cli.pid)
    await stopProcess(third.cli, 15_000)
    assert.strictEqual((await third.cli.exited).signal, null, third.stderr())
    assert.isFalse(existsSync(hold), third.stderr())
  }, 90_000)
})
