/**
 * No ANSI escapes where nobody looks at a terminal (issue 16 item 23): `--help` piped to a file or
 * another program, and @effect/cli's usage errors on a redirected stderr. NO_COLOR and FORCE_COLOR
 * are honoured (src/domain/Colour.ts, the edge in src/cli/edge.ts).
 */
import { assert, beforeAll, describe, it } from "vitest"
import { describeResult, requireBuiltCli, runCli, withRepo } from "../support/cli.js"

beforeAll(requireBuiltCli)

const escape = "\u001b["
const neutral = { NO_COLOR: undefined, FORCE_COLOR: undefined, TERM: "xterm-256color" }

describe("colour in help and errors", () => {
  it("--help and `start --help` on a pipe are plain text; FORCE_COLOR=1 brings the colour back", () =>
    withRepo({ pipelines: [] }, async (repo) => {
      for (const args of [["--help"], ["start", "--help"]]) {
        const plain = await runCli(args, { cwd: repo.dir, env: neutral })
        assert.strictEqual(plain.code, 0, describeResult(plain))
        assert.include(plain.stdout, "USAGE")
        assert.notInclude(plain.stdout, escape)
      }
      const forced = await runCli(["--help"], { cwd: repo.dir, env: { ...neutral, FORCE_COLOR: "1" } })
      assert.strictEqual(forced.code, 0, describeResult(forced))
      assert.include(forced.stdout, escape)
      const both = await runCli(["--help"], { cwd: repo.dir, env: { ...neutral, FORCE_COLOR: "1", NO_COLOR: "1" } })
      assert.notInclude(both.stdout, escape)
    }))

  it("a usage error on a redirected stderr is plain text and still exits 2", () =>
    withRepo({ pipelines: [] }, async (repo) => {
      const result = await runCli(["start", "--no-such-flag"], { cwd: repo.dir, env: neutral })
      assert.strictEqual(result.code, 2, describeResult(result))
      assert.isAbove(result.stderr.trim().length, 0)
      assert.notInclude(result.stderr, escape)
      assert.notInclude(result.stdout, escape)
    }))
})
