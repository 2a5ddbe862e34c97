/**
 * Settings are decoded by section (src/domain/Settings.ts): a bad engine or cloud-sync setting stops
 * the commands that run pipelines (exit 2, one `error:` line naming the variable, the value and what
 * is expected, nothing written), while `status` reads runs as before, on both of its paths (the
 * quick status bundle and the full CLI). DECISIONS D-1, D-17; SPEC CLI-7, INS-5, TFG-1, SYNC-2.
 */
import { assert, beforeAll, describe, it } from "vitest"
import {
  asObject,
  commandStage,
  type CliResult,
  describeResult,
  fullCliBundle,
  listDir,
  parseJson,
  pipeline,
  requireBuiltCli,
  runCli,
  startJson,
  withRepo
} from "../support/cli.js"

beforeAll(requireBuiltCli)

const config = { pipelines: [pipeline("p", [commandStage("one", "echo one")])] }

interface BadSetting {
  readonly env: Readonly<Record<string, string>>
  readonly variable: string
  /** Each must appear in the `error:` line. */
  readonly mentions: ReadonlyArray<string>
}

const badSettings: ReadonlyArray<BadSetting> = [
  {
    env: { TFGRPO_EPOCH: "soon" },
    variable: "TFGRPO_EPOCH",
    mentions: [`TFGRPO_EPOCH="soon"`, "is not a positive integer", "unset it"]
  },
  {
    env: { TFGRPO_EXPERIENCE_MAX_WORDS: "0" },
    variable: "TFGRPO_EXPERIENCE_MAX_WORDS",
    mentions: [`TFGRPO_EXPERIENCE_MAX_WORDS="0"`, "a whole number from 1 to 32", "default 32"]
  },
  {
    env: { CODEX_CLOUD_SYNC: "1" },
    variable: "CODEX_CLOUD_WORKSPACE_ID",
    mentions: ["CODEX_CLOUD_WORKSPACE_ID is not set", "CODEX_CLOUD_SYNC"]
  }
]

const errorLineOf = (result: CliResult) => {
  const line = result.stderr.split("\n").find((candidate) => candidate.startsWith("error: "))
  assert.isDefined(line, `no "error: " line\n${describeResult(result)}`)
  return line ?? ""
}

/** `status --run <id> --format json` succeeded and reports the run as succeeded. */
const assertStatusWorks = (result: CliResult, runId: string) => {
  assert.strictEqual(result.code, 0, describeResult(result))
  const view = asObject(parseJson(result.stdout), "stdout")
  assert.deepStrictEqual([view["run_id"], view["status"]], [runId, "succeeded"], describeResult(result))
}

describe.concurrent("a bad engine setting stops start, not status", () => {
  for (const bad of badSettings) {
    it(`${Object.entries(bad.env).map(([k, v]) => `${k}=${v}`).join(" ")}: status exits 0, start exits 2 naming ${bad.variable}`, () =>
      withRepo(config, async (repo) => {
        const started = await startJson(repo, ["p", "--task", "t"])
        assert.strictEqual(started.result.code, 0, describeResult(started.result))
        const runId = String(started.output["run_id"])
        const statusArgs = ["status", "--run", runId, "--task", "t", "--format", "json"]

        assertStatusWorks(await runCli(statusArgs, { cwd: repo.dir, env: bad.env }), runId)
        assertStatusWorks(await runCli(statusArgs, { cwd: repo.dir, env: bad.env, entry: fullCliBundle }), runId)

        const runsBefore = listDir(repo.path(".runs/t/cli"))
        const refused = await runCli(["start", "p", "--task", "t", "--format", "json"], { cwd: repo.dir, env: bad.env })
        assert.strictEqual(refused.code, 2, describeResult(refused))
        assert.strictEqual(refused.stdout, "", "stdout must stay empty on bad input")
        const errorLine = errorLineOf(refused)
        for (const text of bad.mentions) assert.include(errorLine, text, describeResult(refused))
        assert.strictEqual(refused.stderr.split("\n").filter((line) => line.startsWith("error: ")).length, 1)
        assert.deepStrictEqual(listDir(repo.path(".runs/t/cli")), runsBefore, "a refused start wrote a run")
      }))
  }
})
