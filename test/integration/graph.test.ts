/**
 * The stage graph on the built CLI with real processes (DECISIONS B-2, D-1, D-8): an 8-stage graph,
 * SIGINT with 4 stages running, 16 stages finishing together, graph errors before anything runs, and
 * `plan --format json|mermaid`.
 */
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, beforeAll, describe, it } from "vitest"
import {
  asArray,
  asObject,
  asString,
  commandStage,
  describeResult,
  type JsonObject,
  liveProcessesUnder,
  parseJson,
  pipeline,
  readJson,
  requireBuiltCli,
  runCli,
  runDirsOf,
  spawnCli,
  startJson,
  waitFor,
  withRepo
} from "../support/cli.js"

beforeAll(requireBuiltCli)

const task = "graph-it"

const entries = (manifest: JsonObject) => asArray(manifest["commands"], "commands").map((c, i) => asObject(c, `commands[${i}]`))

describe.concurrent("stage graph on the CLI (B-2)", () => {
  it("runs an 8-stage graph: dependents after their needs, entries in pipeline order with needs", () =>
    withRepo({
      pipelines: [pipeline("eight", [
        commandStage("a", "echo a >> order.txt", { needs: [] }),
        ...["b", "c", "d", "e", "f", "g"].map((id) => commandStage(id, `sleep 0.2; echo ${id} >> order.txt`, { needs: ["a"] })),
        commandStage("h", "echo h >> order.txt", { needs: ["b", "c", "d", "e", "f", "g"] })
      ])]
    }, async (repo) => {
      const run = await startJson(repo, ["eight", "--task", task, "--concurrency", "8"])
      assert.strictEqual(run.result.code, 0, describeResult(run.result))
      const order = readFileSync(repo.path("order.txt"), "utf8").trim().split("\n")
      assert.strictEqual(order[0], "a")
      assert.strictEqual(order[7], "h")
      assert.sameMembers(order.slice(1, 7), ["b", "c", "d", "e", "f", "g"])
      const commands = entries(run.manifest)
      assert.deepStrictEqual(commands.map((c) => c["id"]), ["a", "b", "c", "d", "e", "f", "g", "h"])
      assert.deepStrictEqual(commands[7]?.["needs"], ["b", "c", "d", "e", "f", "g"])
      const summary = readJson(join(run.runDir, "run-summary.json"))
      assert.strictEqual(asArray(asObject(summary["criticalPath"], "criticalPath")["stages"], "stages")[0], "a")
    }))

  it("SIGINT with 4 stages running leaves no process and 4 cancelled entries (D-8)", () =>
    withRepo({
      pipelines: [pipeline("four", [
        ...["w", "x", "y", "z"].map((id) => commandStage(id, `echo go > ${id}.started; sleep 61.5`, { needs: [] })),
        commandStage("after", "echo after > after.txt", { needs: ["w"] })
      ])]
    }, async (repo) => {
      const cli = spawnCli(["start", "four", "--task", task, "--format", "json", "--concurrency", "4"], { cwd: repo.dir })
      const runDir = await waitFor("the run folder", () => runDirsOf(repo, task)[0])
      await waitFor("all four stages running", () => {
        const m = readJson(join(runDir, "manifest.json"))
        const started = ["w", "x", "y", "z"].every((id) => existsSync(repo.path(`${id}.started`)))
        return started && entries(m).filter((c) => c["status"] === "running").length === 4 ? true : undefined
      })
      cli.kill("SIGINT")
      const result = await cli.done
      assert.strictEqual(result.code, 130, describeResult(result))
      const manifest = readJson(join(runDir, "manifest.json"))
      assert.strictEqual(manifest["status"], "cancelled")
      assert.deepStrictEqual(entries(manifest).map((c) => c["status"]), ["cancelled", "cancelled", "cancelled", "cancelled", "pending"])
      await waitFor("no stage process left", () => (liveProcessesUnder(repo.dir).length === 0 ? true : undefined), { timeoutMs: 10_000 })
      assert.isFalse(existsSync(repo.path("after.txt")))
    }))

  it("16 stages finishing together leave 16 final entries", () =>
    withRepo({
      pipelines: [pipeline("sixteen", Array.from({ length: 16 }, (_, i) => commandStage(`s${i}`, "sleep 0.3", { needs: [] })))]
    }, async (repo) => {
      const run = await startJson(repo, ["sixteen", "--task", task, "--concurrency", "16"])
      assert.strictEqual(run.result.code, 0, describeResult(run.result))
      const commands = entries(run.manifest)
      assert.strictEqual(commands.length, 16)
      assert.isTrue(commands.every((c) => c["status"] === "succeeded" && typeof c["completed_at"] === "string"), JSON.stringify(commands))
    }))

  it("a cycle and an unknown need are refused at once, exit 2, nothing written (D-1)", () =>
    withRepo({
      pipelines: [pipeline("bad", [
        commandStage("a", "echo a", { needs: ["c"] }),
        commandStage("b", "echo b", { needs: ["a", "ghost"] }),
        commandStage("c", "echo c", { needs: ["b"] })
      ])]
    }, async (repo) => {
      const result = await runCli(["start", "bad", "--task", task], { cwd: repo.dir })
      assert.strictEqual(result.code, 2, describeResult(result))
      assert.include(result.stderr, "needs form a cycle: a -> c -> b -> a")
      assert.include(result.stderr, "stage \"b\" needs unknown stage \"ghost\"")
      assert.isFalse(existsSync(repo.path(".runs")))
    }))

  it("a --target that excludes a need is refused, exit 2, naming it", () =>
    withRepo({
      pipelines: [pipeline("t", [commandStage("a", "echo a", { needs: [] }), commandStage("b", "echo b", { needs: ["a"] })])]
    }, async (repo) => {
      const result = await runCli(["start", "t", "--task", task, "--target", "b"], { cwd: repo.dir })
      assert.strictEqual(result.code, 2, describeResult(result))
      assert.include(result.stderr, "--target b excludes 'a'")
      assert.isFalse(existsSync(repo.path(".runs")))
    }))

  it("plan --format json gives nodes and edges; --format mermaid a flowchart", () =>
    withRepo({
      pipelines: [pipeline("d", [
        commandStage("a", "echo a", { needs: [] }),
        commandStage("b", "echo b", { needs: ["a"] }),
        commandStage("c", "echo c", { needs: ["a"], lock: "dist" })
      ])]
    }, async (repo) => {
      const json = await runCli(["plan", "d", "--task", task, "--format", "json"], { cwd: repo.dir })
      assert.strictEqual(json.code, 0, describeResult(json))
      const graph = asObject(asObject(parseJson(json.stdout), "stdout")["graph"], "graph")
      assert.deepStrictEqual(graph["edges"], [{ from: "a", to: "b" }, { from: "a", to: "c" }])
      assert.deepStrictEqual(graph["levels"], [["a"], ["b", "c"]])
      assert.strictEqual(asString(asObject(asArray(graph["nodes"], "nodes")[2], "node")["lock"], "lock"), "dist")
      const mermaid = await runCli(["plan", "d", "--task", task, "--format", "mermaid"], { cwd: repo.dir })
      assert.strictEqual(mermaid.stdout, [
        "flowchart TD",
        "  s1[\"a: Stage a\"]",
        "  s2[\"b: Stage b\"]",
        "  s3[\"c: Stage c\"]",
        "  s1 --> s2",
        "  s1 --> s3",
        ""
      ].join("\n"))
      const text = await runCli(["plan", "d", "--task", task], { cwd: repo.dir })
      assert.include(text.stdout, "Levels (stages of a level may run at once):\n  1. a\n  2. b, c")
    }))
})
