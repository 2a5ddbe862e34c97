/**
 * TF-GRPO end to end (SPEC TFG-1..4, PER-4, MET-1): the built CLI with TFGRPO_EPOCH and
 * TFGRPO_GROUP_ID records the manifest's tfgrpo section, appends an experience to
 * out/<task>/experiences.jsonl, and the next run's prompt pack entry shows that experience.
 */
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { assert, beforeAll, describe, it } from "vitest"
import {
  asArray,
  asObject,
  asString,
  commandStage,
  describeResult,
  type JsonObject,
  parseJson,
  pipeline,
  readNdjson,
  requireBuiltCli,
  startJson,
  type TempRepo,
  withRepo
} from "../support/cli.js"

beforeAll(requireBuiltCli)

const config = {
  pipelines: [pipeline("tf", [commandStage("build", "printf 'compiled three files\\nall good\\nignored line\\n'"), commandStage("check", "echo ok")])]
}

const systemRel = ".agent/prompts/impl.md"
const systemContent = "# Implementation\nBe precise.\n"
const stamp = createHash("sha256").update(`system:${systemRel}\n${systemContent.trim()}\n`, "utf8").digest("hex")

const writePack = (repo: TempRepo) => {
  mkdirSync(repo.path(".agent", "prompts", "prompt-packs", "impl"), { recursive: true })
  writeFileSync(repo.path(systemRel), systemContent)
  writeFileSync(
    repo.path(".agent", "prompts", "prompt-packs", "impl", "manifest.json"),
    `${JSON.stringify({ id: "impl-pack", domain: "implementation", stamp, experienceSlots: 3, system: systemRel }, null, 2)}\n`
  )
}

const env = { TFGRPO_EPOCH: "1", TFGRPO_GROUP_ID: "g1" }

const experiencesOf = (repo: TempRepo): ReadonlyArray<JsonObject> => {
  const file = repo.path("out", "t", "experiences.jsonl")
  return existsSync(file) ? readNdjson(file) : []
}

describe("TF-GRPO through the CLI", () => {
  it("records tfgrpo and an experience; the next run's prompt pack shows it", () =>
    withRepo(config, async (repo) => {
      writePack(repo)
      const first = await startJson(repo, ["tf", "--task", "t"], env)
      assert.strictEqual(first.result.code, 0, describeResult(first.result))
      assert.strictEqual(first.manifest["status"], "succeeded")

      const tfgrpo = asObject(first.manifest["tfgrpo"], "manifest.tfgrpo")
      assert.strictEqual(tfgrpo["epoch"], 1)
      assert.strictEqual(tfgrpo["group_id"], "g1")
      assert.strictEqual(tfgrpo["group_size"], null)
      const metrics = asObject(tfgrpo["tool_metrics"], "tool_metrics")
      assert.strictEqual(metrics["tool_calls"], 2)
      assert.strictEqual(metrics["token_total"], 8, "compiled three files all good ignored line, then ok")
      assert.strictEqual(metrics["cost_usd"], 0.000016)
      const perTool = asArray(metrics["per_tool"], "per_tool").map((m, i) => asObject(m, `per_tool[${i}]`))
      assert.deepStrictEqual(perTool.map((m) => [m["tool"], m["tokens"], m["status"], m["attempts"]]), [
        ["build", 7, "succeeded", 1],
        ["check", 1, "succeeded", 1]
      ])

      const [experience, ...more] = experiencesOf(repo)
      assert.strictEqual(more.length, 0)
      assert(experience !== undefined, "out/t/experiences.jsonl has the run's experience")
      const id = asString(experience["id"], "experience id")
      assert.match(id, /^exp-[0-9a-z]+-[0-9a-f]{6}$/)
      assert.strictEqual(experience["runId"], first.output["run_id"])
      assert.strictEqual(experience["taskId"], "t")
      assert.strictEqual(experience["epoch"], 1)
      assert.strictEqual(experience["groupId"], "g1")
      assert.strictEqual(experience["summary32"], "compiled three files all good")
      assert.deepStrictEqual(experience["reward"], { gtScore: 0, relativeRank: 0 })
      assert.strictEqual(experience["stampSignature"], stamp)
      assert.strictEqual(experience["domain"], "implementation")
      assert.strictEqual(experience["manifestPath"], first.output["manifest"])
      assert.deepStrictEqual(tfgrpo["experiences"], {
        ids: [id],
        written: 1,
        manifest_path: asString(first.output["manifest"], "manifest")
      })
      assert.isFalse(existsSync(repo.path(".runs", "t.experiences.lock")), "the lock is released")
      const firstPack = asObject(asArray(first.manifest["prompt_packs"], "prompt_packs")[0], "prompt_packs[0]")
      assert.isFalse("experiences" in firstPack, "no experiences yet: no field")

      const metricsLine = asObject(
        parseJson(readFileSync(repo.path(".runs", "t", "metrics.json"), "utf8").split("\n")[0] ?? ""),
        "metrics line"
      )
      assert.strictEqual(metricsLine["tfgrpo_epoch"], 1)
      assert.strictEqual(metricsLine["tfgrpo_group_id"], "g1")
      assert.strictEqual(metricsLine["token_total"], 8)
      assert.isTrue(existsSync(repo.path(".runs", "t", "metrics", "per-epoch.json")))

      const second = await startJson(repo, ["tf", "--task", "t"], env)
      assert.strictEqual(second.result.code, 0, describeResult(second.result))
      const secondPack = asObject(asArray(second.manifest["prompt_packs"], "prompt_packs")[0], "prompt_packs[0]")
      const latency = asObject(perTool[0], "build metric")["latencyMs"]
      const latencyCheck = asObject(perTool[1], "check metric")["latencyMs"]
      assert.deepStrictEqual(secondPack["experiences"], [
        `[exp ${id} | epoch 1 | reward 0.00] compiled three files all good ` +
        `(stats: build: 7t/0.000usd/${String(latency)}ms; check: 1t/0.000usd/${String(latencyCheck)}ms)`
      ])
      assert.strictEqual(experiencesOf(repo).length, 2, "the second run wrote its own")
    }))

  it("without TFGRPO variables: tfgrpo is null and nothing is written to experiences.jsonl", () =>
    withRepo(config, async (repo) => {
      writePack(repo)
      const run = await startJson(repo, ["tf", "--task", "t"])
      assert.strictEqual(run.result.code, 0, describeResult(run.result))
      assert.strictEqual(run.manifest["tfgrpo"], null)
      assert.deepStrictEqual(experiencesOf(repo), [])
    }))
})
