/**
 * The README's "Mirror workflows" example, run as written: the bash block is taken from README.md
 * and run in the package root, so the documentation cannot drift from what works.
 */
import { spawn } from "node:child_process"
import { existsSync, readFileSync, rmSync } from "node:fs"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { cliEnv, packageRoot, requireBuiltCli } from "../support/cli.js"

const example = join(packageRoot, "examples", "mirror")

const cleanup = () => {
  for (const path of [".runs", "packages/site/public", "origin.txt", "site.txt"]) rmSync(join(example, path), { recursive: true, force: true })
}

/** The first ```bash block after the "## Mirror workflows" heading. */
const readmeBlock = (): string => {
  const readme = readFileSync(join(packageRoot, "README.md"), "utf8")
  const section = readme.slice(readme.indexOf("## Mirror workflows"))
  const match = /```bash\n([\s\S]*?)```/.exec(section)
  if (match?.[1] === undefined) throw new Error("README.md has no bash block under ## Mirror workflows")
  return match[1]
}

const runBash = (script: string) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolvePromise, reject) => {
    const child = spawn("bash", ["-euo", "pipefail", "-c", script], { cwd: packageRoot, env: cliEnv() })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
    child.on("error", reject)
    child.on("close", (code) => resolvePromise({ code, stdout, stderr }))
  })

beforeAll(() => {
  requireBuiltCli()
  cleanup()
})
afterAll(cleanup)

describe("README: mirror workflows", () => {
  it("fetches the example site, serves the mirror and checks it in Chromium, exactly as written", async () => {
    const result = await runBash(readmeBlock())
    assert.strictEqual(result.code, 0, `${result.stdout}\n${result.stderr}`)
    assert.include(result.stdout, "[mirror:check] all routes returned 200 with no outbound or tracker violations")
    const index = readFileSync(join(example, "packages", "site", "public", "index.html"), "utf8")
    assert.notInclude(index, "googletagmanager")
    assert.notInclude(index, "gtag(")
    assert.notInclude(index, "127.0.0.1:4180")
    assert.include(index, `<a href="https://fb.com/sharer/sharer.php?u=example">Share</a>`)
    assert.isTrue(existsSync(join(example, "packages", "site", "public", "assets", "stripes.svg")))
  }, 180_000)
})
