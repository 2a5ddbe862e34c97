/** `prompts install` through the built CLI: where it writes, and that running it again changes nothing the user changed. */
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, beforeAll, describe, it } from "vitest"
import { describeResult, requireBuiltCli, runCli } from "../support/cli.js"

beforeAll(requireBuiltCli)

const withHome = async (f: (home: string) => Promise<void>) => {
  const home = realpathSync(mkdtempSync(join(tmpdir(), "prompts-home-")))
  try {
    await f(home)
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
}

describe("prompts install", () => {
  it("writes into ~/.codex/prompts, is idempotent, keeps a file the user changed unless --force", () =>
    withHome(async (home) => {
      const env = { HOME: home, CODEX_HOME: undefined }
      const dir = join(home, ".codex", "prompts")
      const install = (...args: ReadonlyArray<string>) => runCli(["prompts", "install", ...args], { cwd: home, env })
      const first = await install()
      assert.strictEqual(first.code, 0, describeResult(first))
      assert.strictEqual(first.stdout, `written     ${dir}/diagnostics.md\nwritten     ${dir}/review-handoff.md\n`)
      const diagnostics = readFileSync(join(dir, "diagnostics.md"), "utf8")
      assert.match(diagnostics, /^---\ndescription: /)
      assert.include(diagnostics, "argument-hint: TASK=<task-id> MANIFEST=<path> [NOTES=<free text>]")
      assert.include(readFileSync(join(dir, "review-handoff.md"), "utf8"), "review --manifest $MANIFEST")

      const again = await install()
      assert.strictEqual(again.stdout, `unchanged   ${dir}/diagnostics.md\nunchanged   ${dir}/review-handoff.md\n`)

      writeFileSync(join(dir, "diagnostics.md"), "my diagnostics\n")
      const kept = await install()
      assert.strictEqual(kept.code, 0, describeResult(kept))
      assert.strictEqual(kept.stdout.split("\n")[0], `kept        ${dir}/diagnostics.md (changed since it was installed; --force replaces it)`)
      assert.strictEqual(readFileSync(join(dir, "diagnostics.md"), "utf8"), "my diagnostics\n")

      const forced = await install("--force")
      assert.strictEqual(forced.stdout, `overwritten ${dir}/diagnostics.md\nunchanged   ${dir}/review-handoff.md\n`)
      assert.strictEqual(readFileSync(join(dir, "diagnostics.md"), "utf8"), diagnostics)
    }))

  it("CODEX_HOME and --dir choose the folder; without HOME or --dir it is a usage error", () =>
    withHome(async (home) => {
      const viaCodexHome = await runCli(["prompts", "install"], { cwd: home, env: { HOME: "/nonexistent", CODEX_HOME: join(home, "ch") } })
      assert.strictEqual(viaCodexHome.code, 0, describeResult(viaCodexHome))
      assert.include(viaCodexHome.stdout, `${join(home, "ch", "prompts", "diagnostics.md")}\n`)
      const viaDir = await runCli(["prompts", "install", "--dir", "p"], { cwd: home, env: { HOME: undefined } })
      assert.include(viaDir.stdout, `written     ${join(home, "p", "review-handoff.md")}\n`)
      const none = await runCli(["prompts", "install"], { cwd: home, env: { HOME: undefined, CODEX_HOME: undefined } })
      assert.strictEqual(none.code, 2, describeResult(none))
      assert.strictEqual(none.stdout, "")
      assert.include(none.stderr, "pass --dir <folder>")
      // an empty --dir (an unset variable in a script) is not the working directory
      const empty = await runCli(["prompts", "install", "--dir", ""], { cwd: home, env: { HOME: home } })
      assert.strictEqual(empty.code, 2, describeResult(empty))
      assert.strictEqual(empty.stderr, "error: --dir is empty; give the prompts folder (or leave --dir out: $CODEX_HOME/prompts, else ~/.codex/prompts).\n")
      assert.deepStrictEqual(readdirSync(home).filter((name) => name.endsWith(".md")), [])
    }))

  it("--help explains the outcomes", async () => {
    const help = await runCli(["prompts", "install", "--help"], { cwd: tmpdir(), env: { NO_COLOR: "1" } })
    assert.strictEqual(help.code, 0, describeResult(help))
    for (const word of ["diagnostics.md", "review-handoff.md", "unchanged", "kept", "--force"]) assert.include(help.stdout, word)
  })
})
