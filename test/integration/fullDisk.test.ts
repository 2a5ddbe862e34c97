/**
 * A full disk during a run (issue 16 item 21), on a real 320 KiB tmpfs: the first error line says
 * `No space left on device writing <file>` and names the stage log that could not be written, the
 * run exits 1 and its document on stdout says `failed`, not `in_progress`.
 * Mounting a tmpfs needs root, which CI has (`.ci/run` runs as root); elsewhere the test is skipped.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, beforeAll, describe, it } from "vitest"
import { asObject, commandStage, describeResult, parseJson, pipeline, requireBuiltCli, runCli } from "../support/cli.js"

beforeAll(requireBuiltCli)

const isRoot = process.getuid?.() === 0

describe("a full disk", () => {
  it.skipIf(!isRoot)("says `No space left on device writing <stage log>` first and exits 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "full-disk-"))
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=320k", "tmpfs", dir])
    try {
      const config = {
        pipelines: [pipeline("p", [
          commandStage("big", "head -c 600000 /dev/zero | tr '\\0' x; echo"),
          commandStage("after", "echo after")
        ])]
      }
      writeFileSync(join(dir, "codex.orchestrator.json"), JSON.stringify(config))
      const result = await runCli(["start", "p", "--task", "t", "--format", "json"], { cwd: dir })
      assert.strictEqual(result.code, 1, describeResult(result))
      const errors = result.stderr.split("\n").filter((line) => line.includes("error: "))
      assert.isAbove(errors.length, 0, describeResult(result))
      assert.match(errors[0] ?? "", /error: No space left on device writing \S+\/commands\/01-big\.ndjson/, describeResult(result))
      assert.notInclude(result.stderr, "after\n", "the stage after the failure did not run")
      // stdout reports the run as it ended, though the disk could not take that last write.
      const output = asObject(parseJson(result.stdout), "stdout")
      assert.strictEqual(output["status"], "failed")
      assert.strictEqual(output["status_detail"], "stage:big:error")
    } finally {
      execFileSync("umount", [dir])
      rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
