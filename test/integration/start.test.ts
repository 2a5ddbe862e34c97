/**
 * `start` end to end: the built CLI runs real shell processes in a temporary repository, and the
 * tests read back exit codes, stdout, the manifest, the logs and the other run files
 * (SPEC CLI-4, RUN-3..7, LAY-1..3, MAN-1..2, LOG-1..2, ENV-5; DECISIONS D-1, D-2, D-4, D-11).
 */
import { existsSync, lstatSync, readFileSync, readlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, beforeAll, describe, it } from "vitest"
import {
  asArray,
  asObject,
  asString,
  commandAt,
  commandStage,
  describeResult,
  isLiveProcess,
  isoPattern,
  listDir,
  pipeline,
  readJson,
  readNdjson,
  requireBuiltCli,
  runCli,
  runIdPattern,
  stageOutput,
  startJson,
  subpipelineStage,
  withRepo
} from "../support/cli.js"

beforeAll(requireBuiltCli)

/** MAN-1: keys every CLI manifest has. */
const manifestKeys = [
  "version",
  "task_id",
  "task_slug",
  "run_id",
  "parent_run_id",
  "pipeline_id",
  "pipeline_title",
  "runner",
  "approval_policy",
  "status",
  "status_detail",
  "started_at",
  "completed_at",
  "updated_at",
  "heartbeat_at",
  "heartbeat_interval_seconds",
  "heartbeat_stale_after_seconds",
  "artifact_root",
  "compat_path",
  "log_path",
  "summary",
  "metrics_recorded",
  "resume_token",
  "resume_events",
  "approvals",
  "commands",
  "child_runs",
  "run_summary_path",
  "plan_target_id",
  "instructions_hash",
  "instructions_sources"
]

/** MAN-2: exactly the keys of a commands[] entry. */
const entryKeys = [
  "index",
  "id",
  "title",
  "command",
  "kind",
  "status",
  "started_at",
  "completed_at",
  "exit_code",
  "summary",
  "log_path",
  "error_file",
  "sub_run_id"
].sort()

/** LOG-2: exactly the keys of an error file. */
const errorFileKeys = ["run_id", "task_id", "command_index", "command_id", "command", "reason", "details", "created_at"].sort()

const lifecycleTypes = ["command:start", "exec:begin", "exec:end", "command:end"]

describe("start: a pipeline whose stages all pass", () => {
  const stdoutLines = "printf 'line1\\nline2\\n'; printf 'caf\\303\\251 \\342\\234\\223\\n'; printf 'no-newline-at-end'"
  const config = {
    pipelines: [
      pipeline("allpass", [
        commandStage("hello", "echo hello world"),
        commandStage("mixed output", `${stdoutLines}; printf 'err-1\\n' >&2`),
        commandStage("spec-guard", "echo spec-guard ok")
      ])
    ]
  }

  it("exits 0, prints the run on stdout as JSON and records everything on disk", () =>
    withRepo(config, async (repo) => {
      const { manifest, output, result, runDir } = await startJson(repo, ["allpass", "--task", "t"])
      assert.strictEqual(result.code, 0, describeResult(result))

      // CLI-4 / D-2: stdout is the result only, progress is on stderr with the prefix.
      const runId = asString(output["run_id"], "run_id")
      assert.match(runId, runIdPattern)
      const artifactRoot = `.runs/t/cli/${runId}`
      assert.strictEqual(output["status"], "succeeded")
      assert.strictEqual(output["artifact_root"], artifactRoot)
      assert.strictEqual(output["manifest"], `${artifactRoot}/manifest.json`)
      assert.strictEqual(output["log_path"], `${artifactRoot}/runner.ndjson`)
      assert.notInclude(result.stdout, "[Codex-Orchestrator]")
      assert.notInclude(result.stdout, "hello world")
      assert.match(result.stderr, /^\[Codex-Orchestrator\] /m)

      // MAN-1: required fields and their values at the end of a successful run.
      for (const key of manifestKeys) assert.isTrue(key in manifest, `manifest lacks ${key}`)
      assert.strictEqual(manifest["version"], 1)
      assert.strictEqual(manifest["task_id"], "t")
      assert.strictEqual(manifest["task_slug"], "t")
      assert.strictEqual(manifest["run_id"], runId)
      assert.isNull(manifest["parent_run_id"])
      assert.strictEqual(manifest["pipeline_id"], "allpass")
      assert.strictEqual(manifest["pipeline_title"], "Pipeline allpass")
      assert.strictEqual(manifest["runner"], "codex-cli")
      assert.isNull(manifest["approval_policy"])
      assert.strictEqual(manifest["status"], "succeeded")
      assert.isNull(manifest["status_detail"])
      for (const key of ["started_at", "completed_at", "updated_at", "heartbeat_at"]) {
        assert.match(asString(manifest[key], key), isoPattern, key)
      }
      assert.strictEqual(manifest["heartbeat_interval_seconds"], 5)
      assert.strictEqual(manifest["heartbeat_stale_after_seconds"], 30)
      assert.strictEqual(manifest["artifact_root"], artifactRoot)
      assert.strictEqual(manifest["compat_path"], `.runs/t/mcp/${runId}`)
      assert.strictEqual(manifest["log_path"], `${artifactRoot}/runner.ndjson`)
      assert.isBoolean(manifest["metrics_recorded"])
      assert.match(asString(manifest["resume_token"], "resume_token"), /^[0-9a-f]{64}$/)
      assert.deepStrictEqual(manifest["resume_events"], [])
      assert.deepStrictEqual(manifest["approvals"], [])
      assert.deepStrictEqual(manifest["child_runs"], [])
      assert.strictEqual(manifest["run_summary_path"], `${artifactRoot}/run-summary.json`)
      assert.strictEqual(manifest["plan_target_id"], "allpass:hello")
      assert.deepStrictEqual(manifest["instructions_sources"], [])
      const guardrails = asObject(manifest["guardrail_status"], "guardrail_status")
      assert.strictEqual(guardrails["present"], true)
      assert.strictEqual(guardrails["summary"], "Guardrails: spec-guard succeeded (1 passed).")

      // MAN-2: one entry per stage with exactly the documented keys.
      const commands = asArray(manifest["commands"], "commands")
      assert.strictEqual(commands.length, 3)
      const slugs = ["01-hello", "02-mixed-output", "03-spec-guard"]
      commands.forEach((raw, i) => {
        const entry = asObject(raw, `commands[${i}]`)
        assert.deepStrictEqual(Object.keys(entry).sort(), entryKeys)
        assert.strictEqual(entry["index"], i + 1)
        assert.strictEqual(entry["kind"], "command")
        assert.strictEqual(entry["status"], "succeeded")
        assert.strictEqual(entry["exit_code"], 0)
        assert.match(asString(entry["started_at"], "started_at"), isoPattern)
        assert.match(asString(entry["completed_at"], "completed_at"), isoPattern)
        assert.strictEqual(entry["log_path"], `${artifactRoot}/commands/${slugs[i]}.ndjson`)
        assert.isNull(entry["error_file"])
        assert.isNull(entry["sub_run_id"])
      })
      assert.strictEqual(commandAt(manifest, 0)["command"], "echo hello world")
      assert.strictEqual(commandAt(manifest, 0)["summary"], "hello world")
      assert.strictEqual(commandAt(manifest, 1)["id"], "mixed output")

      // LAY-1: the run folder's files.
      assert.deepStrictEqual(listDir(join(runDir, "commands")), slugs.map((s) => `${s}.ndjson`))
      assert.deepStrictEqual(listDir(join(runDir, "errors")), [])
      assert.isTrue(existsSync(join(runDir, "run-summary.json")), "run-summary.json")
      asObject(readJson(join(runDir, "run-summary.json")), "run-summary.json")
      assert.strictEqual(readFileSync(join(runDir, ".resume-token"), "utf8"), `${manifest["resume_token"]}\n`)
      assert.match(readFileSync(join(runDir, ".resume-token"), "utf8"), /^[0-9a-f]{64}\n$/)
      assert.match(readFileSync(join(runDir, ".heartbeat"), "utf8"), /^\d{4}-\d{2}-\d{2}T[\d:.]+Z\n$/)

      // LOG-1 / D-11: each stage log has the lifecycle and every chunk; the output is exact.
      commands.forEach((_, i) => {
        const events = readNdjson(join(runDir, "commands", `${slugs[i]}.ndjson`))
        for (const event of events) {
          assert.strictEqual(event["index"], i + 1)
          assert.match(asString(event["timestamp"], "timestamp"), isoPattern)
        }
        const types = events.map((e) => asString(e["type"], "type"))
        assert.deepStrictEqual(types.filter((t) => t !== "exec:chunk"), lifecycleTypes)
        assert.strictEqual(types[0], "command:start")
        assert.strictEqual(types[1], "exec:begin")
        assert.deepStrictEqual(types.slice(-2), ["exec:end", "command:end"])
        const chunks = events.filter((e) => e["type"] === "exec:chunk")
        assert.isAbove(chunks.length, 0, `stage ${i + 1} logged no exec:chunk`)
        chunks.forEach((chunk, n) => assert.strictEqual(chunk["sequence"], n + 1))
        const begin = events[1]
        assert.strictEqual(begin?.["cwd"], repo.dir)
        assert.strictEqual(begin?.["attempt"], 1)
        assert.deepStrictEqual(begin?.["args"], [])
        assert.strictEqual(events.at(-2)?.["exit_code"], 0)
      })
      const mixedLog = join(runDir, "commands", "02-mixed-output.ndjson")
      assert.strictEqual(stageOutput(join(runDir, "commands", "01-hello.ndjson"), "stdout"), "hello world\n")
      assert.strictEqual(stageOutput(mixedLog, "stdout"), "line1\nline2\ncafé ✓\nno-newline-at-end")
      assert.strictEqual(stageOutput(mixedLog, "stderr"), "err-1\n")
      const mixedChunks = readNdjson(mixedLog).filter((e) => e["type"] === "exec:chunk")
      const byteSum = mixedChunks.reduce((sum, e) => sum + Number(e["bytes"]), 0)
      assert.strictEqual(byteSum, Buffer.byteLength("line1\nline2\ncafé ✓\nno-newline-at-end") + "err-1\n".length)

      // D-11: runner.ndjson has the lifecycle of all stages and no chunk data.
      const runnerEvents = readNdjson(join(runDir, "runner.ndjson"))
      assert.isFalse(runnerEvents.some((e) => e["type"] === "exec:chunk"), "runner.ndjson holds exec:chunk events")
      for (const index of [1, 2, 3]) {
        assert.deepStrictEqual(runnerEvents.filter((e) => e["index"] === index).map((e) => e["type"]), lifecycleTypes)
      }

      // LAY-3: compatibility pointers.
      const compat = readJson(repo.path(".runs", "t", "mcp", runId, "manifest.json"))
      assert.strictEqual(compat["redirect_to"], artifactRoot)
      assert.strictEqual(compat["manifest"], `${artifactRoot}/manifest.json`)
      assert.strictEqual(compat["note"], "Generated by codex CLI for backward compatibility.")
      assert.match(asString(compat["created_at"], "created_at"), isoPattern)
      const link = repo.path(".runs", "local-mcp", runId, "manifest.json")
      assert.isTrue(lstatSync(link).isSymbolicLink(), "local-mcp manifest is not a symlink")
      assert.strictEqual(readlinkSync(link), `../../t/cli/${runId}/manifest.json`)
      assert.strictEqual(readJson(link)["run_id"], runId)
    }))

  it("records --parent-run and --approval-policy verbatim", () =>
    withRepo(config, async (repo) => {
      const { manifest, result } = await startJson(repo, [
        "allpass",
        "--task",
        "t",
        "--parent-run",
        "some-parent-run",
        "--approval-policy",
        "never"
      ])
      assert.strictEqual(result.code, 0, describeResult(result))
      assert.strictEqual(manifest["parent_run_id"], "some-parent-run")
      assert.strictEqual(manifest["approval_policy"], "never")
    }))

  it("prints the text summary without --format json", () =>
    withRepo(config, async (repo) => {
      const result = await runCli(["start", "allpass", "--task", "t"], { cwd: repo.dir })
      assert.strictEqual(result.code, 0, describeResult(result))
      const lines = result.stdout.split("\n")
      const runId = /^Run started: (\S+)$/.exec(lines[0] ?? "")?.[1]
      assert.isDefined(runId, describeResult(result))
      assert.match(runId ?? "", runIdPattern)
      assert.strictEqual(lines[1], "Status: succeeded")
      assert.strictEqual(lines[2], `Manifest: .runs/t/cli/${runId}/manifest.json`)
      assert.strictEqual(lines[3], `Log: .runs/t/cli/${runId}/runner.ndjson`)
      assert.notInclude(result.stdout, "[Codex-Orchestrator]")
      assert.strictEqual(readJson(repo.path(".runs", "t", "cli", runId ?? "", "manifest.json"))["status"], "succeeded")
    }))
})

describe("start: stdout with --format json", () => {
  it("is exactly one JSON document even when stages print JSON and text on both streams", () =>
    withRepo(
      {
        pipelines: [
          pipeline("noisy", [
            commandStage("json-out", "echo '{\"run_id\":\"not-the-result\"}'; echo '[Codex-Orchestrator] fake' >&2"),
            commandStage("text-out", "seq 1 2000; seq 1 2000 >&2")
          ])
        ]
      },
      async (repo) => {
        const result = await runCli(["start", "noisy", "--task", "t", "--format", "json"], { cwd: repo.dir })
        assert.strictEqual(result.code, 0, describeResult(result))
        const output = asObject(JSON.parse(result.stdout), "stdout")
        assert.match(asString(output["run_id"], "run_id"), runIdPattern)
        assert.strictEqual(output["status"], "succeeded")
        assert.notInclude(result.stdout, "not-the-result")
        assert.notInclude(result.stdout, "\n1999\n")
      }
    ))
})

describe("start --follow", () => {
  it("prints every stage's output on stderr as it arrives, in order; stdout keeps only the result", () =>
    withRepo(
      { pipelines: [pipeline("talk", [commandStage("one", "echo out-one; echo err-one >&2"), commandStage("two", "seq 1 3000")])] },
      async (repo) => {
        const followed = await runCli(["start", "talk", "--task", "t", "--format", "json", "--follow"], { cwd: repo.dir })
        assert.strictEqual(followed.code, 0, describeResult(followed))
        assert.strictEqual(asObject(JSON.parse(followed.stdout), "stdout")["status"], "succeeded")
        assert.include(followed.stderr, "out-one\n")
        assert.include(followed.stderr, "err-one\n")
        const numbers = followed.stderr.split("\n").filter((line) => /^\d+$/.test(line))
        assert.deepStrictEqual(numbers, Array.from({ length: 3000 }, (_, i) => String(i + 1)))
        assert.isBelow(followed.stderr.indexOf("out-one"), followed.stderr.indexOf("\n1\n"))

        const quiet = await runCli(["start", "talk", "--task", "t", "--format", "json"], { cwd: repo.dir })
        assert.strictEqual(quiet.code, 0, describeResult(quiet))
        // Only the progress lines (which show the command); none of the output itself.
        const lines = quiet.stderr.split("\n")
        assert.notInclude(lines, "out-one")
        assert.notInclude(lines, "2999")
        assert.include(followed.stderr.split("\n"), "out-one")
      }
    ))
})

describe("start: CODEX_ORCHESTRATOR_EMIT_COMMAND_STREAMS (LOG-1)", () => {
  const config = { pipelines: [pipeline("streams", [commandStage("say", "echo out; echo err >&2")])] }

  it("=1 adds a command:stdout / command:stderr line after each chunk of the stage log", () =>
    withRepo(config, async (repo) => {
      const { result, runDir } = await startJson(repo, ["streams", "--task", "t"], { CODEX_ORCHESTRATOR_EMIT_COMMAND_STREAMS: "1" })
      assert.strictEqual(result.code, 0, describeResult(result))
      const events = readNdjson(join(runDir, "commands", "01-say.ndjson"))
      const streams = events.filter((e) => e["type"] === "command:stdout" || e["type"] === "command:stderr")
      assert.sameMembers(streams.map((e) => `${String(e["type"])} ${String(e["data"])}`), ["command:stdout out\n", "command:stderr err\n"])
      for (const stream of streams) {
        const before = events[events.indexOf(stream) - 1]
        assert.strictEqual(before?.["type"], "exec:chunk")
        assert.strictEqual(before?.["data"], stream["data"])
      }
    }))
})

describe("start: a stage that cannot start (issue 16 item 16)", () => {
  const config = {
    pipelines: [pipeline("nocwd", [commandStage("S1", "echo hi", { cwd: "afile" }), commandStage("S2", "echo never")])]
  }

  it("a cwd naming a file: the stage is failed with stage:<id>:error and an error file, the run failed (exit 1)", () =>
    withRepo(config, async (repo) => {
      writeFileSync(repo.path("afile"), "")
      const { manifest, result, runDir } = await startJson(repo, ["nocwd", "--task", "t"])
      assert.strictEqual(result.code, 1, describeResult(result))
      assert.strictEqual(manifest["status"], "failed")
      assert.strictEqual(manifest["status_detail"], "stage:S1:error")
      const first = commandAt(manifest, 0)
      assert.strictEqual(first["status"], "failed")
      assert.include(String(first["summary"]), "ENOTDIR")
      assert.strictEqual(commandAt(manifest, 1)["status"], "pending")
      const errorFile = asObject(JSON.parse(readFileSync(join(runDir, "errors", "01-S1.json"), "utf8")), "error file")
      assert.strictEqual(errorFile["reason"], "command-error")
    }))
})

describe("start: a failing stage", () => {
  const config = {
    pipelines: [
      pipeline("failing", [
        commandStage("ok", "echo ok"),
        commandStage("hard", "echo '  boom  ' >&2; exit 7"),
        commandStage("never", "echo never >> never.txt")
      ])
    ]
  }

  it("exits 1, stops the run, leaves later stages pending and writes the error file", () =>
    withRepo(config, async (repo) => {
      const { manifest, output, result, runDir } = await startJson(repo, ["failing", "--task", "t"])
      assert.strictEqual(result.code, 1, describeResult(result))
      assert.strictEqual(output["status"], "failed")
      assert.strictEqual(manifest["status"], "failed")
      assert.strictEqual(manifest["status_detail"], "stage:hard:failed")
      assert.match(asString(manifest["completed_at"], "completed_at"), isoPattern)
      assert.include(asString(manifest["summary"], "summary"), "Stage 'Stage hard' failed with exit code 7.")

      assert.strictEqual(commandAt(manifest, 0)["status"], "succeeded")
      const hard = commandAt(manifest, 1)
      assert.strictEqual(hard["status"], "failed")
      assert.strictEqual(hard["exit_code"], 7)
      assert.strictEqual(hard["summary"], "Exited with code 7 — boom")
      const artifactRoot = asString(manifest["artifact_root"], "artifact_root")
      assert.strictEqual(hard["error_file"], `${artifactRoot}/errors/02-hard.json`)

      const never = commandAt(manifest, 2)
      assert.strictEqual(never["status"], "pending")
      assert.isNull(never["started_at"])
      assert.isNull(never["exit_code"])
      assert.isNull(never["log_path"])
      assert.isFalse(existsSync(repo.path("never.txt")), "the stage after the failure ran")
      assert.deepStrictEqual(listDir(join(runDir, "commands")), ["01-ok.ndjson", "02-hard.ndjson"])

      // LOG-2
      assert.deepStrictEqual(listDir(join(runDir, "errors")), ["02-hard.json"])
      const errorFile = readJson(join(runDir, "errors", "02-hard.json"))
      assert.deepStrictEqual(Object.keys(errorFile).sort(), errorFileKeys)
      assert.strictEqual(errorFile["run_id"], manifest["run_id"])
      assert.strictEqual(errorFile["task_id"], "t")
      assert.strictEqual(errorFile["command_index"], 2)
      assert.strictEqual(errorFile["command_id"], "hard")
      assert.strictEqual(errorFile["command"], "echo '  boom  ' >&2; exit 7")
      assert.strictEqual(errorFile["reason"], "command-failed")
      assert.match(asString(errorFile["created_at"], "created_at"), isoPattern)
      const details = asObject(errorFile["details"], "details")
      assert.strictEqual(details["exit_code"], 7)
      assert.strictEqual(details["sandbox_state"], "sandboxed")
      assert.strictEqual(details["stderr"], "boom")
      assert.isUndefined(details["stderr_truncated"])
      assert.isUndefined(details["stdout_truncated"])
    }))

  it("keeps only the stderr tail in the error file and marks it truncated", () =>
    withRepo(
      { pipelines: [pipeline("loud", [commandStage("loud", "seq 1 30000 >&2; echo last-line >&2; exit 3")])] },
      async (repo) => {
        const { manifest, result, runDir } = await startJson(repo, ["loud", "--task", "t"])
        assert.strictEqual(result.code, 1, describeResult(result))
        assert.strictEqual(manifest["status"], "failed")
        const details = asObject(readJson(join(runDir, "errors", "01-loud.json"))["details"], "details")
        assert.strictEqual(details["exit_code"], 3)
        // LOG-2: more than 64 KiB on stderr; MAN-6: the detail string is cut at 8192 characters + `…`.
        assert.strictEqual(details["stderr_truncated"], true)
        const stderr = asString(details["stderr"], "stderr")
        assert.strictEqual(stderr.length, 8193)
        assert.isTrue(stderr.endsWith("…"))
        // A tail, not the head: the first lines the stage printed are not retained.
        assert.isFalse(stderr.startsWith("1\n2\n3\n"), "details.stderr holds the head of the output")
        assert.notInclude(`\n${stderr}`, "\n100\n")
        // The stage log still has all of it.
        const logged = stageOutput(join(runDir, "commands", "01-loud.ndjson"), "stderr")
        assert.isTrue(logged.startsWith("1\n2\n3\n"))
        assert.isTrue(logged.endsWith("30000\nlast-line\n"))
      }
    ))

  it("prints the failed status in text format and exits 1", () =>
    withRepo(config, async (repo) => {
      const result = await runCli(["start", "failing", "--task", "t"], { cwd: repo.dir })
      assert.strictEqual(result.code, 1, describeResult(result))
      const lines = result.stdout.split("\n")
      assert.match(lines[0] ?? "", /^Run started: \S+$/)
      assert.strictEqual(lines[1], "Status: failed (stage:hard:failed)")
    }))
})

describe("start: an allowFailure stage", () => {
  it("is recorded skipped and the run goes on and succeeds (exit 0)", () =>
    withRepo(
      {
        pipelines: [
          pipeline("tolerant", [
            commandStage("ok", "echo ok"),
            commandStage("soft", "echo soft >&2; exit 3", { allowFailure: true }),
            commandStage("after", "echo after > after.txt; echo after")
          ])
        ]
      },
      async (repo) => {
        const { manifest, output, result } = await startJson(repo, ["tolerant", "--task", "t"])
        assert.strictEqual(result.code, 0, describeResult(result))
        assert.strictEqual(output["status"], "succeeded")
        assert.strictEqual(manifest["status"], "succeeded")
        assert.isNull(manifest["status_detail"])
        const soft = commandAt(manifest, 1)
        assert.strictEqual(soft["status"], "skipped")
        assert.strictEqual(soft["exit_code"], 3)
        assert.strictEqual(soft["summary"], "Exited with code 3 — soft")
        assert.strictEqual(commandAt(manifest, 2)["status"], "succeeded")
        assert.strictEqual(readFileSync(repo.path("after.txt"), "utf8"), "after\n")
      }
    ))
})

describe("start: a stage that leaves a process in the background (EXE-7)", () => {
  it("ends with its shell: a holder of its output is stopped with a warning, a redirected one serves the next stage", () =>
    withRepo(
      {
        pipelines: [
          pipeline("servers", [
            // Holds the stage's stdout and stderr for 60 s after its shell exits.
            commandStage("holder", "sleep 60 & echo $! > holder.pid; echo started"),
            // Output redirected: left running, as a server a later stage uses would be.
            commandStage("server", "sleep 60 > /dev/null 2>&1 & echo $! > server.pid"),
            commandStage("uses", "kill -0 \"$(cat server.pid)\" && echo server-up")
          ])
        ]
      },
      async (repo) => {
        const { manifest, result } = await startJson(repo, ["servers", "--task", "t"])
        const serverPid = Number.parseInt(readFileSync(repo.path("server.pid"), "utf8"), 10)
        try {
          assert.strictEqual(result.code, 0, describeResult(result))
          assert.strictEqual(manifest["status"], "succeeded")
          assert.deepStrictEqual([0, 1, 2].map((i) => commandAt(manifest, i)["status"]), ["succeeded", "succeeded", "succeeded"])
          assert.strictEqual(commandAt(manifest, 0)["summary"], "started")
          assert.strictEqual(commandAt(manifest, 2)["summary"], "server-up")
          assert.include(result.stderr, "still held its output 2s later: stopped them")
          // The stage's own log keeps it too (its stderr), so the run's record says why the process is gone.
          const log = readFileSync(repo.path(String(commandAt(manifest, 0)["log_path"])), "utf8")
          assert.include(log, "still held its output 2s later; they were stopped")
          const holderPid = Number.parseInt(readFileSync(repo.path("holder.pid"), "utf8"), 10)
          // Stopped: gone, or a zombie PID 1 has not reaped yet (the stage ends once its processes have exited).
          assert.isFalse(isLiveProcess(holderPid), "the holder was stopped")
        } finally {
          try {
            process.kill(serverPid, "SIGKILL")
          } catch {
            // Already gone.
          }
        }
      }
    ))

  it("a grace that is not a number of seconds is bad input: exit 2, one line naming the variable, no run", () =>
    withRepo({ pipelines: [pipeline("one", [commandStage("a", "echo a")])] }, async (repo) => {
      const result = await runCli(["start", "one", "--task", "t"], { cwd: repo.dir, env: { CODEX_ORCHESTRATOR_OUTPUT_GRACE_SECONDS: "2s" } })
      assert.strictEqual(result.code, 2, describeResult(result))
      assert.include(result.stderr, 'CODEX_ORCHESTRATOR_OUTPUT_GRACE_SECONDS="2s" is not a number ≥ 0.')
      assert.strictEqual(result.stderr.trim().split("\n").length, 1, describeResult(result))
      assert.isFalse(existsSync(repo.path(".runs", "t")), "no run was started")
    }))
})

describe("start: an out folder that cannot be made", () => {
  it("records the run failed with the reason, naming the folder, and exits 1 (it stayed queued for good)", () =>
    withRepo({ pipelines: [pipeline("one", [commandStage("a", "echo a > a.txt")])] }, async (repo) => {
      writeFileSync(repo.path("a-file"), "not a folder\n")
      const result = await runCli(["start", "one", "--task", "t", "--format", "json"], {
        cwd: repo.dir,
        env: { CODEX_ORCHESTRATOR_OUT_DIR: repo.path("a-file", "out") }
      })
      assert.strictEqual(result.code, 1, describeResult(result))
      const errors = result.stderr.split("\n").filter((line) => line.includes("error: "))
      assert.strictEqual(errors.length, 1, `said once\n${describeResult(result)}`)
      assert.include(errors[0], repo.path("a-file", "out"))
      // Which folder it is, and where it is set (before: 'Could not create folder <path>: ...' alone).
      assert.include(errors[0], "the task's out folder (CODEX_ORCHESTRATOR_OUT_DIR)")
      const [runId] = listDir(repo.path(".runs", "t", "cli"))
      const manifest = readJson(repo.path(".runs", "t", "cli", String(runId), "manifest.json"))
      assert.strictEqual(manifest["status"], "failed", JSON.stringify(manifest))
      assert.isString(manifest["completed_at"])
      assert.include(String(manifest["summary"]), repo.path("a-file", "out"))
      assert.strictEqual(commandAt(manifest, 0)["status"], "pending")
      assert.isFalse(existsSync(repo.path("a.txt")), "no stage ran")
    }))
})

describe("start: a stage whose command does not exist", () => {
  it("fails that stage with exit code 127 and the run with exit 1 (not bad input)", () =>
    withRepo(
      {
        pipelines: [
          pipeline("missing", [
            commandStage("nothing", "definitely-not-a-command-4f2a9c --flag"),
            commandStage("never", "echo never >> never.txt")
          ])
        ]
      },
      async (repo) => {
        const { manifest, result, runDir } = await startJson(repo, ["missing", "--task", "t"])
        assert.strictEqual(result.code, 1, describeResult(result))
        assert.strictEqual(manifest["status"], "failed")
        const entry = commandAt(manifest, 0)
        assert.strictEqual(entry["status"], "failed")
        assert.strictEqual(entry["exit_code"], 127)
        assert.strictEqual(commandAt(manifest, 1)["status"], "pending")
        assert.isFalse(existsSync(repo.path("never.txt")))
        const details = asObject(readJson(join(runDir, "errors", "01-nothing.json"))["details"], "details")
        assert.strictEqual(details["exit_code"], 127)
        assert.match(asString(details["stderr"], "stderr"), /not found/)
      }
    ))
})

describe("start: nested pipelines", () => {
  const config = {
    pipelines: [
      pipeline("parent", [
        commandStage("first", "echo in-parent"),
        subpipelineStage("nested", "child"),
        subpipelineStage("optional-nested", "child-fails", { optional: true }),
        commandStage("last", "echo last > last.txt")
      ]),
      pipeline("child", [commandStage("inner", "echo in-child > child.txt")]),
      pipeline("child-fails", [commandStage("inner-fail", "exit 4")]),
      pipeline("strict-parent", [
        subpipelineStage("required", "child-fails"),
        commandStage("after", "echo after > after.txt")
      ])
    ]
  }

  it("runs each nested pipeline as a child run linked both ways", () =>
    withRepo(config, async (repo) => {
      const { manifest, result } = await startJson(repo, ["parent", "--task", "t"])
      assert.strictEqual(result.code, 0, describeResult(result))
      assert.strictEqual(manifest["status"], "succeeded")
      const parentRunId = asString(manifest["run_id"], "run_id")
      assert.strictEqual(readFileSync(repo.path("child.txt"), "utf8"), "in-child\n")
      assert.strictEqual(readFileSync(repo.path("last.txt"), "utf8"), "last\n")

      const nested = commandAt(manifest, 1)
      assert.deepStrictEqual(Object.keys(nested).sort(), entryKeys)
      assert.strictEqual(nested["kind"], "subpipeline")
      assert.strictEqual(nested["status"], "succeeded")
      assert.isNull(nested["command"])
      assert.isNull(nested["exit_code"])
      assert.isNull(nested["log_path"])
      const childRunId = asString(nested["sub_run_id"], "sub_run_id")
      assert.match(childRunId, runIdPattern)
      assert.notStrictEqual(childRunId, parentRunId)

      const optional = commandAt(manifest, 2)
      assert.strictEqual(optional["status"], "skipped")
      const failedChildId = asString(optional["sub_run_id"], "sub_run_id")

      assert.deepStrictEqual(manifest["child_runs"], [
        { run_id: childRunId, pipeline_id: "child", status: "succeeded", manifest: `.runs/t/cli/${childRunId}/manifest.json` },
        {
          run_id: failedChildId,
          pipeline_id: "child-fails",
          status: "failed",
          manifest: `.runs/t/cli/${failedChildId}/manifest.json`
        }
      ])

      const child = readJson(repo.path(".runs", "t", "cli", childRunId, "manifest.json"))
      assert.strictEqual(child["parent_run_id"], parentRunId)
      assert.strictEqual(child["task_id"], "t")
      assert.strictEqual(child["pipeline_id"], "child")
      assert.strictEqual(child["status"], "succeeded")
      assert.strictEqual(commandAt(child, 0)["status"], "succeeded")
      // RUN-7: the entry's summary is the child's RunSummary review.summary.
      const childSummary = readJson(repo.path(".runs", "t", "cli", childRunId, "run-summary.json"))
      assert.strictEqual(nested["summary"], asObject(childSummary["review"], "review")["summary"])

      const failedChild = readJson(repo.path(".runs", "t", "cli", failedChildId, "manifest.json"))
      assert.strictEqual(failedChild["parent_run_id"], parentRunId)
      assert.strictEqual(failedChild["status"], "failed")
      assert.strictEqual(commandAt(failedChild, 0)["exit_code"], 4)

      assert.deepStrictEqual(listDir(repo.path(".runs", "t", "cli")), [childRunId, failedChildId, parentRunId].sort())
    }))

  it("fails the parent when a required nested pipeline fails (exit 1)", () =>
    withRepo(config, async (repo) => {
      const { manifest, result } = await startJson(repo, ["strict-parent", "--task", "t"])
      assert.strictEqual(result.code, 1, describeResult(result))
      assert.strictEqual(manifest["status"], "failed")
      assert.strictEqual(manifest["status_detail"], "subpipeline:child-fails:failed")
      const required = commandAt(manifest, 0)
      assert.strictEqual(required["status"], "failed")
      const childRunId = asString(required["sub_run_id"], "sub_run_id")
      assert.strictEqual(readJson(repo.path(".runs", "t", "cli", childRunId, "manifest.json"))["status"], "failed")
      assert.strictEqual(commandAt(manifest, 1)["status"], "pending")
      assert.isFalse(existsSync(repo.path("after.txt")))
    }))
})

describe("start --target", () => {
  it("runs only the targeted stage; the others are skipped with `not targeted`", () =>
    withRepo(
      {
        pipelines: [
          pipeline("three", [
            commandStage("one", "echo one >> trace.txt"),
            commandStage("two", "echo two >> trace.txt"),
            commandStage("three", "echo three >> trace.txt")
          ])
        ]
      },
      async (repo) => {
        const { manifest, result, runDir } = await startJson(repo, ["three", "--task", "t", "--target", "two"])
        assert.strictEqual(result.code, 0, describeResult(result))
        assert.strictEqual(manifest["status"], "succeeded")
        assert.strictEqual(readFileSync(repo.path("trace.txt"), "utf8"), "two\n")
        assert.strictEqual(manifest["plan_target_id"], "three:two")
        for (const position of [0, 2]) {
          const entry = commandAt(manifest, position)
          assert.strictEqual(entry["status"], "skipped")
          assert.strictEqual(entry["summary"], "not targeted")
          assert.isNull(entry["exit_code"])
        }
        const targeted = commandAt(manifest, 1)
        assert.strictEqual(targeted["status"], "succeeded")
        assert.strictEqual(targeted["exit_code"], 0)
        assert.deepStrictEqual(listDir(join(runDir, "commands")), ["02-two.ndjson"])
      }
    ))
})

describe("start: environment", () => {
  const printEnv = "env | grep -E '^(CODEX_ORCHESTRATOR_|MCP_RUNNER_TASK_ID=)' | sort; echo \"FROM_PARENT=$FROM_PARENT\"; echo \"STAGE_ONLY=$STAGE_ONLY\"; echo \"PWD=$(pwd)\""
  const config = {
    pipelines: [
      pipeline("envp", [
        commandStage("plain", printEnv),
        commandStage("override", printEnv, {
          env: { CODEX_ORCHESTRATOR_PIPELINE_ID: "from-stage-env", STAGE_ONLY: "yes" }
        })
      ])
    ]
  }

  const parseVars = (text: string): Map<string, string> =>
    new Map(
      text.split("\n").filter((line) => line.includes("=")).map((line) => {
        const at = line.indexOf("=")
        return [line.slice(0, at), line.slice(at + 1)] as const
      })
    )

  it("gives each stage the ENV-5 variables and the parent environment; the stage env wins", () =>
    withRepo(config, async (repo) => {
      // D-20: the parent's MCP_RUNNER_TASK_ID is another task; the stage sees the run's.
      const { manifest, result, runDir } = await startJson(repo, ["envp", "--task", "t"], {
        FROM_PARENT: "inherited",
        MCP_RUNNER_TASK_ID: "other"
      })
      assert.strictEqual(result.code, 0, describeResult(result))
      const runId = asString(manifest["run_id"], "run_id")
      const expected = {
        CODEX_ORCHESTRATOR_TASK_ID: "t",
        CODEX_ORCHESTRATOR_RUN_ID: runId,
        CODEX_ORCHESTRATOR_PIPELINE_ID: "envp",
        CODEX_ORCHESTRATOR_MANIFEST_PATH: join(runDir, "manifest.json"),
        CODEX_ORCHESTRATOR_RUN_DIR: runDir,
        CODEX_ORCHESTRATOR_RUNS_DIR: repo.path(".runs"),
        CODEX_ORCHESTRATOR_OUT_DIR: repo.path("out"),
        CODEX_ORCHESTRATOR_REPO_ROOT: repo.dir,
        MCP_RUNNER_TASK_ID: "t"
      }

      const plain = parseVars(stageOutput(join(runDir, "commands", "01-plain.ndjson"), "stdout"))
      for (const [key, value] of Object.entries(expected)) assert.strictEqual(plain.get(key), value, key)
      assert.strictEqual(plain.get("FROM_PARENT"), "inherited")
      assert.strictEqual(plain.get("STAGE_ONLY"), "")
      assert.strictEqual(plain.get("PWD"), repo.dir)

      const override = parseVars(stageOutput(join(runDir, "commands", "02-override.ndjson"), "stdout"))
      assert.strictEqual(override.get("CODEX_ORCHESTRATOR_PIPELINE_ID"), "from-stage-env")
      assert.strictEqual(override.get("CODEX_ORCHESTRATOR_RUN_ID"), runId)
      assert.strictEqual(override.get("STAGE_ONLY"), "yes")
      assert.strictEqual(override.get("FROM_PARENT"), "inherited")
    }))

  it("runs under .runs/0101 when MCP_RUNNER_TASK_ID is empty (counts as unset)", () =>
    withRepo({ pipelines: [pipeline("p", [commandStage("one", "echo one")])] }, async (repo) => {
      const { manifest, output, result } = await startJson(repo, ["p"], { MCP_RUNNER_TASK_ID: "" })
      assert.strictEqual(result.code, 0, describeResult(result))
      assert.strictEqual(manifest["task_id"], "0101")
      assert.match(asString(output["artifact_root"], "artifact_root"), /^\.runs\/0101\/cli\//)
      assert.deepStrictEqual(listDir(repo.path(".runs")), ["0101", "local-mcp"])
    }))

  it("uses MCP_RUNNER_TASK_ID when set, and --task over it", () =>
    withRepo({ pipelines: [pipeline("p", [commandStage("one", "echo one")])] }, async (repo) => {
      const fromEnv = await startJson(repo, ["p"], { MCP_RUNNER_TASK_ID: "env-task" })
      assert.strictEqual(fromEnv.result.code, 0, describeResult(fromEnv.result))
      assert.strictEqual(fromEnv.manifest["task_id"], "env-task")
      const fromFlag = await startJson(repo, ["p", "--task", "flag-task"], { MCP_RUNNER_TASK_ID: "env-task" })
      assert.strictEqual(fromFlag.result.code, 0, describeResult(fromFlag.result))
      assert.strictEqual(fromFlag.manifest["task_id"], "flag-task")
      assert.deepStrictEqual(listDir(repo.path(".runs")), ["env-task", "flag-task", "local-mcp"])
    }))

  it("takes the repository from CODEX_ORCHESTRATOR_ROOT instead of the working directory", () =>
    withRepo({ pipelines: [pipeline("p", [commandStage("one", "pwd")])] }, (repo) =>
      withRepo(undefined, async (elsewhere) => {
        const result = await runCli(["start", "p", "--task", "t", "--format", "json"], {
          cwd: elsewhere.dir,
          env: { CODEX_ORCHESTRATOR_ROOT: repo.dir }
        })
        assert.strictEqual(result.code, 0, describeResult(result))
        const output = asObject(JSON.parse(result.stdout), "stdout")
        const runDir = repo.path(asString(output["artifact_root"], "artifact_root"))
        assert.strictEqual(readJson(join(runDir, "manifest.json"))["status"], "succeeded")
        assert.strictEqual(stageOutput(join(runDir, "commands", "01-one.ndjson"), "stdout"), `${repo.dir}\n`)
        assert.deepStrictEqual(listDir(elsewhere.dir), [])
      })
    ))
})
