/**
 * The README's commands work as written: every ```bash block runs, line by line, in one shell
 * session (exports carry over, as in a terminal) in a temporary copy of this repository, with `npx
 * codex-orchestrator` resolving to the built CLI. A failing line is named by its README line number.
 * That `npx codex-orchestrator` resolves in a reader's clone is checked once with the real npx; the
 * blocks then run with a stand-in `npx` that starts the built CLI directly (npm's own start-up costs
 * ~0.9 s of CPU a call, over 30 s for the README's 35 calls).
 *
 * Marking a block, with an HTML comment on the line before its fence (use sparingly):
 * - `<!-- readme-test: skip <reason> -->`: not run (the reason is printed);
 * - `<!-- readme-test: server <url> -->`: the block talks to a server at <url>; the test starts a
 *   local stand-in that accepts every request, and the block runs with <url> pointing at it.
 * `<run-id>` in a command stands for the newest run started in the copy (not a nested pipeline's
 * child run).
 */
import { spawn } from "node:child_process"
import { existsSync, readFileSync, rmSync } from "node:fs"
import { join } from "node:path"
import { assert, beforeAll, describe, it } from "vitest"
import { asString, cliEnv, packageRoot, readJson, requireBuiltCli } from "../support/cli.js"
import { startHttpServer } from "../support/httpServer.js"
import { copyOfRepository, npxShim } from "../support/readme.js"

beforeAll(requireBuiltCli)

interface Command {
  /** 1-based line number in README.md. */
  readonly line: number
  readonly text: string
}

interface Block {
  /** The line of the opening fence. */
  readonly line: number
  readonly commands: ReadonlyArray<Command>
  readonly skip: string | undefined
  readonly server: string | undefined
}

const marker = /^<!--\s*readme-test:\s*(skip|server)\s+(.+?)\s*-->$/

/** Every ```bash block of the README, with the marker on the line before it, if any. */
export const bashBlocks = (readme: string): ReadonlyArray<Block> => {
  const lines = readme.split("\n")
  const blocks: Array<Block> = []
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.trim() !== "```bash") continue
    const mark = marker.exec(lines[i - 1]?.trim() ?? "")
    const commands: Array<Command> = []
    let j = i + 1
    for (; j < lines.length && lines[j]?.trim() !== "```"; j++) {
      const text = lines[j]?.trim() ?? ""
      if (text.length > 0 && !text.startsWith("#")) commands.push({ line: j + 1, text })
    }
    blocks.push({
      line: i + 1,
      commands,
      skip: mark?.[1] === "skip" ? mark[2] : undefined,
      server: mark?.[1] === "server" ? mark[2] : undefined
    })
    i = j
  }
  return blocks
}

const placeholders: Readonly<Record<string, string>> = { "<run-id>": "$(readme_newest_run)" }

/**
 * A bash script running every command in order, in this shell (so `export` lasts): each line's
 * stderr goes to `stderr.<line>`, and a line that exits non-zero is appended to `failures`.
 */
const scriptOf = (blocks: ReadonlyArray<Block>, serverUrl: string): string => {
  const body = blocks.filter((block) => block.skip === undefined).flatMap((block) =>
    block.commands.map(({ line, text }) => {
      let command = block.server === undefined ? text : text.split(block.server).join(serverUrl)
      for (const [name, value] of Object.entries(placeholders)) command = command.split(name).join(value)
      const unknown = /<[a-z][a-z-]*>/.exec(command)
      if (unknown !== null) {
        throw new Error(`README.md:${line}: unknown placeholder ${unknown[0]} (this test knows ${Object.keys(placeholders).join(", ")})`)
      }
      return `{\n${command}\n} 2>"$READMETEST_DIR/stderr.${line}"\nrc=$?; [ $rc -eq 0 ] || echo "${line} $rc" >> "$READMETEST_DIR/failures"\n`
    })
  )
  return [
    "set -o pipefail",
    // Run ids start with their UTC time, so the newest sorts last; a nested pipeline's child run
    // (it has a parent) is not one a reader started.
    "readme_newest_run() { cat .runs/*/cli/*/manifest.json 2>/dev/null | jq -r 'select(.parent_run_id == null) | .run_id' | sort | tail -n 1; }",
    ...body
  ].join("\n")
}

const runScript = (dir: string, script: string, env: NodeJS.ProcessEnv): Promise<{ readonly code: number | null; readonly output: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", script], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")))
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, output }))
  })

const readme = readFileSync(join(packageRoot, "README.md"), "utf8")
const readmeLines = readme.split("\n")

describe("README: the shell commands work as written", () => {
  it("finds the blocks, and a marker names what it does", () => {
    const blocks = bashBlocks(readme)
    assert.isAtLeast(blocks.length, 5)
    // Three skips: the development commands, and the mirror and design examples, each run whole (its
    // servers included) by its own test.
    assert.isAtMost(blocks.filter((block) => block.skip !== undefined).length, 3, "skip sparingly")
    for (const block of blocks) assert.isAbove(block.commands.length, 0, `README.md:${block.line}: an empty bash block`)
    // A marker that is not followed by a fence is a typo that would silently run the block.
    readmeLines.forEach((line, i) => {
      if (marker.test(line.trim())) assert.strictEqual(readmeLines[i + 1]?.trim(), "```bash", `README.md:${i + 1}: a readme-test marker must sit just before a \`\`\`bash fence`)
    })
  })

  it("every command of every bash block exits 0, in one session, in a copy of the repository", async () => {
    const blocks = bashBlocks(readme)
    for (const block of blocks.filter((b) => b.skip !== undefined)) console.info(`README.md:${block.line}: skipped (${block.skip})`)
    const server = await startHttpServer(() => ({ status: 201, body: { id: "remote-readme" } }))
    const dir = copyOfRepository("readme-commands-", false)
    try {
      const env = cliEnv({ READMETEST_DIR: dir, NO_COLOR: "1", npm_config_offline: "true", npm_config_update_notifier: "false" })
      const version = asString(readJson(join(packageRoot, "package.json"))["version"], "package.json version")
      const resolved = await runScript(dir, "npx codex-orchestrator --version", env)
      assert.strictEqual(resolved.output.trim(), version, "the real npx runs this package's CLI in a clone")
      const shimmed = { ...env, PATH: `${npxShim(dir)}:${env["PATH"] ?? ""}` }
      const { code, output } = await runScript(dir, scriptOf(blocks, server.baseUrl), shimmed)
      assert.strictEqual(code, 0, output)
      const failures = existsSync(join(dir, "failures")) ? readFileSync(join(dir, "failures"), "utf8").trim().split("\n") : []
      const described = failures.map((entry) => {
        const [line = "", exitCode = ""] = entry.split(" ")
        const stderr = readFileSync(join(dir, `stderr.${line}`), "utf8").trim().split("\n").slice(-8).join("\n    ")
        return `README.md:${line}: exit ${exitCode}: ${readmeLines[Number(line) - 1]?.trim()}\n    ${stderr}`
      })
      assert.deepStrictEqual(described, [], `\n${described.join("\n")}`)
      if (blocks.some((block) => block.server !== undefined)) {
        assert.isAbove(server.received.length, 0, "the block marked server reached the stand-in server")
      }
    } finally {
      await server.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 600_000)
})
