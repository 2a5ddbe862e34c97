/**
 * `cloud` stages on real runners (issue 18): an embedded PostgreSQL started here on a loopback
 * port, two `codex-orchestrator runner` processes with their own workspaces, and the orchestrator
 * with CODEX_CLUSTER_DATABASE_URL. One database and the runners are shared by the cases.
 */
import { execFileSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { asArray, asObject, asString, commandStage, describeResult, listDir, makeTempRepo, pipeline, requireBuiltCli, runCli, stageOutput, startJson, type TempRepo, waitFor } from "../support/cli.js"
import { freePort, startDatabase, startRunner, type TestDatabase, type TestRunner } from "../support/clusterProcesses.js"

let database: TestDatabase
let runners: ReadonlyArray<TestRunner> = []
let home: TempRepo

beforeAll(async () => {
  requireBuiltCli()
  home = makeTempRepo()
  database = await startDatabase()
  runners = await Promise.all(["a", "b"].map((name) => {
    mkdirSync(home.path(`ws-${name}`), { recursive: true })
    return startRunner({ url: database.url, cwd: home.dir, workspaces: home.path(`ws-${name}`), capacity: 4, labels: name === "b" ? ["special"] : [] })
  }))
}, 120_000)

afterAll(async () => {
  await Promise.all(runners.map((runner) => runner.stop()))
  await database?.stop()
  home?.cleanup()
}, 60_000)

const git = (cwd: string, ...args: ReadonlyArray<string>) =>
  execFileSync("git", ["-c", "user.name=test", "-c", "user.email=test@example.com", ...args], { cwd, stdio: "pipe" })

const clusterEnv = () => ({ CODEX_CLUSTER_DATABASE_URL: database.url })

describe("cloud stages on cluster runners", () => {
  it("a 3-stage cloud pipeline runs on the runners in worktrees of the repository with its uncommitted changes: runner ids printed, exit codes 0/3/0 recorded", async () => {
    const show = "echo $0 on $CODEX_ORCHESTRATOR_RUNNER; cat notes.txt; pwd; echo $0 > stray-$0.txt"
    const repo = makeTempRepo({
      pipelines: [pipeline("remote", [
        commandStage("one", `sh -c '${show}' one`),
        commandStage("two", `sh -c '${show}' two; exit 3`, { allowFailure: true }),
        commandStage("three", `sh -c '${show}' three`, { runsOn: ["special"], cwd: "sub" })
      ])]
    })
    try {
      // A repository with a commit, then changes not committed: a changed file and a new one.
      mkdirSync(repo.path("sub"))
      writeFileSync(repo.path("notes.txt"), "committed\n")
      writeFileSync(repo.path("sub", "notes.txt"), "committed in sub\n")
      git(repo.dir, "init", "-q")
      git(repo.dir, "add", "-A")
      git(repo.dir, "commit", "-q", "-m", "base")
      writeFileSync(repo.path("notes.txt"), "uncommitted change\n")
      writeFileSync(repo.path("sub", "notes.txt"), "new in sub, not committed\n")
      // The first run on cold runners: the output of every stage, the first one included, comes back.
      const run = await startJson(repo, ["remote", "--cloud", "--task", "cl"], clusterEnv())
      assert.strictEqual(run.result.code, 0, describeResult(run.result))
      assert.strictEqual(run.manifest["cloud_fallback_reason"], null)
      const entries = asArray(run.manifest["commands"], "commands").map((entry) => asObject(entry, "entry"))
      assert.deepStrictEqual(entries.map((entry) => entry["exit_code"]), [0, 3, 0])
      const addresses = runners.map((runner) => runner.address)
      for (const [i, entry] of entries.entries()) {
        const remote = asObject(entry["remote"], "remote")
        const runner = asString(remote["runner"], "runner")
        assert.include(addresses, runner)
        assert.strictEqual(remote["executor"], "cluster")
        const id = asString(entry["id"], "id")
        const [said, notes, pwd] = stageOutput(repo.path(asString(entry["log_path"], "log_path")), "stdout").split("\n")
        assert.strictEqual(said, `${id} on ${runner}`, `stage ${i}`)
        assert.strictEqual(notes, id === "three" ? "new in sub, not committed" : "uncommitted change")
        // In a worktree under the runner's --workspaces, at the stage's cwd; afterwards removed, or
        // made as new again for the runner's next stage of this commit and changes (its file gone).
        const workspaces = home.path(`ws-${runner === runners[0]?.address ? "a" : "b"}`, "worktrees")
        assert.isTrue(pwd?.startsWith(`${workspaces}/`), `${pwd} is not under ${workspaces}`)
        assert.isTrue(id !== "three" || pwd?.endsWith("/sub"), pwd)
        await waitFor(`${pwd}/stray-${id}.txt to go`, () => (existsSync(`${pwd}/stray-${id}.txt`) ? undefined : true), { timeoutMs: 10_000 })
        assert.isTrue(!existsSync(pwd ?? "") || readFileSync(`${pwd}/notes.txt`, "utf8") === notes + "\n", `${pwd} is not as new`)
      }
      // `special` is only on runner b.
      assert.strictEqual(asObject(entries[2]?.["remote"], "remote")["runner"], runners[1]?.address)
      // node-postgres warns when statements overlap on one connection (the shard locks' reserved one).
      for (const runner of runners) assert.notMatch(runner.stderr(), /DeprecationWarning/)
    } finally {
      repo.cleanup()
    }
  })

  it("bad cluster settings are bad input: one line naming the setting, exit 2, no run written", async () => {
    const repo = makeTempRepo({ pipelines: [pipeline("remote", [commandStage("one", "echo one")])] })
    try {
      const nobody = `postgres://postgres:test@127.0.0.1:${await freePort()}/postgres`
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, Readonly<Record<string, string>>, RegExp]> = [
        [["start", "remote", "--cloud", "--task", "bad"], { CODEX_CLUSTER_DATABASE_URL: "mysql://x@y/z" }, /CODEX_CLUSTER_DATABASE_URL="mysql:\/\/x@y\/z" is not a PostgreSQL URL/],
        [["start", "remote", "--cloud", "--task", "bad"], { CODEX_CLUSTER_DATABASE_URL: nobody }, /cannot reach the cluster database/],
        [["start", "remote", "--cloud", "--task", "bad"], { CODEX_CLUSTER_DATABASE_URL: database.url, CODEX_CLUSTER_LOCK_EXPIRY: "soon" }, /CODEX_CLUSTER_LOCK_EXPIRY="soon" is not a duration/],
        [["runner", "--database-url", nobody, "--listen", "127.0.0.1:1"], {}, /cannot reach the cluster database/],
        [["runner", "--database-url", database.url, "--listen", "nowhere"], {}, /--listen nowhere is not host:port/],
        [["runner", "--database-url", database.url, "--labels", "GPU"], {}, /--labels: "GPU" is not a label/]
      ]
      for (const [args, env, message] of cases) {
        const result = await runCli(args, { cwd: repo.dir, env })
        assert.strictEqual(result.code, 2, `${args.join(" ")}\n${describeResult(result)}`)
        assert.match(result.stderr, message)
        assert.strictEqual(result.stderr.trim().split("\n").filter((line) => line.startsWith("error:")).length, 1, result.stderr)
        assert.strictEqual(result.stdout, "")
        // A runner that cannot serve never says it is ready (it did, before its error).
        assert.notMatch(result.stderr, /\bready\b/, result.stderr)
      }
      assert.deepStrictEqual(listDir(repo.path(".runs")), [])
    } finally {
      repo.cleanup()
    }
  })

  it("plan does not connect to the cluster: with the URL of a database nobody serves it plans, exit 0", async () => {
    const repo = makeTempRepo({ pipelines: [pipeline("remote", [commandStage("one", "echo one")])] })
    try {
      const nobody = `postgres://postgres:test@127.0.0.1:${await freePort()}/postgres`
      const result = await runCli(["plan", "remote", "--format", "json"], { cwd: repo.dir, env: { CODEX_CLUSTER_DATABASE_URL: nobody } })
      assert.strictEqual(result.code, 0, describeResult(result))
      assert.include(result.stdout, "\"one\"")
      assert.notMatch(result.stderr, /cluster/)
    } finally {
      repo.cleanup()
    }
  })

  it("uncommitted changes beyond 16 MiB fail the stage with the reason (commit them), and nothing runs", async () => {
    const repo = makeTempRepo({ pipelines: [pipeline("remote", [commandStage("one", "echo ran")])] })
    try {
      git(repo.dir, "init", "-q")
      git(repo.dir, "add", "-A")
      git(repo.dir, "commit", "-q", "-m", "base")
      writeFileSync(repo.path("big.bin"), randomBytes(17 * 1024 * 1024))
      const run = await startJson(repo, ["remote", "--cloud", "--task", "big"], clusterEnv())
      assert.strictEqual(run.result.code, 1, describeResult(run.result))
      const entry = asObject(asArray(run.manifest["commands"], "commands")[0], "entry")
      assert.strictEqual(entry["status"], "failed")
      assert.match(run.result.stderr, /uncommitted changes are more than 16 MiB.*commit them/)
      assert.strictEqual(stageOutput(repo.path(asString(entry["log_path"], "log_path")), "stdout"), "")
    } finally {
      repo.cleanup()
    }
  })
})
