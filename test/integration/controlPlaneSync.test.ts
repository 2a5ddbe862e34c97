/**
 * Control plane, scheduler, TF-GRPO guardrails and cloud sync through the built CLI: real processes
 * in temporary repositories, a real HTTP server on 127.0.0.1 for the cloud, and every file read back
 * from disk (SPEC CP-1..8, SCH-1..5, GRP-2..4, MET-1, SYNC-2..4; DECISIONS D-1, D-5, D-10, D-16).
 */
import { createHash, randomUUID } from "node:crypto"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs"
import { createServer as createTcpServer, type Socket } from "node:net"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { assert, beforeAll, describe, it } from "vitest"
import {
  asArray,
  asObject,
  asString,
  type CliResult,
  commandStage,
  describeResult,
  isoPattern,
  type Json,
  type JsonObject,
  listDir,
  parseJson,
  pipeline,
  readJson,
  readNdjson,
  requireBuiltCli,
  runCli,
  runDirsOf,
  startJson,
  type TempRepo,
  withRepo
} from "../support/cli.js"
import { type ReceivedRequest, type Reply, startHttpServer } from "../support/httpServer.js"

beforeAll(requireBuiltCli)

/**
 * Every variable these tests depend on, unset: cliEnv only drops the root and task variables, so a
 * developer's shell could otherwise switch on enforce mode, a TF-GRPO group or cloud sync.
 */
const unsetAll: Readonly<Record<string, string | undefined>> = {
  CODEX_CONTROL_PLANE_MODE: undefined,
  CODEX_CONTROL_PLANE_ENFORCE: undefined,
  FEATURE_TFGRPO_GROUP: undefined,
  TFGRPO_GROUP_SIZE: undefined,
  TFGRPO_SAMPLE_SIZE: undefined,
  TFGRPO_EPOCHS: undefined,
  TFGRPO_TRAIN_TEMP: undefined,
  TFGRPO_EVAL_TEMP: undefined,
  CODEX_CLOUD_SYNC: undefined,
  CODEX_CLOUD_BASE_URL: undefined,
  CODEX_CLOUD_WORKSPACE_ID: undefined,
  CODEX_CLOUD_TOKEN: undefined,
  CODEX_CLOUD_CREDENTIAL_HELPER: undefined,
  CLOUD_SYNC_BUCKET: undefined,
  CLOUD_SYNC_VAULT_PATH: undefined,
  CODEX_CLOUD_SYNC_TIMEOUT_SECONDS: undefined,
  LEARNING_PIPELINE_ENABLED: undefined
}

const envWith = (extra: Readonly<Record<string, string>> = {}) => ({ ...unsetAll, ...extra })

/** Each stage appends its name to `executions.log`, so the tests can count what ran. */
const countingStage = (id: string, word = id) => commandStage(id, `echo ${word} >> executions.log`)

/** Three stages, no tags: one `general` capability, fan-out capacity 2 (CP-2). */
const threeStages = (id = "p", extra: Readonly<Record<string, unknown>> = {}) =>
  pipeline(id, [countingStage("a"), countingStage("b"), countingStage("c")], extra)

const executions = (repo: TempRepo): ReadonlyArray<string> =>
  existsSync(repo.path("executions.log"))
    ? readFileSync(repo.path("executions.log"), "utf8").split("\n").filter((line) => line.length > 0)
    : []

const get = (value: JsonObject, ...keys: ReadonlyArray<string>): JsonObject =>
  keys.reduce((acc, key) => asObject(acc[key], key), value)

const at = (list: ReadonlyArray<Json>, index: number, what: string): JsonObject =>
  asObject(list[index], `${what}[${index}]`)

/** The metrics.json line (JSON Lines, MET-1) of one run. */
const metricsLineOf = (repo: TempRepo, task: string, runId: string): JsonObject => {
  const lines = readNdjson(repo.path(".runs", task, "metrics.json")).filter((line) => line["run_id"] === runId)
  assert.strictEqual(lines.length, 1, `expected one metrics line for ${runId}`)
  return lines[0] as JsonObject
}

/** The run summary the manifest points at (TM-7). */
const runSummaryOf = (repo: TempRepo, manifest: JsonObject): JsonObject =>
  readJson(repo.path(asString(manifest["run_summary_path"], "run_summary_path")))

/** The `error: ` line main.ts prints for a failure. */
const errorLineOf = (result: CliResult): string => {
  const line = result.stderr.split("\n").find((text) => text.startsWith("error: "))
  assert.isDefined(line, `no "error: " line\n${describeResult(result)}`)
  return line ?? ""
}

/** Every file below `dir` (dot files included); [] when it does not exist. */
const filesUnder = (dir: string): ReadonlyArray<string> =>
  existsSync(dir)
    ? readdirSync(dir).flatMap((name) => {
      const path = join(dir, name)
      return statSync(path).isDirectory() ? filesUnder(path) : [path]
    })
    : []

// ---------------------------------------------------------------------------------------------
// 1. A plain start records the control plane and the scheduler everywhere
// ---------------------------------------------------------------------------------------------

describe.concurrent("start records the control plane and the scheduler (CP-5, CP-8, SCH-4, SCH-5, MET-1, D-10)", () => {
  it("manifest sections, drift report, run summary and metrics line", () =>
    withRepo({ pipelines: [threeStages()] }, async (repo) => {
      const task = "cp-plain"
      const { manifest, output, result } = await startJson(repo, ["p", "--task", task], envWith())
      assert.strictEqual(result.code, 0, describeResult(result))
      const runId = asString(output["run_id"], "run_id")
      assert.strictEqual(manifest["status"], "succeeded")
      const completedAt = asString(manifest["completed_at"], "completed_at")

      // CP-5
      const controlPlane = get(manifest, "control_plane")
      assert.strictEqual(controlPlane["schema_id"], "codex.control-plane.run-request")
      assert.strictEqual(controlPlane["schema_version"], "2.0.0")
      assert.strictEqual(controlPlane["request_id"], runId)
      const validation = get(controlPlane, "validation")
      assert.deepInclude(validation, { mode: "shadow", status: "passed", errors: [] })
      assert.match(asString(validation["timestamp"], "validation.timestamp"), isoPattern)
      const driftPath = `out/${task}/control-plane/drift.json`
      assert.deepInclude(get(controlPlane, "drift"), {
        report_path: driftPath,
        total_samples: 1,
        invalid_samples: 0,
        invalid_rate: 0,
        mode: "shadow"
      })
      assert.deepStrictEqual(get(controlPlane, "enforcement"), { enabled: false, activated_at: null })

      // SCH-4 / SCH-5: one `general` instance, finalized with the run.
      const scheduler = get(manifest, "scheduler")
      assert.deepInclude(scheduler, { mode: "multi-instance", min_instances: 1, max_instances: 1 })
      assert.deepStrictEqual(get(scheduler, "recovery"), {
        heartbeat_interval_seconds: 30,
        missing_heartbeat_timeout_seconds: 120,
        max_retries: 3
      })
      const assignments = asArray(scheduler["assignments"], "scheduler.assignments")
      assert.strictEqual(assignments.length, 1)
      const assignment = at(assignments, 0, "assignments")
      assert.deepInclude(assignment, {
        instance_id: `${task}-general-01`,
        capability: "general",
        status: "succeeded",
        completed_at: completedAt
      })
      assert.deepStrictEqual(get(assignment, "metadata"), { weight: 1, maxConcurrency: 2 })
      const attempts = asArray(assignment["attempts"], "attempts")
      assert.strictEqual(attempts.length, 1)
      assert.deepInclude(at(attempts, 0, "attempts"), {
        number: 1,
        status: "completed",
        completed_at: completedAt,
        recovery_checkpoints: []
      })

      // CP-8: the drift report on disk.
      const drift = readJson(repo.path(driftPath))
      assert.deepInclude(drift, {
        schema_id: "codex.control-plane.run-request",
        schema_version: "2.0.0",
        total_samples: 1,
        invalid_samples: 0,
        invalid_rate: 0,
        mode: "shadow"
      })
      const entries = asArray(drift["entries"], "drift.entries")
      assert.strictEqual(entries.length, 1)
      assert.deepInclude(at(entries, 0, "entries"), { request_id: runId, status: "passed", mode: "shadow", errors: [] })

      // TM-7: the run summary, camelCase.
      const summary = runSummaryOf(repo, manifest)
      const summaryControlPlane = get(summary, "controlPlane")
      assert.deepInclude(summaryControlPlane, { schemaId: "codex.control-plane.run-request", requestId: runId })
      assert.strictEqual(get(summaryControlPlane, "validation")["status"], "passed")
      assert.deepInclude(get(summaryControlPlane, "drift"), { reportPath: driftPath, totalSamples: 1, invalidSamples: 0 })
      assert.notProperty(summaryControlPlane, "enforcement")
      const summaryScheduler = get(summary, "scheduler")
      assert.strictEqual(summaryScheduler["mode"], "multi-instance")
      assert.deepStrictEqual(asArray(summaryScheduler["assignments"], "summary.scheduler.assignments"), [{
        instanceId: `${task}-general-01`,
        capability: "general",
        status: "succeeded",
        attempts: 1,
        lastCompletedAt: completedAt
      }])

      // MET-1 with D-10: the metrics line sees the finalized scheduler.
      const metrics = metricsLineOf(repo, task, runId)
      assert.strictEqual(metrics["control_plane_status"], "passed")
      assert.strictEqual(metrics["scheduler_mode"], "multi-instance")
      assert.deepStrictEqual(asArray(metrics["instance_stats"], "instance_stats"), [{
        instance_id: `${task}-general-01`,
        capability: "general",
        status: "succeeded",
        attempts: 1,
        recovery_events: 0
      }])
    }))

  it("a second run of the task adds a sample; a passing sample adds no entry to a non-empty list (CP-8)", () =>
    withRepo({ pipelines: [threeStages()] }, async (repo) => {
      const task = "cp-twice"
      const first = await startJson(repo, ["p", "--task", task], envWith())
      const second = await startJson(repo, ["p", "--task", task], envWith())
      assert.strictEqual(second.result.code, 0, describeResult(second.result))
      assert.deepInclude(get(second.manifest, "control_plane", "drift"), { total_samples: 2, invalid_samples: 0 })
      const drift = readJson(repo.path("out", task, "control-plane", "drift.json"))
      assert.strictEqual(drift["total_samples"], 2)
      const entries = asArray(drift["entries"], "drift.entries")
      assert.strictEqual(entries.length, 1)
      assert.strictEqual(at(entries, 0, "entries")["request_id"], first.output["run_id"])
      assert.strictEqual(drift["last_sampled_at"], get(second.manifest, "control_plane", "validation")["timestamp"])
    }))

  it("writes the drift report under CODEX_ORCHESTRATOR_OUT_DIR, outside the repository too (D-5)", () =>
    withRepo({ pipelines: [threeStages()] }, async (repo) => {
      const outside = realpathSync(mkdtempSync(join(tmpdir(), "codex-orchestrator-it-out-")))
      try {
        const task = "cp-outdir"
        const outRoot = join(outside, "custom-out")
        const { manifest, result } = await startJson(
          repo,
          ["p", "--task", task],
          { ...unsetAll, CODEX_ORCHESTRATOR_OUT_DIR: outRoot }
        )
        assert.strictEqual(result.code, 0, describeResult(result))
        const driftFile = join(outRoot, task, "control-plane", "drift.json")
        const reportPath = asString(get(manifest, "control_plane", "drift")["report_path"], "report_path")
        assert.strictEqual(reportPath, relative(repo.dir, driftFile))
        assert.match(reportPath, /^\.\.\//)
        assert.strictEqual(readJson(driftFile)["total_samples"], 1)
        assert.isFalse(existsSync(repo.path("out", task, "control-plane")), "the drift report went to <repo>/out")
        assert.strictEqual(get(runSummaryOf(repo, manifest), "controlPlane", "drift")["reportPath"], reportPath)
      } finally {
        rmSync(outside, { recursive: true, force: true })
      }
    }))
})

// ---------------------------------------------------------------------------------------------
// 2. Enforce mode refuses an invalid request; shadow mode records it and runs
// ---------------------------------------------------------------------------------------------

interface InvalidRequestCase {
  readonly name: string
  readonly task: string
  /** codex.orchestrator.json; its pipeline `p` has one stage that creates `marker`. */
  readonly config: unknown
  /** Written to tasks/index.json when given (CFG-12). */
  readonly taskIndex?: unknown
  /** The CP-4 path that fails. */
  readonly path: string
  /** The value found there ("" unless given). */
  readonly value?: string
  /** How enforce mode is switched on (CP-1). */
  readonly enforceEnv: Readonly<Record<string, string>>
}

const markerStage = commandStage("touch", "touch marker")

const invalidRequests: ReadonlyArray<InvalidRequestCase> = [
  {
    name: "a pipeline with an empty title (CODEX_CONTROL_PLANE_MODE=enforce)",
    task: "cp-empty-pipeline-title",
    config: { pipelines: [pipeline("p", [markerStage], { title: "" })] },
    path: "$.pipeline.title",
    enforceEnv: { CODEX_CONTROL_PLANE_MODE: "enforce" }
  },
  {
    name: "a pipeline titled with spaces only (CODEX_CONTROL_PLANE_MODE=enforce)",
    task: "cp-blank-pipeline-title",
    config: { pipelines: [pipeline("p", [markerStage], { title: "   " })] },
    path: "$.pipeline.title",
    value: "   ",
    enforceEnv: { CODEX_CONTROL_PLANE_MODE: "enforce" }
  },
  {
    name: "a tasks/index.json entry with an empty title (CODEX_CONTROL_PLANE_ENFORCE=1)",
    task: "cp-empty-task-title",
    config: { pipelines: [pipeline("p", [markerStage])] },
    taskIndex: { items: [{ id: "cp-empty-task-title", slug: "cp-empty-task-title", title: "" }] },
    path: "$.task.title",
    enforceEnv: { CODEX_CONTROL_PLANE_ENFORCE: "1" }
  }
]

const withInvalidRequestRepo = <A>(c: InvalidRequestCase, f: (repo: TempRepo) => Promise<A>) =>
  withRepo(c.config, async (repo) => {
    if (c.taskIndex !== undefined) {
      mkdirSync(repo.path("tasks"), { recursive: true })
      writeFileSync(repo.path("tasks", "index.json"), `${JSON.stringify(c.taskIndex, null, 2)}\n`)
    }
    return f(repo)
  })

describe.concurrent("an invalid control-plane request (CP-4)", () => {
  for (const c of invalidRequests) {
    it(`enforce: ${c.name} fails the run before any stage runs (exit 1)`, () =>
      withInvalidRequestRepo(c, async (repo) => {
        const result = await runCli(["start", "p", "--task", c.task, "--format", "json"], {
          cwd: repo.dir,
          env: envWith(c.enforceEnv)
        })
        assert.strictEqual(result.code, 1, describeResult(result))
        // D-2: the refused run is the result on stdout, like any run that failed; the reason once on stderr.
        const printed = JSON.parse(result.stdout)
        assert.deepInclude(printed, { status: "failed", status_detail: "control-plane-validation-failed" })
        const errorLine = result.stderr.split("\n").find((text) => text.includes("error: Control plane validation failed")) ?? ""
        assert.strictEqual(
          result.stderr.split("\n").filter((text) => text.includes("Control plane validation failed (1 error).")).length,
          1,
          describeResult(result)
        )
        assert.include(errorLine, "Control plane validation failed (1 error).", describeResult(result))
        assert.include(errorLine, c.path, describeResult(result))
        assert.include(errorLine, "CODEX_CONTROL_PLANE_MODE=shadow", "the error says how to proceed")

        assert.isFalse(existsSync(repo.path("marker")), "a stage ran although the control plane refused the run")
        const runDirs = runDirsOf(repo, c.task)
        assert.strictEqual(runDirs.length, 1)
        const runDir = runDirs[0] ?? ""
        const manifest = readJson(join(runDir, "manifest.json"))
        assert.strictEqual(manifest["status"], "failed")
        assert.strictEqual(manifest["status_detail"], "control-plane-validation-failed")
        assert.match(asString(manifest["completed_at"], "completed_at"), isoPattern)
        assert.include(
          asString(manifest["summary"], "summary"),
          "Control plane validation failed: Control plane validation failed (1 error)."
        )
        for (const entry of asArray(manifest["commands"], "commands")) {
          assert.deepInclude(asObject(entry, "command entry"), { status: "pending", started_at: null, exit_code: null })
        }
        assert.deepStrictEqual(listDir(join(runDir, "commands")), [], "a stage log was written")

        const controlPlane = get(manifest, "control_plane")
        const validation = get(controlPlane, "validation")
        assert.strictEqual(validation["mode"], "enforce")
        assert.strictEqual(validation["status"], "failed")
        const errors = asArray(validation["errors"], "errors")
        assert.deepStrictEqual(errors.map((e) => asObject(e, "error")["path"]), [c.path])
        assert.deepInclude(at(errors, 0, "errors"), { value: c.value ?? "", expected: "a non-empty string" })
        const enforcement = get(controlPlane, "enforcement")
        assert.strictEqual(enforcement["enabled"], true)
        assert.strictEqual(enforcement["activated_at"], validation["timestamp"])

        const drift = readJson(repo.path("out", c.task, "control-plane", "drift.json"))
        assert.deepInclude(drift, { total_samples: 1, invalid_samples: 1, invalid_rate: 1, mode: "enforce" })
        assert.deepInclude(at(asArray(drift["entries"], "entries"), 0, "entries"), { status: "failed", mode: "enforce" })
      }))

    it(`shadow: ${c.name.replace(/ \(.*\)$/, "")} is recorded failed and the run goes on (exit 0)`, () =>
      withInvalidRequestRepo(c, async (repo) => {
        const { manifest, output, result } = await startJson(repo, ["p", "--task", c.task], envWith())
        assert.strictEqual(result.code, 0, describeResult(result))
        assert.strictEqual(manifest["status"], "succeeded")
        assert.isTrue(existsSync(repo.path("marker")), "the stage did not run in shadow mode")
        // What was only recorded is said once on stderr, naming the problem and the drift report.
        const warnings = result.stderr.split("\n").filter((line) => line.includes("warning: Control plane (shadow mode)"))
        assert.strictEqual(warnings.length, 1, describeResult(result))
        assert.include(warnings[0], c.path)
        assert.include(warnings[0], `out/${c.task}/control-plane/drift.json`)

        const validation = get(manifest, "control_plane", "validation")
        assert.strictEqual(validation["mode"], "shadow")
        assert.strictEqual(validation["status"], "failed")
        const errors = asArray(validation["errors"], "errors")
        assert.deepStrictEqual(errors.map((e) => asObject(e, "error")["path"]), [c.path])
        assert.match(asString(at(errors, 0, "errors")["message"], "message"), /non-empty string/)
        assert.deepStrictEqual(get(manifest, "control_plane", "enforcement"), { enabled: false, activated_at: null })
        assert.deepInclude(get(manifest, "control_plane", "drift"), { total_samples: 1, invalid_samples: 1, mode: "shadow" })

        assert.strictEqual(get(runSummaryOf(repo, manifest), "controlPlane", "validation")["status"], "failed")
        const metrics = metricsLineOf(repo, c.task, asString(output["run_id"], "run_id"))
        assert.strictEqual(metrics["control_plane_status"], "failed")
      }))
  }
})

describe("shadow mode goes on without its drift report (CP-1, CP-8)", () => {
  it("a file where the control-plane folder should be: one warning naming it, the run succeeds (exit 0)", () =>
    withRepo({ pipelines: [pipeline("p", [markerStage])] }, async (repo) => {
      const task = "cp-drift-blocked"
      mkdirSync(repo.path("out", task), { recursive: true })
      writeFileSync(repo.path("out", task, "control-plane"), "not a folder\n")
      const { manifest, result } = await startJson(repo, ["p", "--task", task], envWith())
      assert.strictEqual(result.code, 0, describeResult(result))
      assert.strictEqual(manifest["status"], "succeeded")
      assert.isTrue(existsSync(repo.path("marker")), "the stage did not run")
      const warnings = result.stderr.split("\n").filter((line) => line.includes("warning: Control plane (shadow mode)"))
      assert.strictEqual(warnings.length, 1, describeResult(result))
      assert.include(warnings[0], `out/${task}/control-plane`)
      assert.include(warnings[0], "ENOTDIR")
      assert.strictEqual(get(manifest, "control_plane", "validation")["status"], "passed")
    }))
})

// ---------------------------------------------------------------------------------------------
// 3. TF-GRPO guardrails (CP-6, GRP-4) and a group run (GRP-2, GRP-3, SCH-3)
// ---------------------------------------------------------------------------------------------

interface GuardrailCase {
  readonly name: string
  readonly env: Readonly<Record<string, string>>
  readonly mentions: ReadonlyArray<string>
}

const guardrailCases: ReadonlyArray<GuardrailCase> = [
  {
    name: "FEATURE_TFGRPO_GROUP=1 TFGRPO_GROUP_SIZE=1: the group is too small",
    env: { FEATURE_TFGRPO_GROUP: "1", TFGRPO_GROUP_SIZE: "1" },
    mentions: ["TF-GRPO groupSize guardrail violated", "≥ 2", "groupSize is 1", "Set TFGRPO_GROUP_SIZE>=2 or disable FEATURE_TFGRPO_GROUP"]
  },
  {
    name: "TFGRPO_GROUP_SIZE=5 on a pipeline without tags: more than the fan-out capacity 2",
    env: { TFGRPO_GROUP_SIZE: "5" },
    mentions: ["exceeds available scheduling capacity", "groupSize 5", "fan-out capacity 2", "lower TFGRPO_GROUP_SIZE"]
  },
  {
    name: "FEATURE_TFGRPO_GROUP=1 TFGRPO_GROUP_SIZE=3 (0.2.1 left a queued manifest and exited 1)",
    env: { FEATURE_TFGRPO_GROUP: "1", TFGRPO_GROUP_SIZE: "3" },
    mentions: ["exceeds available scheduling capacity", "groupSize 3", "fan-out capacity 2"]
  },
  {
    name: "TFGRPO_GROUP_SIZE=abc: not a number",
    env: { TFGRPO_GROUP_SIZE: "abc" },
    mentions: ["TFGRPO_GROUP_SIZE=\"abc\"", "a positive integer", "unset it"]
  }
]

describe.concurrent("TF-GRPO guardrails are bad input: exit 2 and nothing written (CP-6, D-1)", () => {
  for (const c of guardrailCases) {
    it(c.name, () =>
      withRepo({ pipelines: [threeStages()] }, async (repo) => {
        const before = listDir(repo.dir)
        const result = await runCli(["start", "p", "--task", "grp-guard", "--format", "json"], {
          cwd: repo.dir,
          env: envWith(c.env)
        })
        assert.strictEqual(result.code, 2, describeResult(result))
        const errorLine = errorLineOf(result)
        for (const text of c.mentions) assert.include(errorLine, text, describeResult(result))
        assert.strictEqual(result.stdout, "", "stdout must stay empty on bad input")
        assert.isFalse(existsSync(repo.path(".runs")), ".runs was created")
        assert.deepStrictEqual(listDir(repo.dir), before, "files were written into the repository")
        assert.deepStrictEqual(executions(repo), [])
      }))
  }
})

describe("FEATURE_TFGRPO_GROUP=1 alone: a group of 2 (CP-3, SCH-3, GRP-2, GRP-3)", () => {
  it("schedules two instances with groupIndex 1 and 2, runs each command once and processes every target", () =>
    withRepo({
      pipelines: [pipeline("p", [countingStage("a"), countingStage("b"), countingStage("guard", "spec-guard")])]
    }, async (repo) => {
      const task = "grp-run"
      const { manifest, output, result } = await startJson(repo, ["p", "--task", task], envWith({ FEATURE_TFGRPO_GROUP: "1" }))
      assert.strictEqual(result.code, 0, describeResult(result))
      assert.strictEqual(manifest["status"], "succeeded")
      // GRP-3: the builder is memoised, so a group of three targets runs the pipeline once.
      assert.deepStrictEqual(executions(repo), ["a", "b", "spec-guard"])
      assert.strictEqual(runDirsOf(repo, task).length, 1, "a group run must be one run")

      const scheduler = get(manifest, "scheduler")
      assert.deepInclude(scheduler, { min_instances: 2, max_instances: 2 })
      const assignments = asArray(scheduler["assignments"], "assignments").map((a) => asObject(a, "assignment"))
      assert.deepStrictEqual(
        assignments.map((a) => [a["instance_id"], a["status"], get(a, "metadata")["groupIndex"]]),
        [[`${task}-general-01`, "succeeded", 1], [`${task}-general-02`, "succeeded", 2]]
      )
      assert.strictEqual(get(manifest, "control_plane", "validation")["status"], "passed")

      const group = get(runSummaryOf(repo, manifest), "group")
      assert.strictEqual(group["enabled"], true)
      assert.strictEqual(group["size"], 3)
      assert.isAtLeast(Number(group["processed"]), 1)
      // With a passing spec-guard every target's build and test succeed, so none stops the group.
      assert.strictEqual(group["processed"], 3)
      assert.deepStrictEqual(
        asArray(group["entries"], "group.entries").map((e) => asObject(e, "entry")["status"]),
        ["succeeded", "succeeded", "succeeded"]
      )

      const metrics = metricsLineOf(repo, task, asString(output["run_id"], "run_id"))
      assert.deepStrictEqual(
        asArray(metrics["instance_stats"], "instance_stats").map((s) => asObject(s, "stat")["status"]),
        ["succeeded", "succeeded"]
      )
    }))
})

// ---------------------------------------------------------------------------------------------
// 4. Cloud sync through the CLI (SYNC-2..4) against a real HTTP server
// ---------------------------------------------------------------------------------------------

const cloudEnv = (baseUrl: string, token: string) =>
  envWith({
    CODEX_CLOUD_SYNC: "1",
    CODEX_CLOUD_BASE_URL: baseUrl,
    CODEX_CLOUD_WORKSPACE_ID: "ws",
    CODEX_CLOUD_TOKEN: token
  })

/** A token nobody else uses, so that finding it anywhere can only mean a leak. */
const uniqueToken = () => `it-secret-${randomUUID()}`

/** Runs `p` with cloud sync against a server answering with `respond`; the server is stopped afterwards. */
const startWithCloud = async (repo: TempRepo, task: string, token: string, respond: (request: ReceivedRequest, index: number) => Reply) => {
  const server = await startHttpServer(respond)
  try {
    const run = await startJson(repo, ["p", "--task", task], cloudEnv(server.baseUrl, token))
    return { ...run, received: [...server.received] }
  } finally {
    await server.close()
  }
}

const auditLinesOf = (repo: TempRepo, task: string): ReadonlyArray<JsonObject> =>
  readNdjson(repo.path("out", task, "cloud-sync", "audit.log"))

const statusOf = async (repo: TempRepo, task: string, runId: string) => {
  const json = await runCli(["status", "--run", runId, "--task", task, "--format", "json"], { cwd: repo.dir, env: envWith() })
  assert.strictEqual(json.code, 0, describeResult(json))
  const text = await runCli(["status", "--run", runId, "--task", task], { cwd: repo.dir, env: envWith() })
  assert.strictEqual(text.code, 0, describeResult(text))
  return { json: asObject(parseJson(json.stdout), "status stdout"), text: text.stdout, results: [json, text] }
}

/** SYNC: no file under `.runs/` or `out/`, and no output of the CLI, holds the token. */
const assertTokenNowhere = (repo: TempRepo, token: string, results: ReadonlyArray<CliResult>) => {
  const files = [...filesUnder(repo.path(".runs")), ...filesUnder(repo.path("out"))]
  assert.isAbove(files.length, 5, "expected the run's files on disk")
  for (const file of files) {
    assert.notInclude(readFileSync(file, "utf8"), token, `the token leaked into ${file}`)
  }
  for (const result of results) {
    assert.notInclude(result.stdout, token, "the token leaked to stdout")
    assert.notInclude(result.stderr, token, "the token leaked to stderr")
  }
}

describe.concurrent("cloud sync through the CLI (SYNC-2..4)", () => {
  it("503 twice, then 201: three POSTs with one idempotency key, synced, audited, shown by status", () =>
    withRepo({ pipelines: [threeStages()] }, async (repo) => {
      const task = "sync-ok"
      const token = uniqueToken()
      const { manifest, output, received, result } = await startWithCloud(repo, task, token, (_, index) =>
        index < 2 ? { status: 503, body: { error: "busy" } } : { status: 201, body: { id: "remote-1" } })
      assert.strictEqual(result.code, 0, describeResult(result))
      assert.strictEqual(manifest["status"], "succeeded")
      const runId = asString(output["run_id"], "run_id")

      // SYNC-2 / SYNC-4: the requests.
      const key = createHash("sha256").update(`${task}:${runId}`).digest("hex")
      const runSummaryManifest = readJson(repo.path(".runs", task, runId, "manifest.json"))
      assert.strictEqual(received.length, 3, describeResult(result))
      for (const request of received) {
        assert.strictEqual(request.method, "POST")
        assert.strictEqual(request.url, "/workspaces/ws/runs/import")
        assert.strictEqual(request.headers["authorization"], `Bearer ${token}`)
        assert.strictEqual(request.headers["x-idempotency-key"], key)
        assert.match(String(request.headers["content-type"]), /^application\/json/)
        const body = asObject(request.body as Json, "request body")
        assert.deepInclude(get(body, "summary"), { taskId: task, runId })
        assert.deepStrictEqual(get(body, "manifest"), runSummaryManifest)
        assert.strictEqual(body["idempotencyKey"], key)
      }

      // The per-run record and the audit log.
      const record = readJson(join(repo.path(asString(output["artifact_root"], "artifact_root")), "cloud-sync.json"))
      assert.deepInclude(record, { status: "synced", remote_id: "remote-1", attempts: 3 })
      assert.match(asString(record["synced_at"], "synced_at"), isoPattern)
      const audit = auditLinesOf(repo, task)
      assert.deepStrictEqual(audit.map((line) => [line["level"], line["message"], get(line, "details")["attempt"]]), [
        ["error", "Cloud sync attempt failed", 1],
        ["error", "Cloud sync attempt failed", 2],
        ["info", "Cloud sync completed", 3]
      ])
      assert.deepStrictEqual(get(audit[0] ?? {}, "details", "error"), {
        name: "CloudUploadHttpError",
        message: "CloudRuns upload failed with status 503"
      })
      assert.strictEqual(get(audit[2] ?? {}, "details")["remoteId"], "remote-1")
      for (const line of audit) assert.deepInclude(line, { taskId: task, runId })

      // status shows the sync.
      const status = await statusOf(repo, task, runId)
      assert.deepInclude(get(status.json, "cloud_sync"), { status: "synced", remote_id: "remote-1", attempts: 3 })
      const syncLine = status.text.split("\n").find((line) => line.startsWith("Cloud sync: "))
      assert.isDefined(syncLine, status.text)
      assert.match(syncLine ?? "", /^Cloud sync: synced at \d{4}-\d{2}-\d{2}T\S+ \(remote id remote-1\)$/)

      assertTokenNowhere(repo, token, [result, ...status.results])
    }))

  it("401: exactly one request, the run still exits 0 with a warning, the failure is audited and shown", () =>
    withRepo({ pipelines: [threeStages()] }, async (repo) => {
      const task = "sync-denied"
      const token = uniqueToken()
      // The server even echoes the token: nothing we write may carry it.
      const { manifest, output, received, result } = await startWithCloud(repo, task, token, () => ({
        status: 401,
        body: { error: `invalid token ${token}` }
      }))
      assert.strictEqual(result.code, 0, describeResult(result))
      assert.strictEqual(manifest["status"], "succeeded")
      assert.deepStrictEqual(executions(repo), ["a", "b", "c"])
      const runId = asString(output["run_id"], "run_id")
      assert.strictEqual(received.length, 1, "a 401 must not be retried")
      assert.strictEqual(received[0]?.headers["authorization"], `Bearer ${token}`)

      const warning = result.stderr.split("\n").find((line) => line.includes("warning:") && line.includes("Cloud sync"))
      assert.isDefined(warning, describeResult(result))
      assert.include(warning ?? "", "CloudRuns upload failed with status 401")
      assert.include(warning ?? "", "The run itself is unaffected")

      const audit = auditLinesOf(repo, task)
      assert.deepStrictEqual(audit.map((line) => [line["level"], line["message"], get(line, "details")["attempt"]]), [
        ["error", "Cloud sync attempt failed", 1]
      ])
      assert.deepStrictEqual(get(audit[0] ?? {}, "details", "error"), {
        name: "CloudUploadHttpError",
        message: "CloudRuns upload failed with status 401"
      })
      const record = readJson(join(repo.path(asString(output["artifact_root"], "artifact_root")), "cloud-sync.json"))
      assert.deepInclude(record, { status: "failed", attempts: 1 })

      const status = await statusOf(repo, task, runId)
      assert.deepInclude(get(status.json, "cloud_sync"), { status: "failed", attempts: 1 })
      assert.strictEqual(get(status.json, "cloud_sync", "error")["message"], "CloudRuns upload failed with status 401")
      assert.include(status.text, "Cloud sync: failed at ")
      assert.include(status.text, "CloudRuns upload failed with status 401")

      assertTokenNowhere(repo, token, [result, ...status.results])
    }))

  it("without a token: no request is sent, the run exits 0, the failure names the missing credential", () =>
    withRepo({ pipelines: [threeStages()] }, async (repo) => {
      const task = "sync-no-token"
      const server = await startHttpServer(() => ({ status: 201, body: { id: "never" } }))
      let run: Awaited<ReturnType<typeof startJson>>
      try {
        const { CODEX_CLOUD_TOKEN: _none, ...env } = cloudEnv(server.baseUrl, "unused")
        run = await startJson(repo, ["p", "--task", task], env)
        assert.strictEqual(server.received.length, 0)
      } finally {
        await server.close()
      }
      assert.strictEqual(run.result.code, 0, describeResult(run.result))
      const record = readJson(join(run.runDir, "cloud-sync.json"))
      assert.deepInclude(record, { status: "failed" })
      assert.strictEqual(get(record, "error")["name"], "CredentialUnavailable")
      assert.include(asString(get(record, "error")["message"], "error.message"), "CODEX_CLOUD_TOKEN")
      assert.include(run.result.stderr, "warning: Cloud sync of run")
    }))

  it("a server that accepts the upload and never answers: each attempt gives up after CODEX_CLOUD_SYNC_TIMEOUT_SECONDS, exit 0, recorded", () =>
    withRepo({ pipelines: [threeStages()] }, async (repo) => {
      const task = "sync-silent"
      // Accepts every connection, counts the requests sent on them and never answers.
      const sockets: Array<Socket> = []
      let requests = 0
      const silent = createTcpServer((socket) => {
        sockets.push(socket)
        socket.once("data", () => void (requests += 1))
      })
      await new Promise<void>((done) => silent.listen(0, "127.0.0.1", done))
      const address = silent.address()
      const baseUrl = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`
      const began = Date.now()
      let run: Awaited<ReturnType<typeof startJson>>
      try {
        run = await startJson(repo, ["p", "--task", task], { ...cloudEnv(baseUrl, uniqueToken()), CODEX_CLOUD_SYNC_TIMEOUT_SECONDS: "0.3" })
      } finally {
        for (const socket of sockets) socket.destroy()
        await new Promise<void>((done) => silent.close(() => done()))
      }
      const { manifest, result, runDir } = run
      assert.strictEqual(result.code, 0, describeResult(result))
      assert.strictEqual(manifest["status"], "succeeded")
      // fetch may open one more connection after the last attempt, which it never uses.
      assert.strictEqual(requests, 3, "one request per attempt")
      // It held the CLI about 91 s before (three 30 s attempts).
      assert.isBelow(Date.now() - began, 25_000, describeResult(result))
      const message = `CloudRuns upload to ${baseUrl}/workspaces/ws/runs/import failed: no complete answer within 0.3 s ` +
        "(CODEX_CLOUD_SYNC_TIMEOUT_SECONDS sets how long each of the 3 attempts may wait, default 10)"
      const record = readJson(join(runDir, "cloud-sync.json"))
      assert.deepInclude(record, { status: "failed", attempts: 3 })
      assert.deepStrictEqual(get(record, "error"), { name: "CloudUploadNetworkError", message })
      assert.deepStrictEqual(auditLinesOf(repo, task).map((line) => get(line, "details", "error")["message"]), [message, message, message])
      const warning = result.stderr.split("\n").find((line) => line.includes("warning: Cloud sync of run"))
      assert.include(warning ?? "", `failed after 3 upload attempt(s): ${message}. The run itself is unaffected`, describeResult(result))
    }))

  // The token is scrubbed from the values that came from outside (errors, the remote id), not from
  // the serialized file: a token that is also an ordinary word must not corrupt our own records.
  it("a token that also occurs in ordinary text does not corrupt the sync record or the audit log", () =>
    withRepo({ pipelines: [threeStages()] }, async (repo) => {
      const task = "sync-short-token"
      const { output, result } = await startWithCloud(repo, task, "synced", () => ({ status: 201, body: { id: "remote-2" } }))
      assert.strictEqual(result.code, 0, describeResult(result))
      const runId = asString(output["run_id"], "run_id")
      const record = readJson(join(repo.path(asString(output["artifact_root"], "artifact_root")), "cloud-sync.json"))
      assert.deepInclude(record, { status: "synced", remote_id: "remote-2", attempts: 1 })
      assert.deepStrictEqual(auditLinesOf(repo, task).map((line) => line["message"]), ["Cloud sync completed"])
      const status = await statusOf(repo, task, runId)
      assert.include(status.text, "Cloud sync: synced at ")
    }))

  const configErrors: ReadonlyArray<{ readonly name: string; readonly env: Readonly<Record<string, string>>; readonly variable: string }> = [
    {
      name: "CODEX_CLOUD_SYNC=1 without CODEX_CLOUD_WORKSPACE_ID",
      env: { CODEX_CLOUD_SYNC: "1", CODEX_CLOUD_TOKEN: "unused" },
      variable: "CODEX_CLOUD_WORKSPACE_ID"
    },
    {
      name: "CODEX_CLOUD_SYNC=1 with a CODEX_CLOUD_BASE_URL that is not http(s)",
      env: { CODEX_CLOUD_SYNC: "1", CODEX_CLOUD_WORKSPACE_ID: "ws", CODEX_CLOUD_BASE_URL: "ftp://example.invalid" },
      variable: "CODEX_CLOUD_BASE_URL"
    },
    {
      name: "CODEX_CLOUD_SYNC=1 with a one-character CODEX_CLOUD_TOKEN",
      env: { CODEX_CLOUD_SYNC: "1", CODEX_CLOUD_WORKSPACE_ID: "ws", CODEX_CLOUD_TOKEN: "e" },
      variable: "CODEX_CLOUD_TOKEN"
    },
    // fetch refused its header with a TypeError quoting it, retried three times as a network error.
    {
      name: "CODEX_CLOUD_SYNC=1 with a CODEX_CLOUD_TOKEN holding a line break (never shown)",
      env: { CODEX_CLOUD_SYNC: "1", CODEX_CLOUD_WORKSPACE_ID: "ws", CODEX_CLOUD_TOKEN: "tokpart1\ntokpart2" },
      variable: "CODEX_CLOUD_TOKEN"
    }
  ]
  for (const c of configErrors) {
    it(`${c.name} is bad input: exit 2 naming the variable, nothing written (D-1)`, () =>
      withRepo({ pipelines: [threeStages()] }, async (repo) => {
        const before = listDir(repo.dir)
        const result = await runCli(["start", "p", "--task", "sync-config", "--format", "json"], {
          cwd: repo.dir,
          env: envWith(c.env)
        })
        assert.strictEqual(result.code, 2, describeResult(result))
        const errorLine = errorLineOf(result)
        assert.include(errorLine, c.variable)
        assert.include(errorLine, "CODEX_CLOUD_SYNC")
        assert.notInclude(result.stderr, "tokpart")
        assert.strictEqual(result.stdout, "")
        assert.isFalse(existsSync(repo.path(".runs")), ".runs was created")
        assert.deepStrictEqual(listDir(repo.dir), before)
        assert.deepStrictEqual(executions(repo), [])
      }))
  }
})
