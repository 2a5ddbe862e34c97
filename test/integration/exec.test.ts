/**
 * `exec` and `--jsonl` on the built CLI (SPEC EXEC-1..3, DECISIONS B-6): real processes in a temp
 * repository; stdout is parsed line by line with the event schemas the engine publishes with, and
 * the run's files are read back.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { decodeJsonlLine, type JsonlLine, type RunSummaryEvent } from "../../src/domain/RunSummaryEvent.js"
import {
  commandStage,
  describeResult,
  pipeline,
  readJson,
  requireBuiltCli,
  runCli,
  runDirsOf,
  spawnCli,
  type TempRepo,
  waitFor,
  withRepo
} from "../support/cli.js"

beforeAll(requireBuiltCli)

const task = "exec-it"

/** Every stdout line decoded with the schemas; a line that does not decode fails the test. */
const decodeLines = (stdout: string): Promise<ReadonlyArray<JsonlLine>> =>
  Effect.runPromise(Effect.forEach(stdout.split("\n").filter((line) => line.length > 0), (line) => decodeJsonlLine(line)))

const summaryOf = (lines: ReadonlyArray<JsonlLine>): RunSummaryEvent => {
  const last = lines.at(-1)
  if (last === undefined || last.type !== "run:summary") return assert.fail(`the last line is not run:summary: ${JSON.stringify(last)}`)
  return last
}

const exec = (repo: TempRepo, args: ReadonlyArray<string>) => runCli(["exec", "--task", task, ...args], { cwd: repo.dir })

describe("exec: one command as a one-stage run (EXEC-1..3)", () => {
  it("--jsonl: every event a JSON line, then run:summary; the exit code is the command's; the manifest is a full run's", () =>
    withRepo(undefined, async (repo) => {
      const result = await exec(repo, ["--jsonl", "--", "sh", "-c", "echo hello; echo oops >&2; exit 3"])
      assert.strictEqual(result.code, 3, describeResult(result))
      const lines = await decodeLines(result.stdout)
      const types = lines.map((line) => line.type)
      for (const type of ["plan:completed", "run:started", "stage:started", "tool:call", "stage:completed", "run:error", "run:completed"]) {
        assert.include(types, type, describeResult(result))
      }
      assert.isBelow(types.indexOf("run:started"), types.indexOf("stage:started"))
      assert.isBelow(types.indexOf("stage:completed"), types.indexOf("run:completed"))
      assert.strictEqual(types.filter((type) => type === "run:summary").length, 1)
      const output = lines.flatMap((line) => (line.type === "log" ? [`${line.source}:${line.message}`] : []))
      assert.deepStrictEqual(output.sort(), ["stderr:oops\n", "stdout:hello\n"])
      const { payload } = summaryOf(lines)
      assert.strictEqual(payload.status, "failed")
      assert.deepInclude(payload.result, { exitCode: 3, status: "failed", attempts: 1 })
      assert.deepStrictEqual(payload.command?.argv, ["sh", "-c", "echo hello; echo oops >&2; exit 3"])
      assert.strictEqual(payload.command?.cwd, repo.dir)
      assert.deepStrictEqual(payload.outputs, { stdout: "hello\n", stderr: "oops\n" })
      const manifest = readJson(repo.path(payload.run.manifest))
      assert.strictEqual(manifest["pipeline_id"], "exec")
      assert.strictEqual(manifest["pipeline_title"], "CLI Exec Command")
      assert.strictEqual(manifest["guardrails_required"], false)
      const commands = manifest["commands"]
      assert.isTrue(Array.isArray(commands) && commands.length === 1)
      assert.strictEqual(JSON.stringify(commands).includes(`"title":"Execute sh -c 'echo hello; echo oops >&2; exit 3'"`), true)
      assert.isTrue(existsSync(repo.path(payload.logs.command ?? "missing")), "the command's log exists")
      // EXEC-4: metrics are recorded as for start.
      const metrics = readFileSync(repo.path(".runs", task, "metrics.json"), "utf8").trim().split("\n")
      assert.strictEqual(metrics.length, 1)
      assert.include(metrics[0], payload.run.id)
    }))

  it("stdout that is not a terminal gets JSON Lines without asking; a command that succeeds exits 0", () =>
    withRepo(undefined, async (repo) => {
      const result = await exec(repo, ["echo", "hi"])
      assert.strictEqual(result.code, 0, describeResult(result))
      const { payload } = summaryOf(await decodeLines(result.stdout))
      assert.strictEqual(payload.status, "succeeded")
      assert.strictEqual(payload.outputs?.stdout, "hi\n")
    }))

  it("--json prints only the summary (pretty by default, one line with compact); --cwd runs the command there", () =>
    withRepo(undefined, async (repo) => {
      mkdirSync(repo.path("sub"))
      const pretty = await exec(repo, ["--json", "--cwd", "sub", "--", "pwd"])
      assert.strictEqual(pretty.code, 0, describeResult(pretty))
      assert.isAbove(pretty.stdout.trim().split("\n").length, 10, "indented")
      const [summary] = await decodeLines(JSON.stringify(JSON.parse(pretty.stdout)))
      assert.strictEqual(summary?.type, "run:summary")
      if (summary?.type === "run:summary") assert.strictEqual(summary.payload.outputs?.stdout, `${repo.path("sub")}\n`)
      const compact = await exec(repo, ["--json=compact", "false"])
      assert.strictEqual(compact.code, 1, describeResult(compact))
      assert.strictEqual(compact.stdout.trim().split("\n").length, 1)
      assert.strictEqual(summaryOf(await decodeLines(compact.stdout)).payload.result?.exitCode, 1)
    }))

  it("bad input is exit 2 with one line, and nothing is written", () =>
    withRepo(undefined, async (repo) => {
      const cases: ReadonlyArray<[ReadonlyArray<string>, string]> = [
        [["--jsnl", "echo"], "error: unknown option --jsnl. See 'codex-orchestrator exec --help'.\n"],
        [["--json", "--jsonl", "echo"], "Cannot combine --json with other output modes."],
        [[], "error: exec requires a command to run: give it after the options, as in 'codex-orchestrator exec -- ls -la'.\n"],
        [["--"], "exec requires a command to run: give it after the options"],
        [["--", ""], "error: exec's command is empty; give the program to run first, as in 'codex-orchestrator exec -- ls -la'.\n"],
        [["--", "   "], "error: exec's command is empty; give the program to run first"],
        [["--cwd"], "--cwd requires a directory."],
        [["--cwd", "nowhere", "pwd"], "error: --cwd nowhere: the folder does not exist; give a folder that exists (or leave --cwd out: the repository root).\n"],
        [["--cwd", "notes.txt", "pwd"], "error: --cwd notes.txt is a file, not a folder; give a folder (or leave --cwd out: the repository root).\n"],
        [["--json=yaml", "echo"], "--json takes compact or pretty"],
        [["--task", "other", "echo"], "error: --task is given more than once. See 'codex-orchestrator exec --help'.\n"]
      ]
      writeFileSync(repo.path("notes.txt"), "a file\n")
      for (const [args, message] of cases) {
        const result = await exec(repo, args)
        assert.strictEqual(result.code, 2, describeResult(result))
        assert.include(result.stderr, message)
        assert.strictEqual(result.stdout, "")
      }
      assert.isFalse(existsSync(repo.path(".runs")), "no run was created")
    }))
})

describe("start --jsonl: any run as a stream (B-6)", () => {
  const config = {
    pipelines: [
      pipeline("two", [
        commandStage("flaky", `n=$(cat c 2>/dev/null || echo 0); n=$((n+1)); echo $n > c; [ $n -ge 2 ]`, {
          retry: { attempts: 2, initialDelayMs: 50 }
        }),
        commandStage("after", "echo after")
      ])
    ]
  }

  it("prints the events in order, a retry with its delay, then run:summary; exit as for start", () =>
    withRepo(config, async (repo) => {
      const result = await runCli(["start", "two", "--task", task, "--jsonl"], { cwd: repo.dir })
      assert.strictEqual(result.code, 0, describeResult(result))
      const lines = await decodeLines(result.stdout)
      const stages = lines.flatMap((line) =>
        line.type === "stage:started" || line.type === "stage:completed" ? [`${line.type}:${line.stageId}`] : []
      )
      assert.deepStrictEqual(stages, ["stage:started:flaky", "stage:completed:flaky", "stage:started:after", "stage:completed:after"])
      const retry = lines.find((line) => line.type === "tool:call" && line.status === "retry")
      assert.deepInclude(retry, { stageId: "flaky", attempt: 1, delayMs: 50 })
      const { payload } = summaryOf(lines)
      assert.deepStrictEqual(payload.stages.map((s) => [s.id, s.status]), [["flaky", "succeeded"], ["after", "succeeded"]])
      assert.isUndefined(payload.result, "exec's part is exec's")
      assert.isTrue(existsSync(join(repo.dir, payload.run.manifest)))
    }))

  it("--jsonl with --format json is a usage error (exit 2)", () =>
    withRepo(config, async (repo) => {
      const result = await runCli(["start", "two", "--task", task, "--jsonl", "--format", "json"], { cwd: repo.dir })
      assert.strictEqual(result.code, 2, describeResult(result))
      assert.include(result.stderr, "--jsonl and --format json")
      assert.isFalse(existsSync(repo.path(".runs")))
    }))
})

describe("--jsonl interrupted (D-2 for a stream)", () => {
  const slow = "touch started; sleep 47.3"
  const cases: ReadonlyArray<[string, ReadonlyArray<string>]> = [
    ["start", ["start", "slow", "--task", task, "--jsonl"]],
    ["exec", ["exec", "--task", task, "--jsonl", "--", "sh", "-c", slow]]
  ]
  for (const [name, args] of cases) {
    it(`${name}: Ctrl-C ends the stream with a run:summary line, status cancelled; exit 130`, () =>
      withRepo({ pipelines: [pipeline("slow", [commandStage("wait", slow)])] }, async (repo) => {
        const cli = spawnCli(args, { cwd: repo.dir })
        await waitFor("the stage started", () => (existsSync(repo.path("started")) ? true : undefined))
        cli.kill("SIGINT")
        const result = await cli.done
        assert.strictEqual(result.code, 130, describeResult(result))
        const lines = await decodeLines(result.stdout)
        assert.include(lines.map((line) => line.type), "stage:started")
        const { payload } = summaryOf(lines)
        assert.strictEqual(payload.status, "cancelled")
        assert.strictEqual(payload.stages[0]?.status, "cancelled")
        assert.isTrue(existsSync(repo.path(payload.run.manifest)), "the summary names the run's manifest")
      }), 60_000)
  }
})

describe("a reader that goes away (`exec --jsonl | head -1`, `2>&1 | head`)", () => {
  it("the run goes on to its end and is recorded; exit code as usual, no crash", () =>
    withRepo(undefined, async (repo) => {
      const cli = spawnCli(["exec", "--task", task, "--jsonl", "--", "sh", "-c", "echo first; sleep 0.5; echo after; touch finished"], {
        cwd: repo.dir
      })
      // The first line read, both pipes closed: every later write (events, progress) finds no reader.
      await new Promise<void>((resolvePromise) => cli.child.stdout?.once("data", () => resolvePromise()))
      cli.child.stdout?.destroy()
      cli.child.stderr?.destroy()
      const { code } = await cli.exited
      assert.strictEqual(code, 0, "exit code of a run that succeeded")
      assert.isTrue(existsSync(repo.path("finished")), "the stage ran to its end")
      const [runDir] = runDirsOf(repo, task)
      const manifest = readJson(join(runDir ?? assert.fail("no run"), "manifest.json"))
      assert.strictEqual(manifest.status, "succeeded")
    }), 60_000)
})
