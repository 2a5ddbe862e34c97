/**
 * Prompt packs end to end (SPEC INS-4, INS-5, MAN-3, DECISIONS D-1): the built CLI records a valid
 * pack in the manifest, and refuses to start (exit 2, nothing written) on a pack whose stamp is wrong
 * or on a TFGRPO_EXPERIENCE_MAX_WORDS above the guardrail.
 */
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, writeFileSync } from "node:fs"
import { assert, beforeAll, describe, it } from "vitest"
import {
  commandStage,
  type CliResult,
  describeResult,
  listDir,
  pipeline,
  requireBuiltCli,
  runCli,
  startJson,
  type TempRepo,
  withRepo
} from "../support/cli.js"

beforeAll(requireBuiltCli)

const config = { pipelines: [pipeline("p", [commandStage("one", "echo one")])] }

const manifestRel = ".agent/prompts/prompt-packs/impl/manifest.json"
const systemRel = ".agent/prompts/system.md"
const systemContent = "# System\nBe precise.\n"
/** INS-4 by hand: one source, `system:<path>\n<trimmed content>\n`. */
const stamp = createHash("sha256").update(`system:${systemRel}\n${systemContent.trim()}\n`, "utf8").digest("hex")

const writePack = (repo: TempRepo, declared: string) => {
  mkdirSync(repo.path(".agent", "prompts", "prompt-packs", "impl"), { recursive: true })
  writeFileSync(repo.path(systemRel), systemContent)
  writeFileSync(
    repo.path(manifestRel),
    `${JSON.stringify({ id: "impl-pack", domain: "implementation", stamp: declared, experienceSlots: 1, system: systemRel }, null, 2)}\n`
  )
}

/** Bad input: exit 2, one `error:` line, empty stdout, and no .runs folder. Returns the error line. */
const assertRefused = (result: CliResult, repo: TempRepo, before: ReadonlyArray<string>): string => {
  assert.strictEqual(result.code, 2, describeResult(result))
  const errorLine = result.stderr.split("\n").find((line) => line.startsWith("error: "))
  assert.isDefined(errorLine, `no "error: " line\n${describeResult(result)}`)
  assert.strictEqual(result.stdout, "", "stdout must stay empty on bad input")
  assert.isFalse(existsSync(repo.path(".runs")), ".runs was created")
  assert.deepStrictEqual(listDir(repo.dir), before, "files were written into the repository")
  return errorLine ?? ""
}

describe.concurrent("prompt packs", () => {
  it("a valid pack is recorded in the manifest's prompt_packs", () =>
    withRepo(config, async (repo) => {
      writePack(repo, stamp)
      const { result, manifest } = await startJson(repo, ["p", "--task", "t"])
      assert.strictEqual(result.code, 0, describeResult(result))
      assert.deepStrictEqual(manifest["prompt_packs"], [{
        id: "impl-pack",
        domain: "implementation",
        stamp,
        experience_slots: 1,
        sources: [systemRel]
      }])
    }))

  it("no packs folder: prompt_packs is empty", () =>
    withRepo(config, async (repo) => {
      const { result, manifest } = await startJson(repo, ["p", "--task", "t"])
      assert.strictEqual(result.code, 0, describeResult(result))
      assert.deepStrictEqual(manifest["prompt_packs"], [])
    }))

  it("a wrong stamp is bad input: exit 2, the error names the manifest and the stamp to set, nothing written", () =>
    withRepo(config, async (repo) => {
      writePack(repo, "0".repeat(64))
      const before = listDir(repo.dir)
      const result = await runCli(["start", "p", "--task", "t", "--format", "json"], { cwd: repo.dir })
      const errorLine = assertRefused(result, repo, before)
      assert.include(errorLine, `Prompt pack impl-pack stamp mismatch: ${manifestRel}`, describeResult(result))
      assert.include(errorLine, `set "stamp" to ${stamp} in ${manifestRel}.`, describeResult(result))
    }))

  it("TFGRPO_EXPERIENCE_MAX_WORDS above 32 is bad input: exit 2, nothing written", () =>
    withRepo(config, async (repo) => {
      const before = listDir(repo.dir)
      const result = await runCli(["start", "p", "--task", "t"], {
        cwd: repo.dir,
        env: { TFGRPO_EXPERIENCE_MAX_WORDS: "40" }
      })
      const errorLine = assertRefused(result, repo, before)
      assert.include(errorLine, `TFGRPO_EXPERIENCE_MAX_WORDS="40" is not a whole number from 1 to 32.`, describeResult(result))
    }))
})
