/**
 * Agent instruction files end to end (SPEC INS-1..3, DECISIONS D-15, D-1): the built CLI records the
 * hash of an unstamped AGENTS.md, and refuses to start when AGENTS.md carries a stamp that does not match.
 */
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, writeFileSync } from "node:fs"
import { assert, beforeAll, describe, it } from "vitest"
import {
  commandStage,
  describeResult,
  listDir,
  pipeline,
  requireBuiltCli,
  runCli,
  startJson,
  withRepo
} from "../support/cli.js"

beforeAll(requireBuiltCli)

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex")

const config = { pipelines: [pipeline("p", [commandStage("one", "echo one")])] }

describe.concurrent("instruction files", () => {
  it("an unstamped AGENTS.md is used: the manifest records the hash of its trimmed body", () =>
    withRepo(config, async (repo) => {
      writeFileSync(repo.path("AGENTS.md"), "\n# Agents\nbe nice\n\n")
      mkdirSync(repo.path(".agent"))
      writeFileSync(repo.path(".agent", "AGENTS.md"), "   \n") // empty body: skipped
      const { result, manifest } = await startJson(repo, ["p", "--task", "t"])
      assert.strictEqual(result.code, 0, describeResult(result))
      assert.strictEqual(manifest["instructions_hash"], sha256("# Agents\nbe nice"))
      assert.deepStrictEqual(manifest["instructions_sources"], ["AGENTS.md"])
    }))

  it("a stamp in AGENTS.md that does not match its body is bad input: exit 2, nothing written", () =>
    withRepo(config, async (repo) => {
      const body = "# Agents\nedited after stamping\n"
      writeFileSync(repo.path("AGENTS.md"), `<!-- codex:instruction-stamp ${"0".repeat(64)} -->\n${body}`)
      const before = listDir(repo.dir)
      const result = await runCli(["start", "p", "--task", "t", "--format", "json"], { cwd: repo.dir })
      assert.strictEqual(result.code, 2, describeResult(result))
      const errorLine = result.stderr.split("\n").find((line) => line.startsWith("error: "))
      assert.isDefined(errorLine, `no "error: " line\n${describeResult(result)}`)
      assert.include(errorLine ?? "", "Instruction AGENTS.md stamp mismatch", describeResult(result))
      assert.include(errorLine ?? "", `Update the stamp to ${sha256(body)} or remove it.`, describeResult(result))
      assert.strictEqual(result.stdout, "", "stdout must stay empty on bad input")
      assert.isFalse(existsSync(repo.path(".runs")), ".runs was created")
      assert.deepStrictEqual(listDir(repo.dir), before, "files were written into the repository")
    }))
})
