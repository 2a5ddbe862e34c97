/**
 * The run engine on the deterministic test kit (DECISIONS B-4): scripted processes, an in-memory run
 * store and TestClock. SPEC RUN-3..12, LAY-1..3, MAN-1..5, LOG-1..2, ENV-5; DECISIONS D-1, D-4, D-8, D-11.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Exit, Fiber, Layer, Logger, LogLevel, Option, TestClock } from "effect"
import { ErrorFile } from "../src/domain/Manifest.js"
import type { PipelineDefinition } from "../src/domain/Pipeline.js"
import { ExecBegin, ExecChunk, ExecEnd, type RunLogEvent } from "../src/domain/RunLog.js"
import { RunSummary } from "../src/domain/RunSummary.js"
import { TaskStateSnapshot } from "../src/domain/TaskState.js"
import { AppMemory, type MemoryAppOptions, type ScriptedProcess } from "../src/layers/App.js"
import { ProcessInvocations } from "../src/layers/ProcessRunner.js"
import { EventBus } from "../src/services/EventBus.js"
import { Planner } from "../src/services/Planner.js"
import { RunEngine, type StartRequest } from "../src/services/RunEngine.js"
import { fileText, jsonFile, listFiles, logFile, manifestFile, onlyManifestPath } from "./support/files.js"
import { at, commandStage, nestedStage, pipeline } from "./support/pipelines.js"

// ---------------------------------------------------------------------------------------------
// Fixtures

const trivial = pipeline("trivial", [
  commandStage("hello", "echo hello world", { title: "Say hello" }),
  commandStage("lint", "npm run lint"),
  commandStage("guard", "node scripts/spec-guard.mjs --dry-run", { title: "Spec guard" })
], { title: "Trivial Pipeline" })

const failing = pipeline("failing", [
  commandStage("ok", "echo ok", { title: "Ok" }),
  commandStage("soft", "echo soft >&2; exit 3", { title: "Soft", allowFailure: true }),
  commandStage("hard", "echo boom >&2; exit 7", { title: "Hard" }),
  commandStage("never", "echo never", { title: "Never" })
])

const scripts = {
  "echo hello world": { output: [{ stream: "stdout", data: "hello world\n" }], duration: "1 second" },
  "npm run lint": { output: [{ stream: "stderr", data: "warn\n" }], duration: "2 seconds" },
  "node scripts/spec-guard.mjs --dry-run": { duration: "500 millis" },
  "echo ok": { output: [{ stream: "stdout", data: "ok\n" }] },
  "echo soft >&2; exit 3": { output: [{ stream: "stderr", data: "soft\n" }], exitCode: 3 },
  "echo boom >&2; exit 7": { output: [{ stream: "stderr", data: "boom\n" }], exitCode: 7 },
  "echo never": { output: [{ stream: "stdout", data: "never\n" }] },
  "echo prep": { output: [{ stream: "stdout", data: "prepared\n" }] }
} satisfies Record<string, ScriptedProcess>

const app = (
  pipelines: ReadonlyArray<PipelineDefinition>,
  options: Omit<MemoryAppOptions, "pipelines"> = {}
) => AppMemory({ scripts, ...options, pipelines: { user: pipelines } })

const guardMissing =
  "Guardrail command missing; run scripts/run-mcp-diagnostics.sh --no-watch to capture reviewer diagnostics."
const guardFailed =
  "Guardrail command failed; re-run scripts/run-mcp-diagnostics.sh --no-watch to gather failure artifacts."

const runIdPattern = /^1970-01-01T00-00-00-000Z-[0-9a-f]{8}$/

// ---------------------------------------------------------------------------------------------
// Helpers

/** Starts a run, lets `time` pass on the TestClock, and returns the finished outcome. */
const startSettled = (request: StartRequest, time: Duration.DurationInput = "1 minute") =>
  Effect.gen(function*() {
    const engine = yield* RunEngine
    const fiber = yield* Effect.fork(engine.start(request))
    yield* TestClock.adjust(time)
    assert.isTrue(Option.isSome(yield* Fiber.poll(fiber)), `the run did not finish within ${Duration.format(time)}`)
    return yield* Fiber.join(fiber)
  })

const invokedCommands = Effect.flatMap(ProcessInvocations, (p) => p.all).pipe(
  Effect.map((all) => all.map((spec) => spec.command))
)

/** D-1: bad input leaves no file and runs no process. */
const assertNothingHappened = Effect.gen(function*() {
  assert.deepStrictEqual(yield* listFiles, [])
  assert.deepStrictEqual(yield* invokedCommands, [])
})

const types = (events: ReadonlyArray<RunLogEvent>) => events.map((e) => e.type)

const entryKeys = [
  "command",
  "completed_at",
  "error_file",
  "exit_code",
  "id",
  "index",
  "kind",
  "log_path",
  "started_at",
  "status",
  "sub_run_id",
  "summary",
  "title"
]

// ---------------------------------------------------------------------------------------------

describe("RunEngine: a successful run", () => {
  it.effect("records every stage and the run in the manifest (MAN-1, MAN-2, MAN-5)", () =>
    Effect.gen(function*() {
      const { layout, manifest } = yield* startSettled({ pipelineId: "trivial", taskId: "demo-task" })
      const runId = manifest.run_id
      assert.match(runId, runIdPattern)
      const root = `.runs/demo-task/cli/${runId}`
      assert.strictEqual(layout.manifest, `/repo/${root}/manifest.json`)

      const written = yield* manifestFile(layout.manifest)
      assert.deepStrictEqual(written, manifest, "the returned manifest is the one on disk")

      assert.strictEqual(written.version, 1)
      assert.strictEqual(written.task_id, "demo-task")
      assert.strictEqual(written.task_slug, "demo-task")
      assert.strictEqual(written.parent_run_id, null)
      assert.strictEqual(written.pipeline_id, "trivial")
      assert.strictEqual(written.pipeline_title, "Trivial Pipeline")
      assert.strictEqual(written.runner, "codex-cli")
      assert.strictEqual(written.approval_policy, null)
      assert.strictEqual(written.status, "succeeded")
      assert.strictEqual(written.status_detail, null)
      assert.strictEqual(written.started_at, at(0))
      assert.strictEqual(written.completed_at, at(3500))
      assert.strictEqual(written.updated_at, at(3500))
      assert.strictEqual(written.heartbeat_at, at(3500))
      assert.strictEqual(written.heartbeat_interval_seconds, 5)
      assert.strictEqual(written.heartbeat_stale_after_seconds, 30)
      assert.strictEqual(written.artifact_root, root)
      assert.strictEqual(written.compat_path, `.runs/demo-task/mcp/${runId}`)
      assert.strictEqual(written.log_path, `${root}/runner.ndjson`)
      assert.strictEqual(written.summary, "Guardrails: spec-guard succeeded (1 passed).")
      // MET-1: the metrics line is recorded once the run is complete.
      assert.strictEqual(written.metrics_recorded, true)
      assert.match(written.resume_token, /^[0-9a-f]{64}$/)
      assert.deepStrictEqual(written.resume_events, [])
      assert.deepStrictEqual(written.approvals, [])
      assert.deepStrictEqual(written.child_runs, [])
      assert.strictEqual(written.run_summary_path, `${root}/run-summary.json`)
      assert.strictEqual(written.plan_target_id, "trivial:hello")
      assert.strictEqual(written.instructions_hash, null)
      assert.deepStrictEqual(written.instructions_sources, [])
      assert.strictEqual(written.guardrails_required, true)
      assert.deepStrictEqual(written.guardrail_status, {
        present: true,
        recommendation: null,
        summary: "Guardrails: spec-guard succeeded (1 passed).",
        computed_at: at(3500),
        counts: { total: 1, succeeded: 1, failed: 0, skipped: 0, other: 0 }
      })

      assert.deepStrictEqual(written.commands, [
        {
          index: 1,
          id: "hello",
          title: "Say hello",
          command: "echo hello world",
          kind: "command",
          status: "succeeded",
          started_at: at(0),
          completed_at: at(1000),
          exit_code: 0,
          summary: "hello world",
          log_path: `${root}/commands/01-hello.ndjson`,
          error_file: null,
          sub_run_id: null
        },
        {
          index: 2,
          id: "lint",
          title: "lint",
          command: "npm run lint",
          kind: "command",
          status: "succeeded",
          started_at: at(1000),
          completed_at: at(3000),
          exit_code: 0,
          summary: "warn",
          log_path: `${root}/commands/02-lint.ndjson`,
          error_file: null,
          sub_run_id: null
        },
        {
          index: 3,
          id: "guard",
          title: "Spec guard",
          command: "node scripts/spec-guard.mjs --dry-run",
          kind: "command",
          status: "succeeded",
          started_at: at(3000),
          completed_at: at(3500),
          exit_code: 0,
          summary: "Command completed with code 0",
          log_path: `${root}/commands/03-guard.ndjson`,
          error_file: null,
          sub_run_id: null
        }
      ])
      for (const entry of written.commands) assert.deepStrictEqual(Object.keys(entry).sort(), entryKeys)

      assert.deepStrictEqual(yield* invokedCommands, [
        "echo hello world",
        "npm run lint",
        "node scripts/spec-guard.mjs --dry-run"
      ])
    }).pipe(Effect.provide(app([trivial]))))

  it.effect("lays out the run folder (LAY-1..3)", () =>
    Effect.gen(function*() {
      const { manifest } = yield* startSettled({ pipelineId: "trivial", taskId: "demo-task" })
      const runId = manifest.run_id
      const dir = `/repo/.runs/demo-task/cli/${runId}`
      const all = yield* listFiles
      for (
        const expected of [
          `${dir}/.heartbeat`,
          `${dir}/.resume-token`,
          `${dir}/commands/01-hello.ndjson`,
          `${dir}/commands/02-lint.ndjson`,
          `${dir}/commands/03-guard.ndjson`,
          `${dir}/manifest.json`,
          `${dir}/run-summary.json`,
          `${dir}/runner.ndjson`,
          `/repo/.runs/demo-task/mcp/${runId}/manifest.json`,
          `/repo/.runs/local-mcp/${runId}/manifest.json`
        ]
      ) assert.include(all, expected)
      // A successful run writes no error file, and outside its folder only the LAY-3 pointers and the
      // task-level records: metrics (MET-1..5), the run summary manifest (PER-5) and runs.json (PER-3).
      assert.deepStrictEqual(all.filter((p) => p.includes("/errors/")), [])
      assert.deepStrictEqual(
        all.filter((p) =>
          !p.startsWith(`${dir}/`)
          && p !== `/repo/.runs/demo-task/mcp/${runId}/manifest.json`
          && p !== `/repo/.runs/local-mcp/${runId}/manifest.json`
        ),
        [
          `/repo/.runs/demo-task/${runId}/manifest.json`,
          "/repo/.runs/demo-task/metrics.json",
          "/repo/.runs/demo-task/metrics/baseline.json",
          "/repo/.runs/demo-task/metrics/completeness.json",
          "/repo/.runs/demo-task/metrics/post-rollout.json",
          "/repo/.runs/demo-task/metrics/running-totals.json",
          "/repo/out/demo-task/metrics/mttr-delta.json",
          "/repo/out/demo-task/runs.json",
          "/repo/out/demo-task/state.json"
        ]
      )
      assert.strictEqual(yield* fileText(`${dir}/.resume-token`), `${manifest.resume_token}\n`)
      assert.strictEqual(yield* fileText(`${dir}/.heartbeat`), `${at(3500)}\n`)
      assert.strictEqual(
        yield* fileText(`/repo/.runs/local-mcp/${runId}/manifest.json`),
        `-> ../../demo-task/cli/${runId}/manifest.json`
      )
    }).pipe(Effect.provide(app([trivial]))))

  it.effect("writes run-summary.json as a RunSummary (TM-5, TM-6)", () =>
    Effect.gen(function*() {
      const { layout, manifest } = yield* startSettled({ pipelineId: "trivial", taskId: "demo-task" })
      const root = manifest.artifact_root
      const summary = yield* jsonFile(RunSummary, layout.runSummary)
      const notes = "Say hello: hello world\nlint: warn\nSpec guard: Command completed with code 0"
      assert.strictEqual(summary.taskId, "demo-task")
      assert.strictEqual(summary.runId, manifest.run_id)
      assert.strictEqual(summary.mode, "mcp")
      assert.strictEqual(summary.timestamp, at(3500))
      assert.strictEqual(summary.plan.targetId, "trivial:hello")
      assert.deepStrictEqual(summary.plan.items.map((item) => item.id), ["trivial:hello", "trivial:lint", "trivial:guard"])
      assert.deepStrictEqual(summary.build, {
        subtaskId: "trivial:hello",
        artifacts: [
          { path: `${root}/manifest.json`, description: "CLI run manifest" },
          { path: `${root}/runner.ndjson`, description: "Runner log (ndjson)" }
        ],
        mode: "mcp",
        runId: manifest.run_id,
        success: true,
        notes
      })
      assert.deepStrictEqual(summary.test, {
        subtaskId: "trivial:hello",
        success: true,
        reports: [
          { name: "stages", status: "passed", details: "3 stages: 3 succeeded, 0 skipped, 0 failed." },
          { name: "guardrails", status: "passed", details: "Guardrails: spec-guard succeeded (1 passed)." }
        ],
        runId: manifest.run_id
      })
      assert.deepStrictEqual(summary.review, {
        summary: `Diagnostics pipeline succeeded.\nManifest: ${root}/manifest.json\nRunner log: ${root}/runner.ndjson`,
        decision: { approved: true, feedback: notes }
      })
    }).pipe(Effect.provide(app([trivial]))))

  it.effect("records request fields verbatim: parent run and approval policy (MAN-1, ID-3)", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({
        pipelineId: "trivial",
        parentRunId: "outer run 1",
        approvalPolicy: "never"
      })
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.task_id, "0101", "ENV-3: the default task")
      assert.strictEqual(written.parent_run_id, "outer run 1")
      assert.strictEqual(written.approval_policy, "never")
    }).pipe(Effect.provide(app([trivial]))))
})

describe("RunEngine: guardrail status (MAN-5, RUN-3)", () => {
  it.effect("a run without spec-guard succeeds, its tests pass (D-18), and the manifest summary carries the recommendation", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "plain" })
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "succeeded")
      assert.strictEqual(written.summary, `Guardrails: spec-guard command not found.\n${guardMissing}`)
      assert.deepStrictEqual(written.guardrail_status, {
        present: false,
        recommendation: guardMissing,
        summary: "Guardrails: spec-guard command not found.",
        computed_at: at(0),
        counts: { total: 0, succeeded: 0, failed: 0, skipped: 0, other: 0 }
      })
      const summary = yield* jsonFile(RunSummary, layout.runSummary)
      // D-18: whether a guardrail ran is guardrail_status's to say; the tests pass because every stage did.
      assert.isTrue(summary.test.success)
      assert.deepStrictEqual(summary.test.reports, [{ name: "stages", status: "passed", details: "1 stage: 1 succeeded, 0 skipped, 0 failed." }])
      assert.isTrue(summary.review.decision.approved)
      assert.notInclude(summary.review.summary, "tests failed")
    }).pipe(Effect.provide(app([pipeline("plain", [commandStage("ok", "echo ok")])]))))

  it.effect("guardrailsRequired: false drops the recommendation", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "plain" })
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.guardrails_required, false)
      assert.strictEqual(written.summary, "Guardrails: spec-guard command not found.")
      assert.strictEqual(written.guardrail_status?.recommendation, null)
    }).pipe(Effect.provide(app([pipeline("plain", [commandStage("ok", "echo ok")], { guardrailsRequired: false })]))))

  it.effect("a failed spec-guard appends the failure recommendation even when another spec-guard passed", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "guards" })
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "failed")
      assert.deepStrictEqual(written.guardrail_status?.counts, { total: 2, succeeded: 1, failed: 1, skipped: 0, other: 0 })
      assert.strictEqual(written.guardrail_status?.summary, "Guardrails: spec-guard failed (1/2 failed).")
      assert.strictEqual(written.guardrail_status?.recommendation, guardFailed)
      // RUN-3 step 3: "append its recommendation (if any) to summary".
      assert.deepStrictEqual(written.summary?.split("\n"), [
        "Stage 'g2' failed with exit code 1.",
        "Guardrails: spec-guard failed (1/2 failed).",
        guardFailed
      ])
    }).pipe(Effect.provide(app([pipeline("guards", [
      commandStage("g1", "node scripts/spec-guard.mjs --dry-run"),
      commandStage("g2", "node scripts/spec-guard.mjs --strict")
    ])], { scripts: { ...scripts, "node scripts/spec-guard.mjs --strict": { exitCode: 1 } } }))))
})

describe("RunEngine: failures (RUN-4..6, RUN-10, LOG-2)", () => {
  it.effect("a failing stage stops the run; later entries stay pending", () =>
    Effect.gen(function*() {
      const { layout, manifest } = yield* startSettled({ pipelineId: "failing" })
      const root = manifest.artifact_root
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "failed")
      assert.strictEqual(written.status_detail, "stage:hard:failed")
      assert.strictEqual(written.completed_at, at(0))
      assert.deepStrictEqual(written.summary?.split("\n"), [
        "Stage 'Hard' failed with exit code 7.",
        "Guardrails: spec-guard command not found.",
        guardMissing
      ])
      const [ok, soft, hard, never] = written.commands
      assert.strictEqual(ok?.status, "succeeded")
      assert.strictEqual(soft?.status, "skipped")
      assert.deepStrictEqual(hard, {
        index: 3,
        id: "hard",
        title: "Hard",
        command: "echo boom >&2; exit 7",
        kind: "command",
        status: "failed",
        started_at: at(0),
        completed_at: at(0),
        exit_code: 7,
        summary: "Exited with code 7 — boom",
        log_path: `${root}/commands/03-hard.ndjson`,
        error_file: `${root}/errors/03-hard.json`,
        sub_run_id: null
      })
      assert.deepStrictEqual(never, {
        index: 4,
        id: "never",
        title: "Never",
        command: "echo never",
        kind: "command",
        status: "pending",
        started_at: null,
        completed_at: null,
        exit_code: null,
        summary: null,
        log_path: null,
        error_file: null,
        sub_run_id: null
      })
      assert.deepStrictEqual(yield* invokedCommands, ["echo ok", "echo soft >&2; exit 3", "echo boom >&2; exit 7"])

      const error = yield* jsonFile(ErrorFile, layout.errorFile(3, "hard"))
      assert.deepStrictEqual(error, {
        run_id: manifest.run_id,
        task_id: "0101",
        command_index: 3,
        command_id: "hard",
        command: "echo boom >&2; exit 7",
        reason: "command-failed",
        details: { exit_code: 7, sandbox_state: "sandboxed", stderr: "boom" },
        created_at: at(0)
      })

      const summary = yield* jsonFile(RunSummary, layout.runSummary)
      assert.strictEqual(summary.build.success, false)
      assert.deepStrictEqual(summary.test.reports, [
        { name: "tests", status: "failed", details: "Skipped because the build stage failed." }
      ])
      assert.deepStrictEqual(summary.review, {
        summary: "Review skipped: build stage failed.",
        decision: { approved: false, feedback: "Build stage failed; review skipped." }
      })
    }).pipe(Effect.provide(app([failing]))))

  it.effect("allowFailure records the stage skipped and the run goes on", () =>
    Effect.gen(function*() {
      const { layout, manifest } = yield* startSettled({ pipelineId: "soft" })
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "succeeded")
      assert.strictEqual(written.status_detail, null)
      const [soft, after] = written.commands
      assert.strictEqual(soft?.status, "skipped")
      assert.strictEqual(soft?.exit_code, 3)
      assert.strictEqual(soft?.summary, "Exited with code 3 — soft")
      assert.strictEqual(after?.status, "succeeded")
      assert.notInclude(written.summary ?? "", "failed with exit code")
      assert.deepStrictEqual(yield* invokedCommands, ["echo soft >&2; exit 3", "echo ok"])
      // SPEC RUN-4 leaves this open (seed: no file; 0.2.1: `command-allow-failure`); we follow 0.2.1.
      assert.strictEqual(soft?.error_file, `${manifest.artifact_root}/errors/01-soft.json`)
      const error = yield* jsonFile(ErrorFile, layout.errorFile(1, "soft"))
      assert.strictEqual(error.reason, "command-allow-failure")
      assert.deepStrictEqual(error.details, { exit_code: 3, sandbox_state: "sandboxed", stderr: "soft" })
    }).pipe(Effect.provide(app([pipeline("soft", [
      commandStage("soft", "echo soft >&2; exit 3", { allowFailure: true }),
      commandStage("after", "echo ok")
    ])]))))

  it.effect("a missing command exits 127 and fails the run", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "missing" })
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "failed")
      assert.strictEqual(written.status_detail, "stage:tool:failed")
      assert.strictEqual(written.commands[0]?.status, "failed")
      assert.strictEqual(written.commands[0]?.exit_code, 127)
      assert.strictEqual(written.commands[0]?.summary, "Exited with code 127 — sh: 1: no-such-tool --check: not found")
      assert.strictEqual(written.commands[1]?.status, "pending")
      assert.include(written.summary ?? "", "Stage 'Tool' failed with exit code 127.")
    }).pipe(Effect.provide(app([pipeline("missing", [
      commandStage("tool", "no-such-tool --check", { title: "Tool" }),
      commandStage("after", "echo ok")
    ])]))))

  it.effect("a process that cannot start is an execution error (RUN-5)", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "spawn" })
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "failed")
      assert.strictEqual(written.status_detail, "stage:boot:error")
      const [boot, after] = written.commands
      assert.strictEqual(boot?.status, "failed")
      assert.strictEqual(boot?.completed_at, at(0))
      assert.strictEqual(boot?.summary, "Execution error: Could not start \"./boot.sh\" in /repo: permission denied")
      assert.isTrue(boot?.summary?.startsWith("Execution error:"))
      assert.strictEqual(after?.status, "pending")
      const lines = written.summary?.split("\n") ?? []
      assert.strictEqual(lines.length, 3, "the stage line, then the guardrail line and recommendation")
      assert.include(lines[0] ?? "", "Boot")
      assert.deepStrictEqual(yield* invokedCommands, ["./boot.sh"])
    }).pipe(Effect.provide(app([pipeline("spawn", [
      commandStage("boot", "./boot.sh", { title: "Boot" }),
      commandStage("after", "echo ok")
    ])], { scripts: { ...scripts, "./boot.sh": { spawnError: "permission denied" } } }))))

  it.effect("a process killed by a signal records exit code 128", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "killed" })
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "failed")
      assert.strictEqual(written.status_detail, "stage:victim:failed")
      assert.strictEqual(written.commands[0]?.status, "failed")
      assert.strictEqual(written.commands[0]?.exit_code, 128)
      assert.strictEqual(written.commands[0]?.summary, "Terminated with signal SIGKILL — out of memory")
      assert.include(written.summary ?? "", "Stage 'victim' failed with exit code 128.")
      const error = yield* jsonFile(ErrorFile, layout.errorFile(1, "victim"))
      assert.deepStrictEqual(error.details, {
        exit_code: 128,
        sandbox_state: "sandboxed",
        stderr: "out of memory",
        signal: "SIGKILL"
      })
    }).pipe(Effect.provide(app([pipeline("killed", [commandStage("victim", "./hog")])], {
      scripts: { "./hog": { output: [{ stream: "stderr", data: "out of memory\n" }], signal: "SIGKILL" } }
    }))))

  it.effect("summaryHint replaces the summary, even on failure (RUN-6)", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "hinted" })
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.commands[0]?.summary, "Hard things happened")
      assert.strictEqual(written.commands[0]?.status, "failed")
    }).pipe(Effect.provide(app([pipeline("hinted", [
      commandStage("hard", "echo boom >&2; exit 7", { summaryHint: "Hard things happened" })
    ])]))))

  it.effect("bounds summaries and error details: 240-char clip, 8192-char cut, >64 KiB flags (RUN-6, MAN-6, LOG-2)", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "loud" })
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.commands[0]?.summary, `Exited with code 1 — ${"e".repeat(240)}…`)
      const error = yield* jsonFile(ErrorFile, layout.errorFile(1, "loud"))
      assert.deepStrictEqual(error.details, {
        exit_code: 1,
        sandbox_state: "sandboxed",
        stderr: `${"e".repeat(8192)}…`,
        stderr_truncated: true,
        stdout_truncated: true
      })
      // D-12: the manifest never grows with output.
      assert.isBelow((yield* fileText(layout.manifest)).length, 8 * 1024)
    }).pipe(Effect.provide(app([pipeline("loud", [commandStage("loud", "./loud")])], {
      scripts: {
        "./loud": {
          output: [
            { stream: "stdout", data: "o".repeat(40 * 1024) },
            { stream: "stdout", data: "o".repeat(40 * 1024) },
            { stream: "stderr", data: "e".repeat(9000) }
          ],
          exitCode: 1
        }
      }
    }))))
})

describe("RunEngine: nested pipelines (RUN-7, MAN-4)", () => {
  const parent = pipeline("parent", [
    commandStage("prep", "echo prep"),
    nestedStage("child", "trivial", { title: "Child" }),
    nestedStage("flaky", "failing", { title: "Flaky", optional: true })
  ])

  it.effect("runs each nested pipeline as a child run; an optional failing one is skipped", () =>
    Effect.gen(function*() {
      const { layout, manifest } = yield* startSettled({ pipelineId: "parent" })
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "succeeded")
      assert.strictEqual(written.status_detail, null)

      assert.strictEqual(written.child_runs.length, 2)
      const [trivialRun, failingRun] = written.child_runs
      assert.strictEqual(trivialRun?.pipeline_id, "trivial")
      assert.strictEqual(trivialRun?.status, "succeeded")
      assert.strictEqual(failingRun?.pipeline_id, "failing")
      assert.strictEqual(failingRun?.status, "failed")
      assert.notStrictEqual(trivialRun?.run_id, manifest.run_id)
      assert.notStrictEqual(trivialRun?.run_id, failingRun?.run_id)
      const childRoot = `.runs/0101/cli/${trivialRun?.run_id}`
      assert.strictEqual(trivialRun?.manifest, `${childRoot}/manifest.json`)

      const [prep, child, flaky] = written.commands
      assert.strictEqual(prep?.status, "succeeded")
      assert.deepStrictEqual(child, {
        index: 2,
        id: "child",
        title: "Child",
        command: null,
        kind: "subpipeline",
        status: "succeeded",
        started_at: at(0),
        completed_at: at(3500),
        exit_code: null,
        summary: `Diagnostics pipeline succeeded.\nManifest: ${childRoot}/manifest.json\nRunner log: ${childRoot}/runner.ndjson`,
        log_path: null,
        error_file: null,
        sub_run_id: trivialRun?.run_id ?? "?"
      })
      assert.strictEqual(flaky?.status, "skipped")
      assert.strictEqual(flaky?.kind, "subpipeline")
      assert.strictEqual(flaky?.sub_run_id, failingRun?.run_id)
      assert.strictEqual(flaky?.summary, "Review skipped: build stage failed.")

      // Each child is a full run of its own, linked to the parent.
      const childManifest = yield* manifestFile(`/repo/${trivialRun?.manifest}`)
      assert.strictEqual(childManifest.parent_run_id, manifest.run_id)
      assert.strictEqual(childManifest.task_id, "0101")
      assert.strictEqual(childManifest.pipeline_id, "trivial")
      assert.strictEqual(childManifest.status, "succeeded")
      const childSummary = yield* jsonFile(RunSummary, `/repo/${childRoot}/run-summary.json`)
      assert.strictEqual(child?.summary, childSummary.review.summary)
      const failingManifest = yield* manifestFile(`/repo/${failingRun?.manifest}`)
      assert.strictEqual(failingManifest.parent_run_id, manifest.run_id)
      assert.strictEqual(failingManifest.status_detail, "stage:hard:failed")

      // PER-1 for child runs too (issue 16 item 2): each is in runs.json and has its summary manifest.
      const snapshot = yield* jsonFile(TaskStateSnapshot, "/repo/out/0101/runs.json")
      assert.sameMembers(snapshot.runs.map((r) => r.runId), [manifest.run_id, trivialRun?.run_id ?? "?", failingRun?.run_id ?? "?"])
      for (const childRun of [trivialRun, failingRun]) {
        // D-10: the summary manifest is the child's run summary, as for a top-level run.
        const summaryManifest = yield* jsonFile(RunSummary, `/repo/.runs/0101/${childRun?.run_id}/manifest.json`)
        assert.strictEqual(summaryManifest.runId, childRun?.run_id)
        assert.deepStrictEqual(summaryManifest, yield* jsonFile(RunSummary, `/repo/.runs/0101/cli/${childRun?.run_id}/run-summary.json`))
      }

      // LOG-1: nested stages log nothing in the parent.
      const runnerLog = yield* logFile(layout.runnerLog)
      assert.deepStrictEqual([...new Set(runnerLog.map((e) => e.index))], [1])
      const parentFiles = (yield* listFiles).filter((p) => p.startsWith(`${layout.runDir}/commands/`))
      assert.deepStrictEqual(parentFiles, [`${layout.runDir}/commands/01-prep.ndjson`])
    }).pipe(Effect.provide(app([parent, trivial, failing]))))

  it.effect("a non-optional failing nested pipeline fails the parent", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "strict" })
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "failed")
      assert.strictEqual(written.status_detail, "subpipeline:failing:failed")
      assert.strictEqual(written.summary?.split("\n")[0], "Sub-pipeline 'failing' failed.")
      const [sub, after] = written.commands
      assert.strictEqual(sub?.status, "failed")
      assert.strictEqual(sub?.summary, "Review skipped: build stage failed.")
      assert.strictEqual(after?.status, "pending")
      assert.deepStrictEqual(written.child_runs.map((c) => [c.pipeline_id, c.status]), [["failing", "failed"]])
      assert.notInclude(yield* invokedCommands, "echo prep")
    }).pipe(Effect.provide(app([
      pipeline("strict", [nestedStage("sub", "failing"), commandStage("after", "echo prep")]),
      failing
    ]))))
})

describe("RunEngine: --target (D-4, CLI-10)", () => {
  it.effect("runs only the targeted stage; the others are skipped as not targeted", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "trivial", target: "lint" })
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "succeeded")
      assert.strictEqual(written.plan_target_id, "trivial:lint")
      assert.deepStrictEqual(
        written.commands.map((c) => [c.id, c.status, c.summary]),
        [["hello", "skipped", "not targeted"], ["lint", "succeeded", "warn"], ["guard", "skipped", "not targeted"]]
      )
      assert.strictEqual(written.commands[0]?.started_at, null)
      assert.deepStrictEqual(yield* invokedCommands, ["npm run lint"])
    }).pipe(Effect.provide(app([trivial]))))

  it.effect("CODEX_ORCHESTRATOR_TARGET_STAGE applies when no flag is given, and the flag wins over it", () =>
    Effect.gen(function*() {
      const fromEnv = yield* startSettled({ pipelineId: "trivial" })
      assert.strictEqual(fromEnv.manifest.plan_target_id, "trivial:guard")
      const fromFlag = yield* startSettled({ pipelineId: "trivial", target: "hello" })
      assert.strictEqual(fromFlag.manifest.plan_target_id, "trivial:hello")
      assert.deepStrictEqual(yield* invokedCommands, ["node scripts/spec-guard.mjs --dry-run", "echo hello world"])
    }).pipe(Effect.provide(app([trivial], { settings: { envTargetStage: "guard" } }))))
  it.effect("the manifest's plan_target_id follows the target of a replaced planner (PLN-4)", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "trivial" })
      assert.strictEqual((yield* manifestFile(layout.manifest)).plan_target_id, "custom:choice")
    }).pipe(Effect.provide(app([trivial], {
      agents: Layer.succeed(Planner, Planner.of({ plan: () => Effect.succeed({ items: [], targetId: "custom:choice" }) }))
    }))))
})

describe("RunEngine: bad input writes nothing (D-1)", () => {
  it.effect("unknown target stage", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip((yield* RunEngine).start({ pipelineId: "trivial", target: "deploy" }))
      assert(error._tag === "UnknownTarget")
      assert.strictEqual(error.target, "deploy")
      assert.strictEqual(error.pipelineId, "trivial")
      assert.deepStrictEqual(error.valid, ["hello", "lint", "guard"])
      yield* assertNothingHappened
    }).pipe(Effect.provide(app([trivial]))))

  it.effect("unknown pipeline", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip((yield* RunEngine).start({ pipelineId: "nope" }))
      assert(error._tag === "PipelineNotFound")
      assert.strictEqual(error.pipelineId, "nope")
      // The test kit has the package's built-in pipelines, as production does (issue 20).
      assert.deepStrictEqual(error.available, [
        "trivial",
        "design-reference",
        "diagnostics-with-eval",
        "diagnostics",
        "docs-review",
        "hi-fi-design-toolkit",
        "implementation-gate-devtools",
        "implementation-gate",
        "tfgrpo-learning"
      ])
      assert.include(error.message, "Pipeline 'nope' not found")
      yield* assertNothingHappened
    }).pipe(Effect.provide(app([trivial]))))

  it.effect("a nested stage naming an unknown pipeline", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip((yield* RunEngine).start({ pipelineId: "outer" }))
      assert(error._tag === "PipelineNotFound")
      assert.strictEqual(error.pipelineId, "ghost")
      assert.strictEqual(error.referencedBy, "stage 'haunt' of pipeline 'outer'")
      yield* assertNothingHappened
    }).pipe(Effect.provide(app([
      pipeline("outer", [commandStage("prep", "echo prep"), nestedStage("haunt", "ghost")])
    ]))))

  it.effect("a pipeline cycle", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip((yield* RunEngine).start({ pipelineId: "a" }))
      assert(error._tag === "PipelineCycle")
      assert.deepStrictEqual(error.chain, ["a", "b", "a"])
      yield* assertNothingHappened
    }).pipe(Effect.provide(app([
      pipeline("a", [commandStage("prep", "echo prep"), nestedStage("to-b", "b")]),
      pipeline("b", [nestedStage("to-a", "a")])
    ]))))

  it.effect("an invalid --task", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip((yield* RunEngine).start({ pipelineId: "trivial", taskId: "a:b" }))
      assert(error._tag === "InvalidId")
      assert.strictEqual(error.label, "task")
      assert.strictEqual(error.value, "a:b")
      assert.strictEqual(error.reason, "character \":\" is not allowed.")
      assert.strictEqual(error.source, undefined)
      assert.isTrue(error.message.startsWith("Invalid task ID \"a:b\": character \":\" is not allowed."))
      yield* assertNothingHappened
    }).pipe(Effect.provide(app([trivial]))))

  it.effect("an invalid MCP_RUNNER_TASK_ID fails every start, even with a valid --task (ENV-3)", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      for (const taskId of [undefined, "fine"]) {
        const error = yield* Effect.flip(engine.start({ pipelineId: "trivial", taskId }))
        assert(error._tag === "InvalidId")
        assert.strictEqual(error.value, "../x")
        assert.strictEqual(error.reason, "leading dots are not allowed.")
        assert.strictEqual(error.source, "MCP_RUNNER_TASK_ID")
        assert.isTrue(
          error.message.startsWith("Invalid MCP_RUNNER_TASK_ID \"../x\": Invalid task ID \"../x\": leading dots are not allowed.")
        )
      }
      yield* assertNothingHappened
    }).pipe(Effect.provide(app([trivial], { settings: { envTaskId: "../x" } }))))

  it.effect("plan resolves the same input and writes nothing (CLI-5)", () =>
    Effect.gen(function*() {
      const view = yield* (yield* RunEngine).plan({ pipelineId: "trivial", taskId: "demo-task", target: "LINT" })
      assert.strictEqual(view.taskId, "demo-task")
      assert.strictEqual(view.pipeline.id, "trivial")
      assert.strictEqual(view.source, "user")
      assert.strictEqual(view.plan.targetId, "trivial:lint")
      yield* assertNothingHappened
    }).pipe(Effect.provide(app([trivial]))))
})

describe("RunEngine: stage processes (ENV-5, CFG-3)", () => {
  it.effect("each process gets the orchestrator variables; the stage's env wins", () =>
    Effect.gen(function*() {
      const { manifest } = yield* startSettled({ pipelineId: "envs", taskId: "demo-task" })
      const runDir = `/repo/.runs/demo-task/cli/${manifest.run_id}`
      const expected = {
        CODEX_ORCHESTRATOR_TASK_ID: "demo-task",
        CODEX_ORCHESTRATOR_RUN_ID: manifest.run_id,
        CODEX_ORCHESTRATOR_PIPELINE_ID: "envs",
        CODEX_ORCHESTRATOR_MANIFEST_PATH: `${runDir}/manifest.json`,
        CODEX_ORCHESTRATOR_RUN_DIR: runDir,
        CODEX_ORCHESTRATOR_RUNS_DIR: "/repo/.runs",
        CODEX_ORCHESTRATOR_OUT_DIR: "/repo/out",
        CODEX_ORCHESTRATOR_REPO_ROOT: "/repo",
        // D-20: a CLI call inside a stage lands in the run's task.
        MCP_RUNNER_TASK_ID: "demo-task"
      }
      const [first, second] = yield* Effect.flatMap(ProcessInvocations, (p) => p.all)
      assert.deepStrictEqual(first, { command: "echo prep", cwd: "/repo", env: expected })
      assert.deepStrictEqual(second, {
        command: "echo ok",
        cwd: "/elsewhere",
        env: { ...expected, CODEX_ORCHESTRATOR_TASK_ID: "from-stage", DESIGN_PIPELINE: "1" }
      })
    }).pipe(Effect.provide(app([pipeline("envs", [
      commandStage("plain", "echo prep"),
      commandStage("custom", "echo ok", {
        cwd: "/elsewhere",
        env: { CODEX_ORCHESTRATOR_TASK_ID: "from-stage", DESIGN_PIPELINE: "1" }
      })
    ])]))))
})

describe("RunEngine: logs (LOG-1, D-11)", () => {
  const chatty = pipeline("chatty", [
    commandStage("emit", "./emit.sh"),
    commandStage("two", "echo ok")
  ])
  const unicode = "héllo ✓\n"
  const emitScripts = {
    ...scripts,
    "./emit.sh": {
      output: [
        { stream: "stdout", data: "a\n" },
        { stream: "stderr", data: "b\n", after: "1 second" },
        { stream: "stdout", data: unicode, after: "1 second" }
      ],
      duration: "500 millis"
    }
  } satisfies Record<string, ScriptedProcess>

  it.effect("runner.ndjson holds lifecycle events only, in order, for every stage", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "chatty" })
      const events = yield* logFile(layout.runnerLog)
      assert.deepStrictEqual(types(events), [
        "command:start",
        "exec:begin",
        "exec:end",
        "command:end",
        "command:start",
        "exec:begin",
        "exec:end",
        "command:end"
      ])
      assert.deepStrictEqual(events.map((e) => e.index), [1, 1, 1, 1, 2, 2, 2, 2])
      assert.deepStrictEqual(events.map((e) => e.timestamp), [at(0), at(0), at(2500), at(2500), at(2500), at(2500), at(2500), at(2500)])
      const text = yield* fileText(layout.runnerLog)
      assert.notInclude(text, "héllo", "no output data in runner.ndjson")
    }).pipe(Effect.provide(app([chatty], { scripts: emitScripts }))))

  it.effect("the stage log holds lifecycle and every chunk, with one sequence across both streams", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "chatty" })
      const events = yield* logFile(layout.stageLog(1, "emit"))
      assert.deepStrictEqual(types(events), [
        "command:start",
        "exec:begin",
        "exec:chunk",
        "exec:chunk",
        "exec:chunk",
        "exec:end",
        "command:end"
      ])
      assert.isTrue(events.every((e) => e.index === 1))
      const begin = events.find((e): e is typeof ExecBegin.Type => e.type === "exec:begin")
      assert.strictEqual(begin?.command, "./emit.sh")
      assert.deepStrictEqual(begin?.args, [])
      assert.strictEqual(begin?.cwd, "/repo")
      assert.strictEqual(begin?.attempt, 1)
      const chunks = events.filter((e): e is typeof ExecChunk.Type => e.type === "exec:chunk")
      assert.deepStrictEqual(
        chunks.map((c) => [c.sequence, c.stream, c.data, c.bytes, c.timestamp]),
        [
          [1, "stdout", "a\n", 2, at(0)],
          [2, "stderr", "b\n", 2, at(1000)],
          [3, "stdout", unicode, new TextEncoder().encode(unicode).length, at(2000)]
        ]
      )
      const end = events.find((e): e is typeof ExecEnd.Type => e.type === "exec:end")
      assert.deepStrictEqual(
        [end?.exit_code, end?.signal, end?.duration_ms, end?.status],
        [0, null, 2500, "succeeded"]
      )
      assert.isTrue(chunks.every((c) => c.correlation_id === begin?.correlation_id))
      assert.strictEqual(end?.correlation_id, begin?.correlation_id)
      const last = events[events.length - 1]
      assert(last?.type === "command:end")
      assert.deepStrictEqual([last.exit_code, last.signal, last.duration_ms], [0, null, 2500])

      // The next stage starts its own sequence and correlation id.
      const second = yield* logFile(layout.stageLog(2, "two"))
      const secondChunks = second.filter((e): e is typeof ExecChunk.Type => e.type === "exec:chunk")
      assert.deepStrictEqual(secondChunks.map((c) => [c.sequence, c.data, c.index]), [[1, "ok\n", 2]])
      assert.notStrictEqual(secondChunks[0]?.correlation_id, begin?.correlation_id)
    }).pipe(Effect.provide(app([chatty], { scripts: emitScripts }))))
})

describe("RunEngine: command streams (LOG-1, CODEX_ORCHESTRATOR_EMIT_COMMAND_STREAMS)", () => {
  const chatty = pipeline("chatty", [commandStage("emit", "./emit.sh")])
  const emitScripts = {
    ...scripts,
    "./emit.sh": { output: [{ stream: "stdout", data: "a\n" }, { stream: "stderr", data: "b\n", after: "1 second" }] }
  } satisfies Record<string, ScriptedProcess>

  it.effect("on: each chunk is followed by a command:stdout or command:stderr line with its text, in the stage log only", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "chatty" })
      const events = yield* logFile(layout.stageLog(1, "emit"))
      assert.deepStrictEqual(types(events), [
        "command:start",
        "exec:begin",
        "exec:chunk",
        "command:stdout",
        "exec:chunk",
        "command:stderr",
        "exec:end",
        "command:end"
      ])
      const streams = events.filter((e) => e.type === "command:stdout" || e.type === "command:stderr")
      assert.deepStrictEqual(streams.map((e) => "data" in e ? [e.data, e.index, e.timestamp] : []), [["a\n", 1, at(0)], ["b\n", 1, at(1000)]])
      assert.notInclude(types(yield* logFile(layout.runnerLog)), "command:stdout")
    }).pipe(Effect.provide(app([chatty], { scripts: emitScripts, settings: { emitCommandStreams: true } }))))

  it.effect("off (the default): no command stream lines", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "chatty" })
      const events = yield* logFile(layout.stageLog(1, "emit"))
      assert.isFalse(events.some((e) => e.type === "command:stdout" || e.type === "command:stderr"))
    }).pipe(Effect.provide(app([chatty], { scripts: emitScripts }))))
})

describe("RunEngine: time (D-8 timeouts, RUN-8 heartbeats)", () => {
  it.effect("a stage that overruns timeoutMs is killed and fails the run", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const fiber = yield* Effect.fork(engine.start({ pipelineId: "slow" }))
      yield* TestClock.adjust("1 second")
      assert.isTrue(Option.isSome(yield* Fiber.poll(fiber)), "the run ends when the timeout fires, not after 10 s")
      const { layout } = yield* Fiber.join(fiber)
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "failed")
      assert.strictEqual(written.status_detail, "stage:sleepy:timeout")
      assert.strictEqual(written.completed_at, at(1000))
      const [sleepy, after] = written.commands
      assert.strictEqual(sleepy?.status, "failed")
      assert.strictEqual(sleepy?.completed_at, at(1000))
      assert.strictEqual(after?.status, "pending")
      assert.deepStrictEqual(yield* invokedCommands, ["sleep 10"])
    }).pipe(Effect.provide(app([pipeline("slow", [
      commandStage("sleepy", "sleep 10", { timeoutMs: 1000 }),
      commandStage("after", "echo ok")
    ])], { scripts: { "sleep 10": { duration: "10 seconds" } } }))))

  it.effect("heartbeats rewrite .heartbeat and advance heartbeat_at while a stage runs", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const fiber = yield* Effect.fork(engine.start({ pipelineId: "long" }))
      yield* TestClock.adjust(0)
      const path = yield* onlyManifestPath("0101")
      const heartbeatFile = path.replace(/manifest\.json$/, ".heartbeat")

      const atStart = yield* manifestFile(path)
      assert.strictEqual(atStart.status, "in_progress")
      assert.strictEqual(atStart.commands[0]?.status, "running")
      assert.strictEqual(atStart.heartbeat_at, at(0))
      assert.strictEqual(yield* fileText(heartbeatFile), `${at(0)}\n`)

      yield* TestClock.adjust("6 seconds")
      assert.strictEqual(yield* fileText(heartbeatFile), `${at(5000)}\n`)
      const first = yield* manifestFile(path)
      assert.strictEqual(first.heartbeat_at, at(5000))
      assert.strictEqual(first.status, "in_progress")

      yield* TestClock.adjust("5 seconds")
      assert.strictEqual(yield* fileText(heartbeatFile), `${at(10000)}\n`)
      assert.strictEqual((yield* manifestFile(path)).heartbeat_at, at(10000))

      yield* TestClock.adjust("1 second")
      assert.isTrue(Option.isSome(yield* Fiber.poll(fiber)))
      const { manifest } = yield* Fiber.join(fiber)
      assert.strictEqual(manifest.status, "succeeded")
      assert.strictEqual(manifest.heartbeat_at, at(12000))
      assert.strictEqual(yield* fileText(heartbeatFile), `${at(12000)}\n`)

      // The timer stops with the run.
      yield* TestClock.adjust("30 seconds")
      assert.strictEqual(yield* fileText(heartbeatFile), `${at(12000)}\n`)
    }).pipe(Effect.provide(app([pipeline("long", [commandStage("work", "./work")])], {
      scripts: { "./work": { duration: "12 seconds" } }
    }))))

  it.effect("a heartbeat reaches the manifest at every interval, even a moment after another write (RUN-8, D-9)", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const fiber = yield* Effect.fork(engine.start({ pipelineId: "two-step" }))
      // The second stage starts at 1 s (a manifest write); the heartbeat at 5 s must not wait for 10 s.
      yield* TestClock.adjust("6 seconds")
      const path = yield* onlyManifestPath("0101")
      assert.strictEqual((yield* manifestFile(path)).heartbeat_at, at(5000))
      yield* TestClock.adjust("5 seconds")
      assert.strictEqual((yield* manifestFile(path)).heartbeat_at, at(10000))
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.join(fiber)
    }).pipe(Effect.provide(app([pipeline("two-step", [commandStage("quick", "./quick"), commandStage("work", "./work")])], {
      scripts: { "./quick": { duration: "1 second" }, "./work": { duration: "12 seconds" } }
    }))))

  it.effect("heartbeats follow settings.heartbeatInterval", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const fiber = yield* Effect.fork(engine.start({ pipelineId: "long" }))
      yield* TestClock.adjust("3 seconds")
      const path = yield* onlyManifestPath("0101")
      const during = yield* manifestFile(path)
      assert.strictEqual(during.heartbeat_interval_seconds, 2)
      assert.strictEqual(during.heartbeat_at, at(2000))
      assert.strictEqual(yield* fileText(path.replace(/manifest\.json$/, ".heartbeat")), `${at(2000)}\n`)
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.join(fiber)
    }).pipe(Effect.provide(app([pipeline("long", [commandStage("work", "./work")])], {
      scripts: { "./work": { duration: "12 seconds" } },
      settings: { heartbeatInterval: Duration.seconds(2) }
    }))))

  it.effect("an interruption before the first stage (here, while planning) still ends the run cancelled, not queued (D-8)", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const fiber = yield* Effect.fork(engine.start({ pipelineId: "long" }))
      yield* TestClock.adjust("2 seconds")
      const path = yield* onlyManifestPath("0101")
      assert.strictEqual((yield* manifestFile(path)).status, "queued")
      const exit = yield* Fiber.interrupt(fiber)
      assert.isTrue(Exit.isInterrupted(exit))
      const written = yield* manifestFile(path)
      assert.strictEqual(written.status, "cancelled")
      assert.strictEqual(written.status_detail, "cancelled")
      assert.strictEqual(written.completed_at, at(2000))
      assert.deepStrictEqual(written.commands.map((c) => c.status), ["pending", "pending", "pending"])
      assert.deepStrictEqual(yield* invokedCommands, [])
    }).pipe(Effect.provide(app([pipeline("long", [
      commandStage("prep", "echo prep"),
      commandStage("work", "./work"),
      commandStage("after", "echo ok")
    ])], {
      agents: Layer.succeed(Planner, Planner.of({ plan: () => Effect.as(Effect.sleep("5 seconds"), { items: [], targetId: null }) }))
    }))))

  it.effect("interrupting a run marks it and the running stage cancelled", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const fiber = yield* Effect.fork(engine.start({ pipelineId: "long" }))
      yield* TestClock.adjust("3 seconds")
      const exit = yield* Fiber.interrupt(fiber)
      assert.isTrue(Exit.isInterrupted(exit))

      const path = yield* onlyManifestPath("0101")
      const written = yield* manifestFile(path)
      assert.strictEqual(written.status, "cancelled")
      assert.strictEqual(written.status_detail, "stage:work:cancelled")
      assert.strictEqual(written.completed_at, at(3000))
      assert.deepStrictEqual(
        written.commands.map((c) => [c.id, c.status, c.completed_at]),
        [["prep", "succeeded", at(0)], ["work", "cancelled", at(3000)], ["after", "pending", null]]
      )
      assert.deepStrictEqual(yield* invokedCommands, ["echo prep", "./work"])

      // Nothing runs after the interruption: no further stage, no heartbeat.
      const heartbeat = yield* fileText(path.replace(/manifest\.json$/, ".heartbeat"))
      yield* TestClock.adjust("1 minute")
      assert.strictEqual(yield* fileText(path.replace(/manifest\.json$/, ".heartbeat")), heartbeat)
      assert.deepStrictEqual(yield* invokedCommands, ["echo prep", "./work"])
      assert.strictEqual((yield* manifestFile(path)).status, "cancelled")
    }).pipe(Effect.provide(app([pipeline("long", [
      commandStage("prep", "echo prep"),
      commandStage("work", "./work"),
      commandStage("after", "echo ok")
    ])], { scripts: { ...scripts, "./work": { duration: "1 minute" } } }))))
})

describe("RunEngine: event subscribers cannot hold or break a run (EVT-1)", () => {
  /** Collects the messages of warnings and worse while `effect` runs. */
  const withWarnings = <A, E, R>(effect: Effect.Effect<A, E, R>) => {
    const warnings: Array<string> = []
    const logger = Logger.make(({ logLevel, message }) => {
      if (LogLevel.greaterThanEqual(logLevel, LogLevel.Warning)) {
        warnings.push(Array.isArray(message) ? message.map(String).join(" ") : String(message))
      }
    })
    return Effect.map(effect.pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger))), (a) => [a, warnings] as const)
  }

  it.effect("a run:completed subscriber that never finishes is given up on after subscriberGrace, with a warning", () =>
    Effect.gen(function*() {
      const bus = yield* EventBus
      const [outcome, warnings] = yield* withWarnings(Effect.scoped(Effect.gen(function*() {
        yield* bus.on("run:completed", () => Effect.never)
        const engine = yield* RunEngine
        const fiber = yield* Effect.fork(engine.start({ pipelineId: "trivial", taskId: "demo" }))
        // The stages take 3.5 s; the grace is 10 s.
        yield* TestClock.adjust("13 seconds")
        assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "still within the grace")
        yield* TestClock.adjust("1 second")
        assert.isTrue(Option.isSome(yield* Fiber.poll(fiber)), "the run returned once the grace was over")
        return yield* Fiber.join(fiber)
      })))
      assert.strictEqual(outcome.manifest.status, "succeeded")
      assert.strictEqual((yield* manifestFile(outcome.layout.manifest)).status, "succeeded")
      assert.isTrue(
        warnings.some((w) => w.includes("Stopped waiting after 10s") && w.includes("run:completed")),
        warnings.join("\n")
      )
    }).pipe(Effect.provide(app([trivial], { settings: { subscriberGrace: Duration.seconds(10) } }))))

  it.effect("a failing subscriber is logged and the run succeeds without waiting for the grace", () =>
    Effect.gen(function*() {
      const bus = yield* EventBus
      const [outcome, warnings] = yield* withWarnings(Effect.scoped(Effect.gen(function*() {
        yield* bus.on("run:completed", () => Effect.fail("subscriber broke"))
        yield* bus.on("stage:completed", () => Effect.die("subscriber died"))
        return yield* startSettled({ pipelineId: "trivial", taskId: "demo" }, "3500 millis")
      })))
      assert.strictEqual(outcome.manifest.status, "succeeded")
      assert.isTrue(warnings.some((w) => w.includes("A run:completed subscriber failed")), warnings.join("\n"))
      assert.isTrue(warnings.some((w) => w.includes("A stage:completed subscriber failed")), warnings.join("\n"))
      assert.isFalse(warnings.some((w) => w.includes("Stopped waiting")), warnings.join("\n"))
    }).pipe(Effect.provide(app([trivial]))))
})
