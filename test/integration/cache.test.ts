/**
 * The stage cache end to end (DECISIONS B-5): the built CLI runs a 2-stage pipeline with real shell
 * stages twice in a temporary repository; the second run replays both (no process: the stages append
 * to a file that does not grow), restores the outputs and says hit in the manifest. Two processes
 * filling the same keys at once leave one valid entry per key. Also: --no-cache, plan
 * --explain-cache, cache stats/prune, and bad input (exit 2).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, beforeAll, describe, it } from "vitest"
import {
  asArray,
  asObject,
  asString,
  commandAt,
  commandStage,
  describeResult,
  parseJson,
  pipeline,
  requireBuiltCli,
  runCli,
  stageOutput,
  startJson,
  type TempRepo,
  withRepo
} from "../support/cli.js"
import { outputBytes } from "../../src/domain/RunLog.js"
import { makeGitRepo } from "../support/gitRepo.js"

beforeAll(requireBuiltCli)

// Each stage appends to ran.txt, so the file says which stages really ran.
const config = {
  pipelines: [
    pipeline("gate", [
      commandStage("build", "echo build >> ran.txt; mkdir -p dist && tr a-z A-Z < src/in.txt > dist/out.txt; echo compiled", {
        cache: { inputs: ["src/**"], env: ["FLAVOUR"], outputs: ["dist/**"] }
      }),
      commandStage("test", "echo test >> ran.txt; cat dist/out.txt; echo checked >&2", { cache: { inputs: ["dist/**"] } })
    ])
  ]
}

const ran = (repo: TempRepo) => (existsSync(repo.path("ran.txt")) ? readFileSync(repo.path("ran.txt"), "utf8").trim().split("\n") : [])
const cacheOf = (manifest: Parameters<typeof commandAt>[0], position: number) => asObject(commandAt(manifest, position)["cache"], "cache")
const entriesDir = (repo: TempRepo) => repo.path(".runs", ".cache", "entries")

describe("start: the stage cache (B-5)", () => {
  it("many inputs in a git repository: git's ids of committed files equal the hashes of the same files uncommitted", async () => {
    const files = Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`gen/f${i}.txt`, `file ${i}\n`]))
    const gitConfig = { pipelines: [pipeline("many", [commandStage("sum", "cat gen/*.txt | wc -l", { cache: { inputs: ["gen/*.txt"] } })])] }
    const repo = makeGitRepo({ "codex.orchestrator.json": JSON.stringify(gitConfig), ".gitignore": ".runs/\n" })
    try {
      repo.write(files)
      const verdict = async () => {
        const plan = await repo.cli(["plan", "many", "--explain-cache", "--format", "json"])
        assert.strictEqual(plan.code, 0, describeResult(plan))
        return asObject(asArray(asObject(parseJson(plan.stdout), "plan")["cache"], "cache")[0], "verdict")
      }
      const first = await repo.cli(["start", "many"])
      assert.strictEqual(first.code, 0, describeResult(first))
      assert.strictEqual((await verdict())["status"], "hit", "untracked inputs, hashed")
      repo.commit("inputs", {})
      assert.strictEqual((await verdict())["status"], "hit", "committed: the ids git gives are the same")
      writeFileSync(repo.path("gen", "f3.txt"), "changed\n")
      assert.deepStrictEqual([(await verdict())["status"], (await verdict())["changed"]], ["miss", ["input gen/f3.txt changed"]])
    } finally {
      repo.cleanup()
    }
  })

  it("the second run replays both stages: no process, outputs restored, manifest says hit", async () => {
    await withRepo(config, async (repo) => {
      mkdirSync(repo.path("src"))
      writeFileSync(repo.path("src", "in.txt"), "hello\n")
      const explained = await runCli(["plan", "gate", "--explain-cache", "--format", "json"], { cwd: repo.dir })
      assert.strictEqual(explained.code, 0, describeResult(explained))
      assert.isFalse(existsSync(repo.path(".runs", ".cache", "key")), "plan --explain-cache writes no HMAC key file")

      const first = await startJson(repo, ["gate"])
      assert.strictEqual(first.result.code, 0, describeResult(first.result))
      assert.deepStrictEqual(ran(repo), ["build", "test"])
      assert.strictEqual(cacheOf(first.manifest, 0)["hit"], false)

      rmSync(repo.path("dist"), { recursive: true })
      const second = await startJson(repo, ["gate"])
      assert.strictEqual(second.result.code, 0, describeResult(second.result))
      assert.deepStrictEqual(ran(repo), ["build", "test"], "no stage ran again")
      assert.strictEqual(readFileSync(repo.path("dist", "out.txt"), "utf8"), "HELLO\n", "the output is restored")
      for (const position of [0, 1]) {
        const cache = cacheOf(second.manifest, position)
        assert.deepStrictEqual([cache["hit"], cache["from_run"], cache["key"]], [true, first.output["run_id"], cacheOf(first.manifest, position)["key"]])
        assert.strictEqual(commandAt(second.manifest, position)["status"], "succeeded")
      }
      const testLog = repo.path(asString(commandAt(second.manifest, 1)["log_path"], "log"))
      assert.strictEqual(stageOutput(testLog, "stdout"), "HELLO\n", "the recorded output is replayed into this run's log")
      assert.strictEqual(stageOutput(testLog, "stderr"), "checked\n")
      assert.include(second.result.stderr, "cache hit")

      // --no-cache runs both; an input change runs build, whose output is the same, so test hits.
      const bypassed = await startJson(repo, ["gate", "--no-cache"])
      assert.strictEqual(bypassed.result.code, 0, describeResult(bypassed.result))
      assert.deepStrictEqual(ran(repo), ["build", "test", "build", "test"])
      assert.isUndefined(commandAt(bypassed.manifest, 0)["cache"])
      const plan = await runCli(["plan", "gate", "--explain-cache", "--format", "json"], { cwd: repo.dir, env: { FLAVOUR: "spicy" } })
      assert.strictEqual(plan.code, 0, describeResult(plan))
      const verdicts = asArray(asObject(parseJson(plan.stdout), "plan")["cache"], "cache").map((v) => asObject(v, "verdict"))
      assert.deepStrictEqual(verdicts.map((v) => [v["stage"], v["status"], v["changed"]]), [
        ["build", "miss", ["env FLAVOUR changed"]],
        ["test", "hit", []]
      ])
      const planText = await runCli(["plan", "gate", "--explain-cache"], { cwd: repo.dir })
      assert.include(planText.stdout, "Cache:\n  build: hit ")

      const stats = await runCli(["cache", "stats", "--format", "json"], { cwd: repo.dir })
      assert.strictEqual(asObject(parseJson(stats.stdout), "stats")["entries"], 2, describeResult(stats))
      const pruned = await runCli(["cache", "prune", "--all", "--format", "json"], { cwd: repo.dir })
      assert.deepStrictEqual([asObject(parseJson(pruned.stdout), "prune")["removed"], readdirSync(entriesDir(repo)).length], [2, 0])
    })
  })

  it("output that is not UTF-8 is kept byte for byte in the stage log (LOG-1), and a hit replays the same bytes", async () => {
    // FF FE are never UTF-8; C3 A9 is "é"; E2 82 is cut short by "B", and again by the end of the output.
    const printed = Uint8Array.of(0xff, 0xfe, 0x41, 0xc3, 0xa9, 0xe2, 0x82, 0x42, 0x0a, 0xe2, 0x82)
    const command = "printf '\\377\\376A\\303\\251\\342\\202B\\n\\342\\202'"
    const binary = { pipelines: [pipeline("bin", [commandStage("raw", command, { cache: { inputs: [] } })])] }
    await withRepo(binary, async (repo) => {
      const bytesLogged = (manifest: Parameters<typeof commandAt>[0]) =>
        outputBytes(stageOutput(repo.path(asString(commandAt(manifest, 0)["log_path"], "log")), "stdout"))
      const first = await startJson(repo, ["bin"])
      assert.strictEqual(first.result.code, 0, describeResult(first.result))
      assert.deepStrictEqual(bytesLogged(first.manifest), printed)
      const second = await startJson(repo, ["bin"])
      assert.strictEqual(cacheOf(second.manifest, 0)["hit"], true, describeResult(second.result))
      assert.deepStrictEqual(bytesLogged(second.manifest), printed)
    })
  })

  it("two processes filling the same keys at once leave one valid entry per key", async () => {
    const slow = {
      pipelines: [pipeline("gate", [
        // Long enough that both processes are inside it at once, however slowly each one started.
        commandStage("one", "sleep 3; echo one >> ran.txt; echo one", { cache: { inputs: ["*.txt"] } }),
        commandStage("two", "echo two >> ran.txt; echo two", { cache: {} })
      ])]
    }
    await withRepo(slow, async (repo) => {
      writeFileSync(repo.path("seed.txt"), "seed\n")
      const [a, b] = await Promise.all([startJson(repo, ["gate"]), startJson(repo, ["gate"])])
      assert.strictEqual(a.result.code, 0, describeResult(a.result))
      assert.strictEqual(b.result.code, 0, describeResult(b.result))
      assert.deepStrictEqual(ran(repo).filter((stage) => stage === "one"), ["one", "one"], "both filled stage one's key")
      const entries = readdirSync(entriesDir(repo))
      assert.strictEqual(entries.length, 2, entries.join(", "))
      for (const key of entries) {
        const meta = asObject(parseJson(readFileSync(join(entriesDir(repo), key, "meta.json"), "utf8")), "meta")
        assert.strictEqual(meta["key"], key)
      }
      assert.deepStrictEqual(readdirSync(repo.path(".runs", ".cache", "tmp")), [], "no half-written entry is left")
      rmSync(repo.path("ran.txt"))
      const third = await startJson(repo, ["gate"])
      assert.deepStrictEqual([cacheOf(third.manifest, 0)["hit"], cacheOf(third.manifest, 1)["hit"], ran(repo)], [true, true, []])
    })
  })

  it("bad input is exit 2 with one line naming it: a cache field, CODEX_ORCHESTRATOR_CACHE", async () => {
    const bad = { pipelines: [pipeline("p", [commandStage("s", "true", { cache: { inputs: ["../up/*"] } })])] }
    await withRepo(bad, async (repo) => {
      const result = await runCli(["start", "p"], { cwd: repo.dir })
      assert.strictEqual(result.code, 2, describeResult(result))
      assert.include(result.stderr, "pipelines.0.stages.0.cache.inputs.0 (pipeline \"p\", stage \"s\"): must stay inside the stage's folder")
      assert.isFalse(existsSync(repo.path(".runs", "0101")), "nothing written")
    })
    await withRepo(config, async (repo) => {
      const result = await runCli(["start", "gate"], { cwd: repo.dir, env: { CODEX_ORCHESTRATOR_CACHE: "sometimes" } })
      assert.strictEqual(result.code, 2, describeResult(result))
      assert.include(result.stderr, "CODEX_ORCHESTRATOR_CACHE=\"sometimes\" is not on or off")
    })
  })
})
