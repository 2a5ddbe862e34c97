/**
 * A finished command ends its process (src/cli/edge.ts). A `start --cloud` was seen to finish its
 * run, print it, and then never exit: sockets to the runners were still open after every finalizer
 * had run, and Node waits for open handles when the exit code is 0.
 */
import { spawn } from "node:child_process"
import { join } from "node:path"
import { assert, describe, it } from "vitest"
import { cliEnv, packageRoot } from "../support/cli.js"

interface Ended {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs the file; resolves when it exits, or with `undefined` if it is still running after `limitMs`. */
const runFor = (file: string, limitMs: number) =>
  new Promise<Ended | undefined>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", file], { cwd: packageRoot, env: cliEnv(), stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text))
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text))
    const limit = setTimeout(() => {
      child.kill("SIGKILL")
      resolve(undefined)
    }, limitMs)
    child.on("error", reject)
    child.on("close", (code) => {
      clearTimeout(limit)
      resolve({ code, stdout, stderr })
    })
  })

describe("the CLI's edge", () => {
  it("exits with 0 once a successful command is done, even when a handle was left open", async () => {
    const ended = await runFor(join(packageRoot, "test", "support", "lingeringMain.ts"), 30_000)
    assert.isDefined(ended, "the process was still running 30 s after its command finished")
    assert.strictEqual(ended?.code, 0, ended?.stderr)
    assert.strictEqual(ended?.stdout, "done\n")
  })
})
