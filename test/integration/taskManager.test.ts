/**
 * The TaskManager flow end to end (issue 4): the built CLI in a temporary repository, and the
 * task-level records it leaves behind read back from disk — metrics lines (MET-1, RUN-9), the
 * aggregates (MET-3, MET-5), the task-state snapshot (PER-1, PER-3), the per-run summary manifest
 * (PER-5 as changed by DECISIONS D-10), the execution mode (MODE-1 override, DECISIONS B-3) and
 * the exit codes (D-1).
 */
import { existsSync, readFileSync, writeFileSync, mkdirSync, rmSync } from "node:fs"
import { join } from "node:path"
import { assert, beforeAll, describe, it } from "vitest"
import {
  asArray,
  asObject,
  asString,
  commandStage,
  describeResult,
  isoPattern,
  type JsonObject,
  listDir,
  pipeline,
  readJson,
  readNdjson,
  requireBuiltCli,
  runCli,
  runIdPattern,
  startJson,
  type StartedRun,
  type TempRepo,
  withRepo
} from "../support/cli.js"

beforeAll(requireBuiltCli)

const task = "tm"

/** Stage `check` fails while `fail.marker` exists in the repository, so a test can fail a run and then fix it. */
const config = {
  pipelines: [
    pipeline("flow", [
      commandStage("build", "echo built"),
      commandStage("check", "test ! -f fail.marker")
    ], { guardrailsRequired: false })
  ]
}

const fallbackReason = "no cloud executor is configured; the run executed locally"

const metricsPath = (repo: TempRepo) => repo.path(".runs", task, "metrics.json")
const runsJsonPath = (repo: TempRepo) => repo.path("out", task, "runs.json")
const statePath = (repo: TempRepo) => repo.path("out", task, "state.json")
const baselinePath = (repo: TempRepo) => repo.path(".runs", task, "metrics", "baseline.json")
/** D-10: the per-run summary manifest, next to (not inside) the `cli/` folder. */
const summaryManifestPath = (repo: TempRepo, runId: string) => repo.path(".runs", task, runId, "manifest.json")

/** `start flow --task tm --format json <extra>`, which must exit `code`. */
const start = async (
  repo: TempRepo,
  extra: ReadonlyArray<string> = [],
  code = 0
): Promise<StartedRun & { readonly runId: string }> => {
  const run = await startJson(repo, ["flow", "--task", task, ...extra])
  assert.strictEqual(run.result.code, code, describeResult(run.result))
  const runId = asString(run.output["run_id"], "run_id")
  assert.match(runId, runIdPattern)
  return { ...run, runId }
}

const runsOf = (snapshot: JsonObject) => asArray(snapshot["runs"], "runs").map((r, i) => asObject(r, `runs[${i}]`))

/** MET-5: the keys of `out/<task>/state.json`, nested objects spelled out. */
const stateShape = {
  updated_at: "string",
  safety: {
    validation: { passed: "number", failed: "number", stalled: "number", manual: "number" },
    reviewer: { rejections: "number", average_latency_ms: "number" },
    regression_detection: { detected: "number" },
    pattern_hygiene: { promoted: "number", deprecated: "number" }
  },
  throughput: { candidates: "number" },
  alerts: { total: "number", snapshot_failed: "number", stalled_snapshot: "number", needs_manual_scenario: "number" }
} as const

type Shape = { readonly [key: string]: "string" | "number" | Shape }

/** Fails unless `value` has exactly the keys of `shape`, with values of the given types. */
const assertShape = (value: JsonObject, shape: Shape, where: string) => {
  assert.deepStrictEqual(Object.keys(value).sort(), Object.keys(shape).sort(), `${where}: keys`)
  for (const [key, expected] of Object.entries(shape)) {
    const actual = value[key]
    if (typeof expected === "string") assert.strictEqual(typeof actual, expected, `${where}.${key}`)
    else assertShape(asObject(actual, `${where}.${key}`), expected, `${where}.${key}`)
  }
}

/** D-10: the summary manifest holds the same JSON as the run folder's run-summary.json. */
const assertSummaryManifest = (repo: TempRepo, run: { readonly runDir: string; readonly runId: string }) => {
  const summaryManifest = summaryManifestPath(repo, run.runId)
  assert.isTrue(existsSync(summaryManifest), `${summaryManifest} exists`)
  const runSummary = readJson(join(run.runDir, "run-summary.json"))
  assert.deepStrictEqual(readJson(summaryManifest), runSummary)
  assert.strictEqual(runSummary["runId"], run.runId)
  assert.strictEqual(runSummary["taskId"], task)
  return runSummary
}

describe("TaskManager flow: task-level records of two runs", () => {
  it("appends one metrics line per run, keeps runs.json in order, writes state.json, the summary manifests and a fixed baseline", () =>
    withRepo(config, async (repo) => {
      const first = await start(repo)

      // After the first run: one metrics line, the baseline names it.
      const firstLines = readNdjson(metricsPath(repo))
      assert.deepStrictEqual(firstLines.map((line) => line["run_id"]), [first.runId])
      const baselineText = readFileSync(baselinePath(repo), "utf8")
      const baseline = readJson(baselinePath(repo))
      assert.strictEqual(baseline["run_id"], first.runId)
      assert.strictEqual(baseline["status"], "succeeded")
      assert.strictEqual(baseline["completion_rate"], 1)

      const second = await start(repo)
      assert.notStrictEqual(second.runId, first.runId)

      // MET-1: exactly two JSON lines, one per run, in run order.
      const metricsText = readFileSync(metricsPath(repo), "utf8")
      assert.isTrue(metricsText.endsWith("\n"), "metrics.json ends with a newline")
      assert.strictEqual(metricsText.split("\n").filter((line) => line.length > 0).length, 2, metricsText)
      const lines = readNdjson(metricsPath(repo))
      assert.deepStrictEqual(lines.map((line) => line["run_id"]), [first.runId, second.runId])
      for (const line of lines) {
        assert.strictEqual(line["task_id"], task)
        assert.strictEqual(line["pipeline_id"], "flow")
        assert.strictEqual(line["status"], "succeeded")
        assert.strictEqual(line["commands_passed"], 2)
        assert.strictEqual(line["commands_failed"], 0)
      }

      // MET-3: the baseline is never rewritten.
      assert.strictEqual(readFileSync(baselinePath(repo), "utf8"), baselineText)

      // PER-3: both runs, ascending timestamps, lastRunAt = the later one.
      const snapshot = readJson(runsJsonPath(repo))
      assert.isFalse(readFileSync(runsJsonPath(repo), "utf8").endsWith("\n"), "runs.json has no trailing newline")
      assert.strictEqual(snapshot["taskId"], task)
      const runs = runsOf(snapshot)
      assert.deepStrictEqual(runs.map((r) => r["runId"]), [first.runId, second.runId])
      const [t1, t2] = runs.map((r) => asString(r["timestamp"], "timestamp"))
      assert.match(t1 ?? "", isoPattern)
      assert.match(t2 ?? "", isoPattern)
      assert.isTrue((t1 ?? "") <= (t2 ?? ""), `${t1} <= ${t2}`)
      assert.strictEqual(snapshot["lastRunAt"], t2)
      for (const r of runs) {
        assert.strictEqual(r["mode"], "mcp")
        assert.strictEqual(r["buildSuccess"], true)
      }

      // MET-5
      assert.isTrue(existsSync(statePath(repo)), "out/<task>/state.json exists")
      assertShape(readJson(statePath(repo)), stateShape, "state.json")

      // D-10 and MET-4, for both runs.
      for (const run of [first, second]) {
        const manifest = readJson(join(run.runDir, "manifest.json"))
        assert.strictEqual(manifest["metrics_recorded"], true)
        assert.strictEqual(manifest["status"], "succeeded")
        assert.strictEqual(manifest["run_summary_path"], `${asString(manifest["artifact_root"], "artifact_root")}/run-summary.json`)
        assertSummaryManifest(repo, run)
      }
    }))
})

describe("execution mode (MODE-1 override, DECISIONS B-3)", () => {
  for (const flags of [["--execution-mode", "cloud"], ["--cloud"]] as const) {
    it(`${flags.join(" ")} runs locally and records the fallback`, () =>
      withRepo(config, async (repo) => {
        const run = await start(repo, flags)
        assert.strictEqual(run.output["status"], "succeeded")
        // The --format json result carries the mode and the reason.
        assert.strictEqual(run.output["execution_mode"], "cloud")
        assert.strictEqual(run.output["cloud_fallback_reason"], fallbackReason)
        // The CLI manifest.
        assert.strictEqual(run.manifest["execution_mode"], "cloud")
        assert.strictEqual(run.manifest["cloud_fallback_reason"], fallbackReason)
        // The run summary (and its per-run copy, D-10).
        const summary = assertSummaryManifest(repo, run)
        assert.strictEqual(summary["mode"], "cloud")
        assert.strictEqual(summary["cloudFallbackReason"], fallbackReason)
        // A warning on stderr (D-2), never on stdout.
        assert.match(run.result.stderr, /Execution mode cloud: no cloud executor is configured/)
        // The metrics line and the task snapshot see the mode too.
        const [line] = readNdjson(metricsPath(repo))
        assert.strictEqual(line?.["execution_mode"], "cloud")
        assert.deepStrictEqual(runsOf(readJson(runsJsonPath(repo))).map((r) => r["mode"]), ["cloud"])
      }))
  }

  it("--cloud in text format names the fallback on stdout", () =>
    withRepo(config, async (repo) => {
      const result = await runCli(["start", "flow", "--task", task, "--cloud"], { cwd: repo.dir })
      assert.strictEqual(result.code, 0, describeResult(result))
      assert.include(result.stdout, `Mode: cloud, run locally (${fallbackReason})`)
      assert.match(result.stderr, /Execution mode cloud/)
    }))

  it("--cloud with --execution-mode mcp is a usage error: exit 2, nothing written", () =>
    withRepo(config, async (repo) => {
      const result = await runCli(["start", "flow", "--task", task, "--cloud", "--execution-mode", "mcp", "--format", "json"], {
        cwd: repo.dir
      })
      assert.strictEqual(result.code, 2, describeResult(result))
      assert.strictEqual(result.stdout, "")
      assert.match(result.stderr, /--cloud and --execution-mode mcp contradict each other/)
      assert.deepStrictEqual(listDir(repo.dir), ["codex.orchestrator.json"])
    }))

  it("an unknown --execution-mode is a usage error: exit 2, nothing written", () =>
    withRepo(config, async (repo) => {
      const result = await runCli(["start", "flow", "--task", task, "--execution-mode", "local"], { cwd: repo.dir })
      assert.strictEqual(result.code, 2, describeResult(result))
      assert.deepStrictEqual(listDir(repo.dir), ["codex.orchestrator.json"])
    }))

  it("by default the mode is mcp, with no fallback reason anywhere", () =>
    withRepo(config, async (repo) => {
      const run = await start(repo)
      assert.strictEqual(run.output["execution_mode"], "mcp")
      assert.notProperty(run.output, "cloud_fallback_reason")
      assert.strictEqual(run.manifest["execution_mode"], "mcp")
      assert.isTrue(
        run.manifest["cloud_fallback_reason"] === undefined || run.manifest["cloud_fallback_reason"] === null,
        `cloud_fallback_reason: ${JSON.stringify(run.manifest["cloud_fallback_reason"])}`
      )
      const summary = assertSummaryManifest(repo, run)
      assert.strictEqual(summary["mode"], "mcp")
      assert.notProperty(summary, "cloudFallbackReason")
      assert.notMatch(run.result.stderr, /Execution mode cloud/)
      const [line] = readNdjson(metricsPath(repo))
      assert.strictEqual(line?.["execution_mode"], "mcp")
    }))
})

describe("persistence when the task lock is held (PER-1..3)", () => {
  it("a planted task lock queues the run's record with a warning; the run, its metrics and its summary manifest are unaffected", () =>
    withRepo(config, async (repo) => {
      const lockPath = repo.path(".runs", `${task}.lock`)
      mkdirSync(repo.path(".runs"), { recursive: true })
      writeFileSync(lockPath, "99999@elsewhere\n")

      const run = await start(repo)
      assert.strictEqual(run.output["status"], "succeeded")
      assert.match(run.result.stderr, new RegExp(`run ${run.runId} is queued in \\S+/runs\\.pending/\\S+\\.jsonl; the next run of task ${task} adds it`))
      assert.notMatch(run.result.stderr, /delete/i, "never advise deleting a lock another run may hold")
      assert.isFalse(existsSync(runsJsonPath(repo)), "runs.json is not written without the lock")
      // Somebody else's lock is left alone.
      assert.strictEqual(readFileSync(lockPath, "utf8"), "99999@elsewhere\n")
      // PER-1: the summary manifest is written even though the snapshot failed.
      assertSummaryManifest(repo, run)
      // The metrics use their own lock (MET-2).
      assert.deepStrictEqual(readNdjson(metricsPath(repo)).map((line) => line["run_id"]), [run.runId])
      assert.strictEqual(run.manifest["metrics_recorded"], true)

      // Once the lock is gone, the next run records its own run and the queued one.
      rmSync(lockPath)
      const next = await start(repo)
      assert.deepStrictEqual(runsOf(readJson(runsJsonPath(repo))).map((r) => r["runId"]), [run.runId, next.runId])
      assert.deepStrictEqual(listDir(repo.path(".runs", task, "runs.pending")), [])
    }))
})

describe("root overrides (DECISIONS D-5)", () => {
  it("metrics, runs.json, state.json and the summary manifest follow CODEX_ORCHESTRATOR_RUNS_DIR and _OUT_DIR", () =>
    withRepo(config, async (repo) => {
      const runsDir = repo.path("elsewhere", "runs")
      const outDir = repo.path("elsewhere", "out")
      const env = { CODEX_ORCHESTRATOR_RUNS_DIR: runsDir, CODEX_ORCHESTRATOR_OUT_DIR: outDir }
      const run = await startJson(repo, ["flow", "--task", task], env)
      assert.strictEqual(run.result.code, 0, describeResult(run.result))
      const runId = asString(run.output["run_id"], "run_id")
      assert.isTrue(run.runDir.startsWith(`${runsDir}/`), run.runDir)
      assert.deepStrictEqual(readNdjson(join(runsDir, task, "metrics.json")).map((line) => line["run_id"]), [runId])
      assert.strictEqual(readJson(join(runsDir, task, "metrics", "baseline.json"))["run_id"], runId)
      assert.deepStrictEqual(runsOf(readJson(join(outDir, task, "runs.json"))).map((r) => r["runId"]), [runId])
      assertShape(readJson(join(outDir, task, "state.json")), stateShape, "state.json")
      assert.deepStrictEqual(
        readJson(join(runsDir, task, runId, "manifest.json")),
        readJson(join(run.runDir, "run-summary.json"))
      )
      assert.deepStrictEqual(listDir(repo.dir), ["codex.orchestrator.json", "elsewhere"])
    }))
})

describe("resume of a failed run (RUN-9)", () => {
  it("adds a second metrics line for the same run and updates its runs.json entry in place", () =>
    withRepo(config, async (repo) => {
      writeFileSync(repo.path("fail.marker"), "fail\n")
      const failed = await start(repo, [], 1)
      assert.strictEqual(failed.output["status"], "failed")
      assert.strictEqual(failed.output["status_detail"], "stage:check:failed")
      assert.strictEqual(failed.manifest["metrics_recorded"], true)

      const before = readNdjson(metricsPath(repo))
      assert.deepStrictEqual(before.map((line) => [line["run_id"], line["status"]]), [[failed.runId, "failed"]])
      const snapshotBefore = runsOf(readJson(runsJsonPath(repo)))
      assert.deepStrictEqual(snapshotBefore.map((r) => r["runId"]), [failed.runId])
      assert.strictEqual(snapshotBefore[0]?.["buildSuccess"], false)
      const summaryBefore = assertSummaryManifest(repo, failed)

      rmSync(repo.path("fail.marker"))
      const resumed = await runCli(["resume", "--run", failed.runId, "--task", task, "--format", "json"], { cwd: repo.dir })
      assert.strictEqual(resumed.code, 0, describeResult(resumed))
      const output = asObject(JSON.parse(resumed.stdout), "stdout")
      assert.strictEqual(output["run_id"], failed.runId)
      assert.strictEqual(output["status"], "succeeded")

      const manifest = readJson(join(failed.runDir, "manifest.json"))
      assert.strictEqual(manifest["status"], "succeeded")
      assert.strictEqual(manifest["metrics_recorded"], true)

      // RUN-9 / MET-1: one more line, for the same run, now succeeded.
      const after = readNdjson(metricsPath(repo))
      assert.deepStrictEqual(after.map((line) => [line["run_id"], line["status"]]), [
        [failed.runId, "failed"],
        [failed.runId, "succeeded"]
      ])

      // PER-3: the same run id replaces its entry.
      const snapshot = readJson(runsJsonPath(repo))
      const runs = runsOf(snapshot)
      assert.deepStrictEqual(runs.map((r) => r["runId"]), [failed.runId])
      assert.strictEqual(runs[0]?.["buildSuccess"], true)
      assert.strictEqual(snapshot["lastRunAt"], runs[0]?.["timestamp"])
      assert.isTrue(
        asString(runs[0]?.["timestamp"], "timestamp") >= asString(snapshotBefore[0]?.["timestamp"], "timestamp"),
        "the entry's timestamp moved forward"
      )

      // D-10: the summary manifest follows the new run summary.
      const summaryAfter = assertSummaryManifest(repo, failed)
      assert.notDeepEqual(summaryAfter, summaryBefore)

      // The baseline still names the first (failed) recording.
      const baseline = readJson(baselinePath(repo))
      assert.strictEqual(baseline["run_id"], failed.runId)
      assert.strictEqual(baseline["status"], "failed")
    }))

  it("a resume of a run that already succeeded prints it and writes nothing: no resume event, no second metrics line", () =>
    withRepo(config, async (repo) => {
      const done = await start(repo)
      const manifestBefore = readFileSync(join(done.runDir, "manifest.json"), "utf8")
      const metricsBefore = readFileSync(metricsPath(repo), "utf8")
      const runsBefore = readFileSync(runsJsonPath(repo), "utf8")

      const resumed = await runCli(["resume", "--run", done.runId, "--task", task, "--format", "json"], { cwd: repo.dir })
      assert.strictEqual(resumed.code, 0, describeResult(resumed))
      const output = asObject(JSON.parse(resumed.stdout), "stdout")
      assert.strictEqual(output["run_id"], done.runId)
      assert.strictEqual(output["status"], "succeeded")
      assert.include(resumed.stderr, "already succeeded; nothing to resume")

      assert.strictEqual(readFileSync(join(done.runDir, "manifest.json"), "utf8"), manifestBefore)
      assert.strictEqual(readFileSync(metricsPath(repo), "utf8"), metricsBefore)
      assert.strictEqual(readFileSync(runsJsonPath(repo), "utf8"), runsBefore)
      assert.strictEqual(readNdjson(metricsPath(repo)).length, 1)

      // The checks still apply: a wrong token is refused (exit 2) though nothing would run.
      const wrong = await runCli(["resume", "--run", done.runId, "--task", task, "--token", "not-the-token"], { cwd: repo.dir })
      assert.strictEqual(wrong.code, 2, describeResult(wrong))
    }))
})
