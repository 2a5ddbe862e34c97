/**
 * The README's "Setting up" commands, run as written: in a fresh git repository, with HOME in a
 * temporary folder (prompts install writes under it) and a fake codex on PATH; each must exit 0.
 */
import { mkdtempSync, realpathSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, beforeAll, describe, it } from "vitest"
import { requireBuiltCli } from "../support/cli.js"
import { writeFakeCodex } from "../support/fakeCodex.js"
import { withGitRepo } from "../support/gitRepo.js"
import { npxShim, readmeCommands, runLine } from "../support/readme.js"

beforeAll(requireBuiltCli)

describe("README: Setting up", () => {
  it("runs every example as written", () =>
    withGitRepo(undefined, async (repo) => {
      const home = realpathSync(mkdtempSync(join(tmpdir(), "readme-setup-home-")))
      try {
        const shim = npxShim(repo.dir)
        writeFakeCodex(shim)
        const sections = ["### prompts install", "### init", "### doctor"]
        const commands = sections.flatMap(readmeCommands)
        assert.isAtLeast(commands.length, 9)
        for (const line of commands) {
          const result = runLine(line, repo.dir, shim, { HOME: home, CODEX_HOME: undefined })
          assert.strictEqual(result.code, 0, `README line failed: ${line}\n${result.stdout}\n${result.stderr}`)
        }
      } finally {
        rmSync(home, { recursive: true, force: true })
      }
    }))
})
