/**
 * Recovery end to end: resume after a failure, after `kill -9` and after SIGINT; stage timeouts; a
 * second writer refused; concurrent runs of one task; `status` (text, JSON, errors, --watch); and
 * --parent-run. Every test drives the built CLI on real processes in its own temporary repository
 * (SPEC RUN-8, RUN-9, CLI-6, CLI-7, LAY-1; DECISIONS D-1, D-6, D-7, D-8, D-9).
 *
 * Stages that outlive a step record their shell's /proc/<pid>/stat (pid and process group) and the
 * pid of their background child, so the test can tell that exactly those processes are gone, and
 * kill a crashed run's leftovers by process group, without matching processes by name.
 */
import { spawn } from "node:child_process"
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, beforeAll, describe, it } from "vitest"
import {
  asArray,
  asObject,
  asString,
  type CliResult,
  commandAt,
  commandStage,
  describeResult,
  fullCliBundle,
  isLiveProcess,
  isoPattern,
  type JsonObject,
  killProcessGroup,
  liveProcessesUnder,
  liveProcessGroupMembers,
  parseJson,
  parseProcStat,
  pipeline,
  type ProcInfo,
  readJson,
  readNdjson,
  requireBuiltCli,
  runCli,
  runDirsOf,
  spawnCli,
  stageOutput,
  startJson,
  type TempRepo,
  waitFor,
  withRepo
} from "../support/cli.js"

beforeAll(requireBuiltCli)

const task = "t"

const writeConfig = (repo: TempRepo, config: unknown) =>
  writeFileSync(repo.path("codex.orchestrator.json"), `${JSON.stringify(config, null, 2)}\n`)

const manifestOf = (runDir: string) => readJson(join(runDir, "manifest.json"))

const statuses = (manifest: JsonObject) =>
  asArray(manifest["commands"], "manifest.commands").map((c, i) => asObject(c, `commands[${i}]`)["status"])

const resumeEvents = (manifest: JsonObject) =>
  asArray(manifest["resume_events"], "resume_events").map((e, i) => asObject(e, `resume_events[${i}]`))

const lines = (file: string) => readFileSync(file, "utf8").split("\n").filter((line) => line.length > 0)

/** stdout as one JSON document (the D-2 contract of --format json). */
const stdoutJson = (result: CliResult): JsonObject => {
  try {
    return asObject(parseJson(result.stdout), "stdout")
  } catch (error) {
    throw new Error(`stdout is not one JSON document (${String(error)})\n${describeResult(result)}`)
  }
}

/** The only run folder of `task` once its manifest exists (for runs started in the background). */
const waitForRunDir = (repo: TempRepo) =>
  waitFor("the run folder with a manifest", () => {
    const dirs = runDirsOf(repo, task)
    return dirs.length === 1 ? dirs[0] : undefined
  })

/** Waits until the manifest (parsed) satisfies `ok`; returns it. */
const waitForManifest = (runDir: string, what: string, ok: (manifest: JsonObject) => boolean) =>
  waitFor(what, () => {
    const manifest = manifestOf(runDir)
    return ok(manifest) ? manifest : undefined
  })

/** The /proc stat a stage's shell wrote with `cat /proc/$$/stat > <file>`. */
const stageShell = (file: string): ProcInfo => {
  const info = parseProcStat(readFileSync(file, "utf8"))
  if (info === undefined) throw new Error(`${file}: not a /proc/<pid>/stat line`)
  return info
}

/** `pgrep -f` restricted to this repository: live processes whose working directory is in it. */
const leftoversMatching = (repo: TempRepo, pattern: RegExp) =>
  liveProcessesUnder(repo.dir).filter((p) => pattern.test(p.cmdline))

/** Waits (up to 5 s) until no process of the stage's group, nor any matching `pattern` in the repo, is alive. */
const waitUntilGone = (repo: TempRepo, shell: ProcInfo, pattern: RegExp, extraPids: ReadonlyArray<number> = []) =>
  waitFor(
    `the stage's processes to exit (group ${shell.pgid}: ${liveProcessGroupMembers(shell.pgid).join(", ")}; matching ${pattern}: ${
      JSON.stringify(leftoversMatching(repo, pattern))
    })`,
    () =>
      liveProcessGroupMembers(shell.pgid).length === 0 &&
        leftoversMatching(repo, pattern).length === 0 &&
        extraPids.every((pid) => !isLiveProcess(pid))
        ? true
        : undefined,
    { timeoutMs: 5_000 }
  )

describe("resume after a failed stage (RUN-9, CLI-6, D-7)", () => {
  const config = {
    pipelines: [
      pipeline("fix", [
        commandStage("count", "echo ran >> count.txt"),
        commandStage("check", "test -f marker.txt || { echo 'marker missing' >&2; exit 3; }")
      ])
    ]
  }

  it("re-runs only the failed stage, records the resume event and drops the old error_file", () =>
    withRepo(config, async (repo) => {
      const started = await startJson(repo, ["fix", "--task", task])
      assert.strictEqual(started.result.code, 1, describeResult(started.result))
      const runId = asString(started.output["run_id"], "run_id")
      assert.strictEqual(started.manifest["status"], "failed")
      assert.strictEqual(started.manifest["status_detail"], "stage:check:failed")
      const failedEntry = commandAt(started.manifest, 1)
      assert.strictEqual(failedEntry["status"], "failed")
      const errorFile = asString(failedEntry["error_file"], "error_file of the failed stage")
      assert.isTrue(existsSync(repo.path(errorFile)), errorFile)
      const firstStageStartedAt = commandAt(started.manifest, 0)["started_at"]

      // D-7: a --token that does not match is refused (exit 2) and the manifest is left as it was.
      const manifestBefore = readFileSync(join(started.runDir, "manifest.json"), "utf8")
      const wrongToken = await runCli(["resume", "--run", runId, "--task", task, "--token", "0".repeat(64)], {
        cwd: repo.dir
      })
      assert.strictEqual(wrongToken.code, 2, describeResult(wrongToken))
      assert.include(wrongToken.stderr, "Resume token mismatch")
      assert.strictEqual(readFileSync(join(started.runDir, "manifest.json"), "utf8"), manifestBefore)

      writeFileSync(repo.path("marker.txt"), "fixed\n")
      const resumed = await runCli(
        ["resume", "--run", runId, "--task", task, "--actor", "alice", "--reason", "marker created", "--format", "json"],
        { cwd: repo.dir }
      )
      assert.strictEqual(resumed.code, 0, describeResult(resumed))
      const output = stdoutJson(resumed)
      assert.strictEqual(output["run_id"], runId)
      assert.strictEqual(output["status"], "succeeded")

      const manifest = manifestOf(started.runDir)
      assert.strictEqual(manifest["run_id"], runId)
      assert.strictEqual(manifest["status"], "succeeded")
      assert.strictEqual(manifest["status_detail"], null)
      assert.match(asString(manifest["completed_at"], "completed_at"), isoPattern)
      assert.strictEqual(manifest["resume_token"], started.manifest["resume_token"])
      assert.deepStrictEqual(statuses(manifest), ["succeeded", "succeeded"])

      const events = resumeEvents(manifest)
      assert.strictEqual(events.length, 1, JSON.stringify(events))
      const event = asObject(events[0], "resume_events[0]")
      assert.strictEqual(event["actor"], "alice")
      assert.strictEqual(event["reason"], "marker created")
      assert.strictEqual(event["outcome"], "accepted")
      assert.match(asString(event["timestamp"], "timestamp"), isoPattern)

      // Stage 1 did not run again; the re-run stage succeeded and lost its old error_file (D-7).
      assert.deepStrictEqual(lines(repo.path("count.txt")), ["ran"])
      assert.strictEqual(commandAt(manifest, 0)["started_at"], firstStageStartedAt)
      const rerun = commandAt(manifest, 1)
      assert.strictEqual(rerun["exit_code"], 0)
      assert.strictEqual(rerun["error_file"], null)
    }))
})

describe("kill -9 of the orchestrator in the middle of a stage (D-6, D-7)", () => {
  const config = (secondCommand: string) => ({
    pipelines: [
      pipeline("crash", [
        commandStage("one", "echo ran >> count.txt"),
        commandStage("two", secondCommand),
        commandStage("three", "echo three")
      ])
    ]
  })
  const slowSecond = "cat /proc/$$/stat > two.stat; echo started > s2.txt; sleep 31.5"

  it("leaves a readable in_progress manifest that status reports, and resume finishes the run", () =>
    withRepo(config(slowSecond), async (repo) => {
      let stageGroup: number | undefined
      const cli = spawnCli(["start", "crash", "--task", task, "--format", "json"], { cwd: repo.dir })
      try {
        await waitFor("stage two to start (s2.txt)", () => existsSync(repo.path("s2.txt")) || undefined)
        stageGroup = stageShell(repo.path("two.stat")).pgid
        const runDir = await waitForRunDir(repo)
        await waitForManifest(runDir, "stage two recorded running", (m) => commandAt(m, 1)["status"] === "running")

        cli.kill("SIGKILL")
        const exit = await cli.exited
        assert.strictEqual(exit.signal, "SIGKILL")

        // D-6: whatever the moment of the kill, the manifest is whole JSON.
        const crashed = JSON.parse(readFileSync(join(runDir, "manifest.json"), "utf8")) as unknown
        assert.isObject(crashed)
        const manifest = manifestOf(runDir)
        const runId = asString(manifest["run_id"], "run_id")
        assert.strictEqual(manifest["status"], "in_progress")
        assert.deepStrictEqual(statuses(manifest), ["succeeded", "running", "pending"])
        assert.strictEqual(readJson(join(runDir, ".owner.json"))["pid"], cli.pid)

        const statusJson = await runCli(["status", "--run", runId, "--task", task, "--format", "json"], { cwd: repo.dir })
        assert.strictEqual(statusJson.code, 0, describeResult(statusJson))
        const view = stdoutJson(statusJson)
        assert.strictEqual(view["run_id"], runId)
        assert.strictEqual(view["status"], "in_progress")
        assert.strictEqual(view["completed_at"], null)
        assert.strictEqual(asObject(asArray(view["commands"], "commands")[1], "commands[1]")["status"], "running")

        const statusText = await runCli(["status", "--run", runId, "--task", task], { cwd: repo.dir })
        assert.strictEqual(statusText.code, 0, describeResult(statusText))
        const textLines = statusText.stdout.split("\n")
        assert.include(textLines, "Completed: in-progress")
        assert.include(textLines, "  [running] Stage two")
        assert.isTrue(textLines.some((line) => line.startsWith("Status: in_progress")), statusText.stdout)

        // The owner is dead, so the run resumes although its heartbeat is fresh (D-7).
        writeConfig(repo, config("echo two again"))
        const resumed = await runCli(["resume", "--run", runId, "--task", task, "--format", "json"], { cwd: repo.dir })
        assert.strictEqual(resumed.code, 0, describeResult(resumed))
        assert.strictEqual(stdoutJson(resumed)["status"], "succeeded")
        const finished = manifestOf(runDir)
        assert.strictEqual(finished["status"], "succeeded")
        assert.deepStrictEqual(statuses(finished), ["succeeded", "succeeded", "succeeded"])
        assert.strictEqual(resumeEvents(finished).length, 1)
        assert.deepStrictEqual(lines(repo.path("count.txt")), ["ran"])
      } finally {
        cli.kill("SIGKILL")
        // The crashed run's stage (sh + sleep 31.5) is in its own process group and outlived it.
        if (stageGroup !== undefined) killProcessGroup(stageGroup)
      }
    }))
})

describe("resume signals only a process group shown to be the crashed run's (issue 16, item 14)", () => {
  const config = (second: string) => ({
    pipelines: [pipeline("crash", [commandStage("one", "echo one"), commandStage("two", second)])]
  })

  /** Starts the run, kills the orchestrator with kill -9 while stage two runs; returns the run and the stage's group. */
  const crashDuringTwo = async (repo: TempRepo) => {
    const cli = spawnCli(["start", "crash", "--task", task, "--format", "json"], { cwd: repo.dir })
    try {
      await waitFor("stage two to start (s2.txt)", () => existsSync(repo.path("s2.txt")) || undefined)
      const group = stageShell(repo.path("two.stat")).pgid
      const runDir = await waitForRunDir(repo)
      await waitForManifest(runDir, "stage two recorded running", (m) => commandAt(m, 1)["status"] === "running")
      // The stage's pid reaches .owner.json while the stage runs, not before it starts.
      await waitFor("the stage's pid in .owner.json", () => readJson(join(runDir, ".owner.json"))["stage_pid"] === group || undefined)
      cli.kill("SIGKILL")
      await cli.exited
      return { runDir, runId: asString(manifestOf(runDir)["run_id"], "run_id"), group }
    } catch (error) {
      cli.kill("SIGKILL")
      throw error
    }
  }

  it("the crashed stage's own group is stopped (its environment names the run)", () =>
    withRepo(config("cat /proc/$$/stat > two.stat; echo started > s2.txt; sleep 32.6"), async (repo) => {
      let stageGroup: number | undefined
      try {
        const crashed = await crashDuringTwo(repo)
        stageGroup = crashed.group
        assert.isNotEmpty(liveProcessGroupMembers(crashed.group), "the orphaned stage outlived the orchestrator")
        writeConfig(repo, config("echo two again"))
        const resumed = await runCli(["resume", "--run", crashed.runId, "--task", task, "--format", "json"], { cwd: repo.dir })
        assert.strictEqual(resumed.code, 0, describeResult(resumed))
        assert.include(resumed.stderr, `Stopping process group ${crashed.group}`)
        assert.deepStrictEqual(liveProcessGroupMembers(crashed.group), [])
      } finally {
        if (stageGroup !== undefined) killProcessGroup(stageGroup)
      }
    }))

  it("a bystander process group whose pid is planted in .owner.json survives resume", () =>
    withRepo(config("cat /proc/$$/stat > two.stat; echo started > s2.txt; sleep 32.7"), async (repo) => {
      let stageGroup: number | undefined
      // An unrelated process in its own group, as a reused pid or a hand-edited owner file would name.
      const bystander = spawn("sleep", ["33.8"], { detached: true, stdio: "ignore" })
      const bystanderPid = bystander.pid
      try {
        assert.isDefined(bystanderPid)
        if (bystanderPid === undefined) return
        const crashed = await crashDuringTwo(repo)
        stageGroup = crashed.group
        killProcessGroup(crashed.group)
        const ownerFile = join(crashed.runDir, ".owner.json")
        writeFileSync(ownerFile, `${JSON.stringify({ ...readJson(ownerFile), stage_pid: bystanderPid }, null, 2)}\n`)
        writeConfig(repo, config("echo two again"))
        const resumed = await runCli(["resume", "--run", crashed.runId, "--task", task, "--format", "json"], { cwd: repo.dir })
        assert.strictEqual(resumed.code, 0, describeResult(resumed))
        assert.strictEqual(stdoutJson(resumed)["status"], "succeeded")
        assert.include(resumed.stderr, `Not stopping process group ${bystanderPid}`)
        assert.isTrue(isLiveProcess(bystanderPid), "the bystander was signalled")
        assert.deepStrictEqual(liveProcessGroupMembers(bystanderPid), [bystanderPid])
      } finally {
        bystander.kill("SIGKILL")
        if (stageGroup !== undefined) killProcessGroup(stageGroup)
      }
    }))

  it("a crash during a nested stage: resume stops the child run's stage and records that child cancelled (item 8)", () => {
    const nested = (work: string) => ({
      pipelines: [
        pipeline("outer", [commandStage("prep", "echo prep"), { kind: "subpipeline", id: "inner", title: "Stage inner", pipeline: "kid" }]),
        pipeline("kid", [commandStage("work", work)])
      ]
    })
    return withRepo(nested("cat /proc/$$/stat > work.stat; echo > work.ok; sleep 33.3"), async (repo) => {
      let group: number | undefined
      const cli = spawnCli(["start", "outer", "--task", task, "--format", "json"], { cwd: repo.dir })
      try {
        await waitFor("the child's stage to start", () => existsSync(repo.path("work.ok")) || undefined)
        group = stageShell(repo.path("work.stat")).pgid
        const childDir = await waitFor("the child run's folder", () =>
          runDirsOf(repo, task).find((dir) => manifestOf(dir)["parent_run_id"] !== null))
        const parentDir = runDirsOf(repo, task).find((dir) => manifestOf(dir)["parent_run_id"] === null)
        assert.isDefined(parentDir)
        if (parentDir === undefined) return
        assert.strictEqual(manifestOf(childDir)["parent_stage_id"], "inner", "the child names the stage that made it (RUN-7)")
        await waitFor("the child's group in its .owner.json", () => readJson(join(childDir, ".owner.json"))["stage_pid"] === group || undefined)
        cli.kill("SIGKILL")
        await cli.exited
        assert.isNotEmpty(liveProcessGroupMembers(group), "the child's stage outlived the orchestrator")
        writeConfig(repo, nested("echo work again"))
        const runId = asString(manifestOf(parentDir)["run_id"], "run_id")
        const resumed = await runCli(["resume", "--run", runId, "--task", task, "--format", "json"], { cwd: repo.dir })
        assert.strictEqual(resumed.code, 0, describeResult(resumed))
        assert.strictEqual(stdoutJson(resumed)["status"], "succeeded")
        assert.deepStrictEqual(liveProcessGroupMembers(group), [], "the child's stage still runs")
        assert.strictEqual(manifestOf(childDir)["status"], "cancelled")
        assert.deepStrictEqual(statuses(manifestOf(childDir)), ["cancelled"])
      } finally {
        cli.kill("SIGKILL")
        if (group !== undefined) killProcessGroup(group)
      }
    })
  })

  it("every stage a crashed graph run had running is stopped, not only the last one started", () => {
    const graph = (left: string, right: string) => ({
      pipelines: [pipeline("pair", [commandStage("left", left), commandStage("right", right), commandStage("join", "echo joined", { needs: ["left", "right"] })])]
    })
    return withRepo(graph("cat /proc/$$/stat > left.stat; echo > left.ok; sleep 33.1", "cat /proc/$$/stat > right.stat; echo > right.ok; sleep 33.2"), async (repo) => {
      const groups: Array<number> = []
      const cli = spawnCli(["start", "pair", "--task", task, "--format", "json"], { cwd: repo.dir })
      try {
        await waitFor("both stages to start", () => (existsSync(repo.path("left.ok")) && existsSync(repo.path("right.ok"))) || undefined)
        groups.push(stageShell(repo.path("left.stat")).pgid, stageShell(repo.path("right.stat")).pgid)
        const runDir = await waitForRunDir(repo)
        await waitFor("both groups in .owner.json", () => {
          const recorded = readJson(join(runDir, ".owner.json"))["stage_pids"]
          return (Array.isArray(recorded) && groups.every((group) => recorded.includes(group))) || undefined
        })
        cli.kill("SIGKILL")
        await cli.exited
        for (const group of groups) assert.isNotEmpty(liveProcessGroupMembers(group), `group ${group} outlived the orchestrator`)
        writeConfig(repo, graph("echo left again", "echo right again"))
        const runId = asString(manifestOf(runDir)["run_id"], "run_id")
        const resumed = await runCli(["resume", "--run", runId, "--task", task, "--format", "json"], { cwd: repo.dir })
        assert.strictEqual(resumed.code, 0, describeResult(resumed))
        for (const group of groups) {
          assert.include(resumed.stderr, `Stopping process group ${group}`)
          assert.deepStrictEqual(liveProcessGroupMembers(group), [], `group ${group} still runs beside the resumed run`)
        }
      } finally {
        cli.kill("SIGKILL")
        for (const group of groups) killProcessGroup(group)
      }
    })
  })
})

describe("SIGINT during a stage with a background child (D-8)", () => {
  const config = (command: string) => ({
    pipelines: [
      pipeline("interrupt", [
        commandStage("bg", command),
        commandStage("after", "echo after >> after.txt")
      ])
    ]
  })
  const slow = "cat /proc/$$/stat > bg.stat; sleep 77.7 & echo $! > bg.pid; sleep 77.8; echo done"

  it("kills the stage's process group, records cancelled, exits 130; resume finishes the run", () =>
    withRepo(config(slow), async (repo) => {
      let stageGroup: number | undefined
      const cli = spawnCli(["start", "interrupt", "--task", task, "--format", "json"], { cwd: repo.dir })
      try {
        const backgroundPid = await waitFor("the stage's background child (bg.pid)", () => {
          const text = readFileSync(repo.path("bg.pid"), "utf8").trim()
          return text.length > 0 ? Number(text) : undefined
        })
        const shell = stageShell(repo.path("bg.stat"))
        stageGroup = shell.pgid
        const runDir = await waitForRunDir(repo)
        await waitForManifest(runDir, "stage bg recorded running", (m) => commandAt(m, 0)["status"] === "running")
        // The checks below can see these processes: both sleeps are alive, in the stage's group.
        assert.include(liveProcessGroupMembers(shell.pgid), backgroundPid)
        // The shell may have forked for `sleep 77.8` without having exec'd it yet (seen in CI at load 12).
        await waitFor("both sleeps running", () => leftoversMatching(repo, /^sleep 77\.[78]$/).length === 2 ? true : undefined)

        cli.kill("SIGINT")
        const result = await cli.done
        assert.strictEqual(result.code, 130, describeResult(result))

        const manifest = manifestOf(runDir)
        assert.strictEqual(manifest["status"], "cancelled")
        assert.strictEqual(manifest["status_detail"], "stage:bg:cancelled")
        assert.deepStrictEqual(statuses(manifest), ["cancelled", "pending"])
        assert.isFalse(existsSync(repo.path("after.txt")))
        // D-2: the cancelled run's document is still printed on stdout (issue 16 item 8).
        const printed = asObject(parseJson(result.stdout), "stdout")
        assert.strictEqual(printed["run_id"], manifest["run_id"])
        assert.strictEqual(printed["status"], "cancelled")
        assert.strictEqual(printed["status_detail"], "stage:bg:cancelled")
        await waitUntilGone(repo, shell, /sleep 77\.[78]/, [backgroundPid])

        writeConfig(repo, config("echo quick"))
        const runId = asString(manifest["run_id"], "run_id")
        const resumed = await runCli(["resume", "--run", runId, "--task", task, "--format", "json"], { cwd: repo.dir })
        assert.strictEqual(resumed.code, 0, describeResult(resumed))
        const finished = manifestOf(runDir)
        assert.strictEqual(finished["status"], "succeeded")
        assert.strictEqual(finished["status_detail"], null)
        assert.deepStrictEqual(statuses(finished), ["succeeded", "succeeded"])
        assert.deepStrictEqual(lines(repo.path("after.txt")), ["after"])
      } finally {
        cli.kill("SIGKILL")
        if (stageGroup !== undefined) killProcessGroup(stageGroup)
      }
    }))
})

describe("SIGHUP: the terminal closed or the ssh session dropped (D-8)", () => {
  it("cancels the run as SIGTERM does: the stage's group killed, the run recorded cancelled, exit 130", () =>
    withRepo({ pipelines: [pipeline("hangup", [commandStage("wait", "cat /proc/$$/stat > wait.stat; sleep 66.6")])] }, async (repo) => {
      let stageGroup: number | undefined
      const cli = spawnCli(["start", "hangup", "--task", task], { cwd: repo.dir })
      try {
        const runDir = await waitForRunDir(repo)
        await waitForManifest(runDir, "stage wait recorded running", (m) => commandAt(m, 0)["status"] === "running")
        await waitFor("the stage's shell (wait.stat)", () => readFileSync(repo.path("wait.stat"), "utf8").length > 0 ? true : undefined)
        const shell = stageShell(repo.path("wait.stat"))
        stageGroup = shell.pgid
        await waitFor("the sleep running", () => leftoversMatching(repo, /^sleep 66\.6$/).length === 1 ? true : undefined)

        cli.kill("SIGHUP")
        const result = await cli.done
        assert.strictEqual(result.code, 130, describeResult(result))
        const manifest = manifestOf(runDir)
        assert.strictEqual(manifest["status"], "cancelled")
        assert.strictEqual(manifest["status_detail"], "stage:wait:cancelled")
        assert.deepStrictEqual(statuses(manifest), ["cancelled"])
        await waitUntilGone(repo, shell, /sleep 66\.6/)
      } finally {
        cli.kill("SIGKILL")
        if (stageGroup !== undefined) killProcessGroup(stageGroup)
      }
    }))
})

describe("a stage timeout (D-8)", () => {
  const config = {
    pipelines: [
      pipeline("slow", [
        commandStage("slow", "cat /proc/$$/stat > slow.stat; sleep 66.6 & echo $! > slow.pid; sleep 66.7", {
          timeoutMs: 500
        })
      ])
    ]
  }

  it("kills the whole process group and fails the run with stage:<id>:timeout (exit 1)", () =>
    withRepo(config, async (repo) => {
      let stageGroup: number | undefined
      try {
        const { manifest, result } = await startJson(repo, ["slow", "--task", task])
        assert.strictEqual(result.code, 1, describeResult(result))
        assert.strictEqual(manifest["status"], "failed")
        assert.strictEqual(manifest["status_detail"], "stage:slow:timeout")
        const entry = commandAt(manifest, 0)
        assert.strictEqual(entry["status"], "failed")
        const errorFile = readJson(repo.path(asString(entry["error_file"], "error_file")))
        assert.strictEqual(errorFile["reason"], "command-timeout")
        assert.strictEqual(asObject(errorFile["details"], "details")["timeout_ms"], 500)

        const shell = stageShell(repo.path("slow.stat"))
        stageGroup = shell.pgid
        const backgroundPid = Number(readFileSync(repo.path("slow.pid"), "utf8").trim())
        await waitUntilGone(repo, shell, /sleep 66\.[67]/, [backgroundPid])
      } finally {
        if (stageGroup !== undefined) killProcessGroup(stageGroup)
      }
    }))
})

describe("stopping a stage's whole process group (D-8), whatever its shell is doing", () => {
  const readPid = (repo: TempRepo, file: string) =>
    waitFor(`the stage's background child (${file})`, () => {
      const text = existsSync(repo.path(file)) ? readFileSync(repo.path(file), "utf8").trim() : ""
      return text.length > 0 ? Number(text) : undefined
    })

  it("Ctrl-C: a background child holding the output open is killed after its shell has exited", () =>
    withRepo(
      { pipelines: [pipeline("orphan", [commandStage("bg", "cat /proc/$$/stat > bg.stat; sleep 88.1 & echo $! > bg.pid; echo shell done")])] },
      async (repo) => {
        let stageGroup: number | undefined
        // The child holds the stage's output far past the shell: without a grace this long it would be stopped
        // 2 s after the shell exited and the stage would end (EXE-7), before the Ctrl-C this test is about.
        const cli = spawnCli(["start", "orphan", "--task", task, "--format", "json"], {
          cwd: repo.dir,
          env: { CODEX_ORCHESTRATOR_OUTPUT_GRACE_SECONDS: "120" }
        })
        try {
          const backgroundPid = await readPid(repo, "bg.pid")
          const shell = stageShell(repo.path("bg.stat"))
          stageGroup = shell.pgid
          // The shell is gone; its child keeps the stage's stdout open, so the stage is still running.
          await waitFor("the stage's shell to exit", () => (isLiveProcess(shell.pid) ? undefined : true))
          assert.isTrue(isLiveProcess(backgroundPid))
          cli.kill("SIGINT")
          const result = await cli.done
          assert.strictEqual(result.code, 130, describeResult(result))
          const manifest = manifestOf(await waitForRunDir(repo))
          assert.strictEqual(manifest["status_detail"], "stage:bg:cancelled")
          await waitUntilGone(repo, shell, /sleep 88\.1/, [backgroundPid])
        } finally {
          cli.kill("SIGKILL")
          if (stageGroup !== undefined) killProcessGroup(stageGroup)
        }
      }
    ))

  it("timeout: the same background child is killed, and the stage fails with stage:<id>:timeout", () =>
    withRepo(
      {
        pipelines: [pipeline("orphan", [
          commandStage("bg", "cat /proc/$$/stat > bg.stat; sleep 89.2 & echo $! > bg.pid; echo shell done", { timeoutMs: 1000 })
        ])]
      },
      async (repo) => {
        let stageGroup: number | undefined
        try {
          // As above: the timeout, not the end of the grace for held output (EXE-7), is what ends this stage.
          const { manifest, result } = await startJson(repo, ["orphan", "--task", task], { CODEX_ORCHESTRATOR_OUTPUT_GRACE_SECONDS: "120" })
          assert.strictEqual(result.code, 1, describeResult(result))
          assert.strictEqual(manifest["status_detail"], "stage:bg:timeout")
          const shell = stageShell(repo.path("bg.stat"))
          stageGroup = shell.pgid
          await waitUntilGone(repo, shell, /sleep 89\.2/, [await readPid(repo, "bg.pid")])
        } finally {
          if (stageGroup !== undefined) killProcessGroup(stageGroup)
        }
      }
    ))

  it("a stage that ignores SIGTERM is killed with SIGKILL after the grace period, on a timeout and on Ctrl-C", () =>
    withRepo(
      {
        pipelines: [
          pipeline("stubborn", [commandStage("deaf", "trap '' TERM; cat /proc/$$/stat > deaf.stat; sleep 90.3", { timeoutMs: 500 })]),
          pipeline("stubborn-cancel", [commandStage("deaf", "trap '' TERM INT; cat /proc/$$/stat > deaf2.stat; echo up > up.txt; sleep 90.4")])
        ]
      },
      async (repo) => {
        const groups: Array<number> = []
        const cli = spawnCli(["start", "stubborn-cancel", "--task", task, "--format", "json"], { cwd: repo.dir })
        try {
          const { manifest, result } = await startJson(repo, ["stubborn", "--task", task])
          assert.strictEqual(result.code, 1, describeResult(result))
          assert.strictEqual(manifest["status_detail"], "stage:deaf:timeout")
          const shell = stageShell(repo.path("deaf.stat"))
          groups.push(shell.pgid)
          await waitUntilGone(repo, shell, /sleep 90\.3/)

          await waitFor("the second stage to start (up.txt)", () => existsSync(repo.path("up.txt")) || undefined)
          const second = stageShell(repo.path("deaf2.stat"))
          groups.push(second.pgid)
          cli.kill("SIGINT")
          const cancelled = await cli.done
          assert.strictEqual(cancelled.code, 130, describeResult(cancelled))
          // The orchestrator exited only once the stage was gone.
          assert.deepStrictEqual(liveProcessGroupMembers(second.pgid), [])
          await waitUntilGone(repo, second, /sleep 90\.4/)
        } finally {
          cli.kill("SIGKILL")
          for (const group of groups) killProcessGroup(group)
        }
      }
    ))
})

describe("resume of a run that is still alive (D-7)", () => {
  const config = {
    pipelines: [
      pipeline("live", [commandStage("long", "cat /proc/$$/stat > long.stat; echo started > long.txt; sleep 20.5")])
    ]
  }

  it("is refused with exit 2 naming the owner pid, and the live run is unaffected", () =>
    withRepo(config, async (repo) => {
      let stageGroup: number | undefined
      const cli = spawnCli(["start", "live", "--task", task, "--format", "json"], { cwd: repo.dir })
      try {
        await waitFor("the stage to start (long.txt)", () => existsSync(repo.path("long.txt")) || undefined)
        const shell = stageShell(repo.path("long.stat"))
        stageGroup = shell.pgid
        const runDir = await waitForRunDir(repo)
        const before = await waitForManifest(runDir, "stage long recorded running", (m) => commandAt(m, 0)["status"] === "running")
        const runId = asString(before["run_id"], "run_id")

        const refused = await runCli(["resume", "--run", runId, "--task", task, "--format", "json"], { cwd: repo.dir })
        assert.strictEqual(refused.code, 2, describeResult(refused))
        assert.strictEqual(refused.stdout, "")
        assert.include(refused.stderr, `pid ${cli.pid}`)
        assert.include(refused.stderr, "still running")

        // Unaffected: same owner, no resume event, still running, the orchestrator and its stage alive.
        const after = manifestOf(runDir)
        assert.strictEqual(after["status"], "in_progress")
        assert.deepStrictEqual(statuses(after), ["running"])
        assert.deepStrictEqual(resumeEvents(after), [])
        assert.strictEqual(readJson(join(runDir, ".owner.json"))["pid"], cli.pid)
        assert.isTrue(isLiveProcess(cli.pid))
        assert.isTrue(isLiveProcess(shell.pid))
        assert.strictEqual(leftoversMatching(repo, /^sleep 20\.5$/).length, 1, JSON.stringify(liveProcessesUnder(repo.dir)))

        cli.kill("SIGINT")
        const result = await cli.done
        assert.strictEqual(result.code, 130, describeResult(result))
        const cancelled = manifestOf(runDir)
        assert.strictEqual(cancelled["status"], "cancelled")
        assert.strictEqual(cancelled["status_detail"], "stage:long:cancelled")
        await waitUntilGone(repo, shell, /sleep 20\.5/)
      } finally {
        cli.kill("SIGKILL")
        if (stageGroup !== undefined) killProcessGroup(stageGroup)
      }
    }))
})

describe("resume of a finished run whose owner's pid is alive (D-7)", () => {
  const config = { pipelines: [pipeline("fix", [commandStage("check", "test -f marker.txt")])] }

  it("judges the owner by its pid and start time: another process with that pid is no owner", () =>
    withRepo(config, async (repo) => {
      // An unrelated live process, as the orchestrator's pid reused after it exited would be.
      const bystander = spawn("sleep", ["30.9"], { stdio: "ignore" })
      try {
        const bystanderPid = bystander.pid ?? assert.fail("no pid")
        const started = await startJson(repo, ["fix", "--task", task])
        assert.strictEqual(started.result.code, 1, describeResult(started.result))
        const runId = asString(started.output["run_id"], "run_id")
        const ownerFile = join(started.runDir, ".owner.json")
        const owner = readJson(ownerFile)
        assert.match(asString(owner["started"], "the owner's start time"), /^\d+$/)
        writeFileSync(repo.path("marker.txt"), "fixed\n")
        const resume = () => runCli(["resume", "--run", runId, "--task", task, "--format", "json"], { cwd: repo.dir })

        // The bystander's pid with its own start time is a live owner: refused (the heartbeat is fresh).
        const bystanderStart = readFileSync(`/proc/${bystanderPid}/stat`, "utf8").split(") ")[1]?.split(" ")[19]
        writeFileSync(ownerFile, `${JSON.stringify({ ...owner, pid: bystanderPid, started: bystanderStart })}\n`)
        const refused = await resume()
        assert.strictEqual(refused.code, 2, describeResult(refused))
        assert.include(refused.stderr, `pid ${bystanderPid}`)

        // The same pid recorded with the exited orchestrator's start time: that process is gone.
        writeFileSync(ownerFile, `${JSON.stringify({ ...owner, pid: bystanderPid })}\n`)
        const resumed = await resume()
        assert.strictEqual(resumed.code, 0, describeResult(resumed))
        assert.strictEqual(stdoutJson(resumed)["status"], "succeeded")
        assert.isTrue(isLiveProcess(bystanderPid), "the bystander is left alone")
      } finally {
        bystander.kill("SIGKILL")
      }
    }))
})

describe("resume of a run whose logs were cleaned up (RUN-9)", () => {
  const config = { pipelines: [pipeline("fix", [commandStage("check", "test -f marker.txt && echo fixed")])] }

  it("runs the stage again with its commands/ and errors/ folders deleted, and writes its log anew", () =>
    withRepo(config, async (repo) => {
      const started = await startJson(repo, ["fix", "--task", task])
      assert.strictEqual(started.result.code, 1, describeResult(started.result))
      const runId = asString(started.output["run_id"], "run_id")
      for (const folder of ["commands", "errors"]) rmSync(join(started.runDir, folder), { recursive: true, force: true })
      writeFileSync(repo.path("marker.txt"), "fixed\n")
      const resumed = await runCli(["resume", "--run", runId, "--task", task, "--format", "json"], { cwd: repo.dir })
      assert.strictEqual(resumed.code, 0, describeResult(resumed))
      assert.strictEqual(stdoutJson(resumed)["status"], "succeeded")
      assert.include(readFileSync(join(started.runDir, "commands", "01-check.ndjson"), "utf8"), "fixed")
    }))
})

describe("concurrent runs of one task", () => {
  const twoMiB = 2 * 1024 * 1024
  const config = {
    pipelines: [pipeline("big", [commandStage("print", `head -c ${twoMiB} /dev/zero | tr '\\0' x; sleep 0.3`)])]
  }

  it("4 runs started at once all succeed, each in its own folder with its full 2 MiB log", () =>
    withRepo(config, async (repo) => {
      const runs = await Promise.all([1, 2, 3, 4].map(() => startJson(repo, ["big", "--task", task])))
      for (const run of runs) assert.strictEqual(run.result.code, 0, describeResult(run.result))
      const runIds = runs.map((run) => asString(run.output["run_id"], "run_id"))
      assert.strictEqual(new Set(runIds).size, 4, runIds.join(", "))
      assert.strictEqual(new Set(runs.map((run) => run.runDir)).size, 4)
      assert.strictEqual(runDirsOf(repo, task).length, 4)

      for (const run of runs) {
        assert.strictEqual(run.manifest["status"], "succeeded")
        const entry = commandAt(run.manifest, 0)
        assert.strictEqual(entry["status"], "succeeded")
        const log = repo.path(asString(entry["log_path"], "log_path"))
        assert.isTrue(log.startsWith(`${run.runDir}/`), log)
        const chunkBytes = readNdjson(log)
          .filter((event) => event["type"] === "exec:chunk")
          .reduce((sum, event) => sum + (typeof event["bytes"] === "number" ? event["bytes"] : 0), 0)
        assert.strictEqual(chunkBytes, twoMiB, log)
        const output = stageOutput(log, "stdout")
        assert.strictEqual(output.length, twoMiB, log)
        assert.match(output, /^x+$/)
      }
    }))
})

describe("status (CLI-7, D-1, D-9)", () => {
  const config = {
    pipelines: [
      pipeline("two", [commandStage("a", "echo alpha"), commandStage("b", "echo beta")]),
      pipeline("wait", [commandStage("wait", "echo started > wait.txt; sleep 3")])
    ]
  }

  it("prints a finished run as text and JSON, never writes, and rejects bad requests with exit 2", () =>
    withRepo(config, async (repo) => {
      const started = await startJson(repo, ["two", "--task", task])
      assert.strictEqual(started.result.code, 0, describeResult(started.result))
      const runId = asString(started.output["run_id"], "run_id")
      const artifactRoot = asString(started.manifest["artifact_root"], "artifact_root")
      const manifestText = readFileSync(join(started.runDir, "manifest.json"), "utf8")

      const text = await runCli(["status", "--run", runId, "--task", task], { cwd: repo.dir })
      assert.strictEqual(text.code, 0, describeResult(text))
      assert.deepStrictEqual(text.stdout.trimEnd().split("\n"), [
        `Run: ${runId}`,
        "Status: succeeded",
        `Started: ${asString(started.manifest["started_at"], "started_at")}`,
        `Completed: ${asString(started.manifest["completed_at"], "completed_at")}`,
        `Manifest: ${artifactRoot}/manifest.json`,
        "Commands:",
        "  [succeeded] Stage a — alpha",
        "  [succeeded] Stage b — beta"
      ])

      // The run id may also be given positionally.
      const json = await runCli(["status", runId, "--task", task, "--format", "json"], { cwd: repo.dir })
      assert.strictEqual(json.code, 0, describeResult(json))
      const view = stdoutJson(json)
      assert.strictEqual(view["run_id"], runId)
      assert.strictEqual(view["status"], "succeeded")
      assert.strictEqual(view["status_detail"], null)
      assert.strictEqual(view["stale"], false)
      assert.strictEqual(view["manifest"], `${artifactRoot}/manifest.json`)
      assert.strictEqual(view["artifact_root"], artifactRoot)
      assert.strictEqual(view["log_path"], started.manifest["log_path"])
      assert.strictEqual(view["started_at"], started.manifest["started_at"])
      assert.strictEqual(view["completed_at"], started.manifest["completed_at"])
      assert.strictEqual(view["heartbeat_at"], started.manifest["heartbeat_at"])
      assert.deepStrictEqual(view["commands"], started.manifest["commands"])
      assert.deepStrictEqual(view["child_runs"], [])

      // Status never writes.
      assert.strictEqual(readFileSync(join(started.runDir, "manifest.json"), "utf8"), manifestText)

      const missing = await runCli(["status", "--run", "nope", "--task", task], { cwd: repo.dir })
      assert.strictEqual(missing.code, 2, describeResult(missing))
      assert.include(missing.stderr, "'nope'")
      assert.include(missing.stderr, `task '${task}'`)
      assert.include(missing.stderr, `.runs/${task}/cli`)

      const noRun = await runCli(["status"], { cwd: repo.dir })
      assert.strictEqual(noRun.code, 2, describeResult(noRun))
      assert.include(noRun.stderr, "status requires --run")

      const zero = await runCli(["status", "--run", runId, "--task", task, "--watch", "--interval", "0"], { cwd: repo.dir })
      assert.strictEqual(zero.code, 2, describeResult(zero))
      assert.include(zero.stderr, "--interval")
      assert.strictEqual(zero.stdout, "")
      // Without --watch too: an interval must be a positive integer whenever it is given.
      const zeroAlone = await runCli(["status", "--run", runId, "--task", task, "--interval", "0"], { cwd: repo.dir })
      assert.strictEqual(zeroAlone.code, 2, describeResult(zeroAlone))
      assert.include(zeroAlone.stderr, "--interval must be a positive integer")
    }))

  it("reports an unfinished run with an old heartbeat as stale (D-9), with the resume command to copy", () =>
    withRepo(config, async (repo) => {
      const started = await startJson(repo, ["two", "--task", task])
      const runId = asString(started.output["run_id"], "run_id")
      // As a crashed orchestrator leaves it: in progress, its last heartbeat a minute old.
      const heartbeat = new Date(Date.now() - 60_000).toISOString()
      writeFileSync(
        join(started.runDir, "manifest.json"),
        JSON.stringify({ ...started.manifest, status: "in_progress", completed_at: null, heartbeat_at: heartbeat }, null, 2)
      )
      const json = await runCli(["status", "--run", runId, "--task", task, "--format", "json"], { cwd: repo.dir })
      assert.strictEqual(json.code, 0, describeResult(json))
      assert.strictEqual(stdoutJson(json)["stale"], true)
      const text = await runCli(["status", "--run", runId, "--task", task], { cwd: repo.dir })
      assert.include(
        text.stdout,
        `Status: in_progress — stale: no heartbeat since ${heartbeat}; resume it with: resume --run ${runId} --task ${task}`
      )
    }))

  it("without --run: exit 2, naming the task's newest run and the command to see it, or that it has none", () =>
    withRepo(config, async (repo) => {
      const none = await runCli(["status"], { cwd: repo.dir })
      assert.strictEqual(none.code, 2, describeResult(none))
      assert.strictEqual(none.stderr, "error: status requires --run <run-id>. Task 0101 has no runs (in .runs/0101/cli).\n")
      await startJson(repo, ["two", "--task", task])
      const newest = asString((await startJson(repo, ["two", "--task", task])).output["run_id"], "run_id")
      const expected = `error: status requires --run <run-id>. The newest run of task ${task} is ${newest}: ` +
        `codex-orchestrator status --run ${newest} --task ${task}\n`
      for (const [args, env] of [[["status", "--task", task], {}], [["status"], { MCP_RUNNER_TASK_ID: task }]] as const) {
        for (const entry of [undefined, fullCliBundle]) {
          const result = await runCli(args, { cwd: repo.dir, env, ...(entry === undefined ? {} : { entry }) })
          assert.strictEqual(result.code, 2, describeResult(result))
          assert.strictEqual(result.stderr, expected, describeResult(result))
          assert.strictEqual(result.stdout, "")
        }
      }
      const shown = await runCli(["status", "--run", newest, "--task", task], { cwd: repo.dir })
      assert.strictEqual(shown.code, 0, describeResult(shown))
      assert.include(shown.stdout, `Run: ${newest}`)
    }), 60_000)

  it("the executable's status bundle answers as the full CLI does (output, errors, exit codes, help)", () =>
    withRepo(config, async (repo) => {
      const started = await startJson(repo, ["two", "--task", task])
      assert.strictEqual(started.result.code, 0, describeResult(started.result))
      const runId = asString(started.output["run_id"], "run_id")
      const requests = [
        // Plain command lines: status.cjs shows them.
        ["status", "--run", runId, "--task", task],
        ["status", runId, "--task", task, "--format", "json"],
        ["status", `--run=${runId}`, `--task=${task}`, "--format=json", "--verbose"],
        ["status", "--task", task, runId, "--watch", "--interval", "1", "--format", "json"],
        ["status", "--run", runId, "--task", task, "--watch", "--interval", "0"],
        ["status", "--run", "nope", "--task", task],
        ["status", "--run", "../escape", "--task", task],
        // Anything else goes to the full CLI, which parses it with @effect/cli.
        ["status", runId, "--run", runId, "--task", task],
        ["status", "--run", runId, "--task", task, "--format", "JSON"],
        ["status", "--run", runId, "--task", task, "--interval", "1.5"],
        ["status", "--task", task],
        ["status", "--watch", "yes", "--task", task], // @effect/cli reads `yes` as --watch's value
        ["status", `--run=${runId} `, `--task=${task}`], // and trims values
        ["status"],
        ["status", "--help"]
      ]
      for (const args of requests) {
        const fast = await runCli(args, { cwd: repo.dir })
        const full = await runCli(args, { cwd: repo.dir, entry: fullCliBundle })
        assert.deepStrictEqual(
          { code: fast.code, stdout: fast.stdout, stderr: fast.stderr },
          { code: full.code, stdout: full.stdout, stderr: full.stderr },
          args.join(" ")
        )
        assert.isNotEmpty(fast.stdout + fast.stderr, args.join(" "))
      }
      // The executable really took the status bundle for a plain line, and the full CLI for another:
      // --verbose prints the error's stack, which names the bundle.
      const plain = await runCli(["status", "--run", "nope", "--task", task, "--verbose"], { cwd: repo.dir })
      assert.include(plain.stderr, join("dist", "bin", "status.cjs"))
      assert.notInclude(plain.stderr, join("dist", "bin", "cli.cjs"))
      const other = await runCli(["status", "nope", "--run", "nope", "--task", task, "--verbose"], { cwd: repo.dir })
      assert.include(other.stderr, join("dist", "bin", "cli.cjs"))
      assert.notInclude(other.stderr, join("dist", "bin", "status.cjs"))
    }), 180_000) // about forty CLI runs: minutes on a loaded two-core machine

  it("--watch --format json prints one JSON document per line until the run finishes, then exits 0", () =>
    withRepo(config, async (repo) => {
      const cli = spawnCli(["start", "wait", "--task", task, "--format", "json"], { cwd: repo.dir })
      try {
        await waitFor("the stage to start (wait.txt)", () => existsSync(repo.path("wait.txt")) || undefined)
        const runDir = await waitForRunDir(repo)
        const running = await waitForManifest(runDir, "the run in progress", (m) => m["status"] === "in_progress")
        const runId = asString(running["run_id"], "run_id")

        const watched = await runCli(
          ["status", "--run", runId, "--task", task, "--watch", "--interval", "1", "--format", "json"],
          { cwd: repo.dir }
        )
        assert.strictEqual(watched.code, 0, describeResult(watched))
        const views = watched.stdout.split("\n").filter((line) => line.length > 0).map((line, i) =>
          asObject(parseJson(line), `watch line ${i + 1}`)
        )
        assert.isAtLeast(views.length, 2, watched.stdout)
        for (const view of views) assert.strictEqual(view["run_id"], runId)
        assert.strictEqual(views[0]?.["status"], "in_progress")
        assert.strictEqual(views[views.length - 1]?.["status"], "succeeded")

        const result = await cli.done
        assert.strictEqual(result.code, 0, describeResult(result))
      } finally {
        cli.kill("SIGKILL")
      }
    }))
})

describe("start --parent-run", () => {
  it("records the parent run id as parent_run_id", () =>
    withRepo({ pipelines: [pipeline("child", [commandStage("a", "echo a")])] }, async (repo) => {
      const { manifest, result } = await startJson(repo, ["child", "--task", task, "--parent-run", "parent-run-42"])
      assert.strictEqual(result.code, 0, describeResult(result))
      assert.strictEqual(manifest["parent_run_id"], "parent-run-42")
    }))
})
