/**
 * Per-stage retries end to end (DECISIONS B-1, SPEC LOG-1): the built CLI runs a real shell stage that
 * counts its attempts in a file of the temporary repository, and the tests read back the exit code,
 * the count, the manifest, the stage log, the error file and `status`.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, beforeAll, describe, it } from "vitest"
import {
  asArray,
  asObject,
  asString,
  commandAt,
  commandStage,
  describeResult,
  type JsonObject,
  parseJson,
  pipeline,
  readJson,
  readNdjson,
  requireBuiltCli,
  runCli,
  startJson,
  withRepo
} from "../support/cli.js"

beforeAll(requireBuiltCli)

const task = "retry-it"

/** Adds one to the number in `c` (0 when missing) and succeeds once it reaches `succeedAt`. */
const counting = (succeedAt: number) =>
  `n=$(cat c 2>/dev/null || echo 0); n=$((n+1)); echo $n > c; echo "attempt $n" >&2; [ $n -ge ${succeedAt} ]`

const count = (file: string) => readFileSync(file, "utf8").trim()

const ofType = (events: ReadonlyArray<JsonObject>, type: string) => events.filter((e) => e["type"] === type)

const millis = (event: JsonObject | undefined, what: string) => Date.parse(asString(event?.["timestamp"], what))

describe("start: a stage with a retry policy (B-1)", () => {
  const config = {
    pipelines: [
      pipeline("flaky", [
        commandStage("flaky", counting(3), { retry: { attempts: 3, initialDelayMs: 50 } }),
        commandStage("after", "echo after")
      ]),
      pipeline("hopeless", [
        commandStage("hopeless", `${counting(99)} || exit 5`, { retry: { attempts: 2, initialDelayMs: 50 } }),
        commandStage("after", "echo after")
      ])
    ]
  }

  it("fails twice, succeeds on the third attempt: exit 0, attempts 3, three exec:begin", () =>
    withRepo(config, async (repo) => {
      const { manifest, output, result, runDir } = await startJson(repo, ["flaky", "--task", task])
      assert.strictEqual(result.code, 0, describeResult(result))
      assert.strictEqual(output["status"], "succeeded")
      assert.strictEqual(count(repo.path("c")), "3", "the stage ran exactly three times")

      assert.strictEqual(manifest["status"], "succeeded")
      const entry = commandAt(manifest, 0)
      assert.strictEqual(entry["status"], "succeeded")
      assert.strictEqual(entry["exit_code"], 0)
      assert.strictEqual(entry["attempts"], 3)
      assert.isNull(entry["error_file"])
      assert.isFalse("attempts" in commandAt(manifest, 1), "a stage without a policy has no attempts")
      assert.strictEqual(commandAt(manifest, 1)["status"], "succeeded")

      const events = readNdjson(join(runDir, "commands", "01-flaky.ndjson"))
      assert.deepStrictEqual(
        events.map((e) => e["type"]).filter((t) => t !== "exec:chunk"),
        [
          "command:start",
          "exec:begin",
          "exec:end",
          "exec:retry",
          "exec:begin",
          "exec:end",
          "exec:retry",
          "exec:begin",
          "exec:end",
          "command:end"
        ]
      )
      const begins = ofType(events, "exec:begin")
      assert.deepStrictEqual(begins.map((e) => e["attempt"]), [1, 2, 3])
      assert.deepStrictEqual(ofType(events, "exec:end").map((e) => e["exit_code"]), [1, 1, 0])
      const retries = ofType(events, "exec:retry")
      assert.deepStrictEqual(retries.map((e) => [e["attempt"], e["delay_ms"], e["error"]]), [
        [1, 50, "exited with code 1"],
        [2, 100, "exited with code 1"]
      ])
      // The backoff really waited (a small allowance for timer granularity).
      assert.isAtLeast(millis(begins[1], "begin 2") - millis(retries[0], "retry 1"), 45)
      assert.isAtLeast(millis(begins[2], "begin 3") - millis(retries[1], "retry 2"), 95)
      // Output of every attempt is kept, with one sequence across attempts (EXE-4).
      const chunks = ofType(events, "exec:chunk")
      assert.deepStrictEqual(chunks.map((c) => c["sequence"]), chunks.map((_, i) => i + 1))
      assert.deepStrictEqual(
        chunks.map((c) => asString(c["data"], "data")).join(""),
        "attempt 1\nattempt 2\nattempt 3\n"
      )

      const runner = readNdjson(join(runDir, "runner.ndjson")).filter((e) => e["index"] === 1)
      assert.deepStrictEqual(ofType(runner, "exec:begin").map((e) => e["attempt"]), [1, 2, 3])
      assert.strictEqual(ofType(runner, "command:start").length, 1)
      assert.strictEqual(ofType(runner, "command:end").length, 1)

      // status reads the attempts back (JSON and text).
      const runId = asString(output["run_id"], "run_id")
      const statusJson = await runCli(["status", "--run", runId, "--task", task, "--format", "json"], { cwd: repo.dir })
      assert.strictEqual(statusJson.code, 0, describeResult(statusJson))
      const view = asObject(parseJson(statusJson.stdout), "status stdout")
      const commands = asArray(view["commands"], "commands")
      assert.strictEqual(asObject(commands[0], "commands[0]")["attempts"], 3)
      assert.isFalse("attempts" in asObject(commands[1], "commands[1]"))

      const statusText = await runCli(["status", "--run", runId, "--task", task], { cwd: repo.dir })
      assert.strictEqual(statusText.code, 0, describeResult(statusText))
      const lines = statusText.stdout.split("\n")
      assert.isTrue(lines.some((l) => l.startsWith("  [succeeded] Stage flaky (attempt 3)")), statusText.stdout)
      assert.isTrue(lines.some((l) => l.startsWith("  [succeeded] Stage after") && !l.includes("attempt")), statusText.stdout)
    }))

  it("a stage that always fails with attempts 2: exit 1, attempts 2 in the manifest and the error file", () =>
    withRepo(config, async (repo) => {
      const { manifest, result, runDir } = await startJson(repo, ["hopeless", "--task", task])
      assert.strictEqual(result.code, 1, describeResult(result))
      assert.strictEqual(count(repo.path("c")), "2", "two attempts, then stop")

      assert.strictEqual(manifest["status"], "failed")
      assert.strictEqual(manifest["status_detail"], "stage:hopeless:failed")
      const entry = commandAt(manifest, 0)
      assert.strictEqual(entry["status"], "failed")
      assert.strictEqual(entry["exit_code"], 5)
      assert.strictEqual(entry["attempts"], 2)
      assert.strictEqual(commandAt(manifest, 1)["status"], "pending")

      const errorFile = readJson(repo.path(asString(entry["error_file"], "error_file")))
      const details = asObject(errorFile["details"], "details")
      assert.strictEqual(details["attempts"], 2)
      assert.strictEqual(details["exit_code"], 5)
      assert.strictEqual(details["stderr"], "attempt 2", "the last attempt's output")

      const events = readNdjson(join(runDir, "commands", "01-hopeless.ndjson"))
      assert.deepStrictEqual(ofType(events, "exec:begin").map((e) => e["attempt"]), [1, 2])
      assert.deepStrictEqual(ofType(events, "exec:retry").map((e) => [e["attempt"], e["delay_ms"]]), [[1, 50]])
    }))
})
