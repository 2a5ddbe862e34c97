/**
 * The learning pipeline on the deterministic kit (SPEC LRN-2..6): LearningMemory over scripted git
 * and scenario processes, in-memory files and TestClock. Retries are observed to the millisecond.
 */
import { Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { type Duration, Effect, Fiber, Layer, Option, TestClock, TestServices } from "effect"
import type { LearningSection } from "../src/domain/LearningRecords.js"
import { QueuePayload, ScenarioFile } from "../src/domain/LearningRecords.js"
import type { CommandEntry } from "../src/domain/Manifest.js"
import { makeRunLayout } from "../src/domain/RunLayout.js"
import { FilesMemory, InMemoryFiles } from "../src/layers/Files.js"
import { sha256Hex } from "../src/layers/internal/sha256.js"
import { LearningMemory, type LearningMemoryOptions, memorySnapshotId } from "../src/layers/Learning.js"
import { OrchestratorConfigTest } from "../src/layers/OrchestratorConfig.js"
import { ProcessInvocations, ProcessRunnerMemory, type ScriptedProcess } from "../src/layers/ProcessRunner.js"
import { Learning } from "../src/services/Learning.js"
import { OrchestratorConfig } from "../src/services/OrchestratorConfig.js"
import { fileText, jsonFile, listFiles } from "./support/files.js"
import { commandEntry, finishedManifest } from "./support/learning.js"

// ---------------------------------------------------------------------------------------------
// Fixtures

const commit = "0123456789abcdef0123456789abcdef01234567"
const tag = `learning-snapshot-${memorySnapshotId}`
const learningDir = "/repo/.runs/task/cli/run-1/learning"
const t0 = "1970-01-01T00:00:00.000Z"

type Scripts = Readonly<Record<string, ScriptedProcess | ReadonlyArray<ScriptedProcess>>>

const out = (data: string): ScriptedProcess => ({ output: [{ stream: "stdout", data }] })
const fails = (code: number, stderr: string): ScriptedProcess => ({ output: [{ stream: "stderr", data: stderr }], exitCode: code })

/** A clean repository with two files, plus the orchestrator's own folders. */
const cleanRepo: Scripts = {
  "git rev-parse HEAD": out(`${commit}\n`),
  "git ls-files -z --cached --others --exclude-standard": out(
    "README.md\0.runs/task/cli/run-1/manifest.json\0src/a.ts\0out/task/state.json\0gone.ts\0"
  ),
  "git ls-files -z --deleted": out("gone.ts\0"),
  [`git tag -f ${tag} ${commit}`]: {},
  "git rev-parse --show-prefix": out("\n"),
  "git status --porcelain -z --untracked-files=all -- .": out("?? .runs/\0?? out/\0"),
  "git log -5 --oneline": out("0123456 initial\n"),
  "npm test": { output: [{ stream: "stdout", data: "all good\npartial" }, { stream: "stdout", data: " line\n" }] }
}

const testApp = (scripts: Scripts, options: LearningMemoryOptions = {}) =>
  LearningMemory(options).pipe(
    Layer.provideMerge(Layer.mergeAll(FilesMemory, ProcessRunnerMemory({ ...cleanRepo, ...scripts }), OrchestratorConfigTest("/repo"))),
    Layer.provideMerge(Path.layer)
  )

const history: ReadonlyArray<CommandEntry> = [commandEntry(1, "npm run build"), commandEntry(2, "npm test")]

const layoutOf = Effect.gen(function*() {
  const path = yield* Path.Path
  const { roots } = yield* OrchestratorConfig
  return makeRunLayout(path, roots, "task", "run-1")
})

/**
 * Joins a capture that must need no more TestClock time: the in-memory tarball digest is a real
 * promise (Web Crypto), so the fiber is joined rather than polled, with a wall-clock limit.
 */
const finished = <A>(fiber: Fiber.Fiber<A>) =>
  Fiber.join(fiber).pipe(
    Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error("the capture still waits on the clock") }),
    TestServices.provideLive,
    Effect.orDie
  )

/** Captures a run of `commands`, letting `time` pass on the TestClock; it must be done by then. */
const capture = (
  commands: ReadonlyArray<CommandEntry> = history,
  time: Duration.DurationInput = "1 minute",
  status: "succeeded" | "failed" = "succeeded"
) =>
  Effect.gen(function*() {
    const learning = yield* Learning
    const layout = yield* layoutOf
    const fiber = yield* Effect.fork(learning.capture({ manifest: finishedManifest(layout, commands, status), layout }))
    yield* TestClock.adjust(time)
    return yield* finished(fiber)
  })

const invoked = Effect.flatMap(ProcessInvocations, (p) => p.all).pipe(Effect.map((all) => all.map((spec) => spec.command)))
const count = (command: string) => Effect.map(invoked, (all) => all.filter((c) => c === command).length)

// ---------------------------------------------------------------------------------------------

describe("Learning.capture: a succeeded run in a clean repository", () => {
  it.effect("captures, queues, synthesizes the latest command and validates it", () =>
    Effect.gen(function*() {
      const section = yield* capture(history, 0)
      const tarballText = "tarball of /repo\nREADME.md\nsrc/a.ts"
      assert.deepStrictEqual(section.snapshot, {
        tag,
        commit_sha: commit,
        tarball_path: ".runs/task/cli/run-1/learning/run-1.tar.gz",
        tarball_digest: yield* sha256Hex(tarballText),
        storage_path: ".runs/learning-snapshots/task/run-1.tar.gz",
        retention_days: 30,
        status: "captured",
        attempts: 1,
        created_at: t0,
        last_error: null,
        file_list_path: ".runs/task/cli/run-1/learning/snapshot-files.txt",
        file_count: 2
      })
      assert.deepStrictEqual(section.queue, {
        snapshot_id: tag,
        diff_path: ".runs/task/cli/run-1/learning/run-1.diff",
        prompt_path: null,
        execution_history_path: ".runs/task/cli/run-1/runner.ndjson",
        manifest_path: ".runs/task/cli/run-1/manifest.json",
        enqueued_at: t0,
        payload_path: ".runs/task/cli/run-1/learning/queue-payload.json",
        status: "queued"
      })
      assert.deepStrictEqual(section.scenario, {
        path: ".runs/task/cli/run-1/learning/scenario.json",
        generated_at: t0,
        source: "execution_history",
        status: "synthesized",
        attempts: 1,
        partial_path: null,
        manual_template: null,
        approver: null,
        reason: null
      })
      assert.deepStrictEqual(section.validation, {
        mode: "per-task",
        grouping: null,
        status: "validated",
        log_path: ".runs/task/cli/run-1/learning/scenario-validation.log",
        reason: null,
        last_error: null
      })
      assert.deepStrictEqual(section.alerts, [])

      // The files: the list (runs/out and deleted files left out), the tarball and its copy, the payload.
      assert.strictEqual(yield* fileText(`${learningDir}/snapshot-files.txt`), "README.md\nsrc/a.ts\n")
      assert.strictEqual(yield* fileText(`${learningDir}/run-1.tar.gz`), tarballText)
      assert.strictEqual(yield* fileText("/repo/.runs/learning-snapshots/task/run-1.tar.gz"), tarballText)
      assert.deepStrictEqual(yield* jsonFile(QueuePayload, `${learningDir}/queue-payload.json`), {
        snapshot_id: tag,
        snapshot_commit: commit,
        diff_path: ".runs/task/cli/run-1/learning/run-1.diff",
        prompt_path: null,
        execution_history_path: ".runs/task/cli/run-1/runner.ndjson",
        manifest_path: ".runs/task/cli/run-1/manifest.json"
      })
      const scenario = yield* jsonFile(ScenarioFile, `${learningDir}/scenario.json`)
      assert.strictEqual(scenario.id, "learning-run-1")
      assert.strictEqual(scenario.entrypoint, "npm test")
      assert.deepStrictEqual(scenario.commands, ["npm test"])
      assert.deepStrictEqual(scenario.validation, { requiresCleanFixture: true })
      assert.deepStrictEqual(scenario.context.execution_history.map((h) => h.command), ["npm run build", "npm test"])
      assert.strictEqual(
        yield* fileText(`${learningDir}/scenario-validation.log`),
        [
          `[${t0}] Scenario: .runs/task/cli/run-1/learning/scenario.json`,
          `[${t0}] $ npm test`,
          `[${t0}] all good`,
          `[${t0}] partial line`,
          `[${t0}] Scenario validated`,
          ""
        ].join("\n")
      )

      // git in order, then the scenario in the repository root.
      assert.deepStrictEqual(yield* invoked, [
        "git rev-parse HEAD",
        "git ls-files -z --cached --others --exclude-standard",
        "git ls-files -z --deleted",
        `git tag -f ${tag} ${commit}`,
        "git rev-parse --show-prefix",
        "git status --porcelain -z --untracked-files=all -- .",
        "npm test"
      ])
      const specs = yield* Effect.flatMap(ProcessInvocations, (p) => p.all)
      assert.isTrue(specs.every((spec) => spec.cwd === "/repo"))
    }).pipe(Effect.provide(testApp({}))))

  it.effect("stores the copy under LEARNING_SNAPSHOT_DIR when one is set", () =>
    Effect.gen(function*() {
      const section = yield* capture(history, 0)
      assert.strictEqual(section.snapshot?.storage_path, "../snapshots/task/run-1.tar.gz")
      assert.isTrue((yield* listFiles).includes("/snapshots/task/run-1.tar.gz"))
    }).pipe(Effect.provide(testApp({}, { snapshotDir: "/snapshots" }))))
})

describe("Learning.capture: a snapshot folder that is a file (LRN-2)", () => {
  for (const c of [
    { name: "LEARNING_SNAPSHOT_DIR", options: { snapshotDir: "/snapshots" }, file: "/snapshots", says: ["LEARNING_SNAPSHOT_DIR", "/snapshots"] },
    { name: "the default folder", options: {}, file: "/repo/.runs/learning-snapshots", says: ["/repo/.runs/learning-snapshots", "LEARNING_SNAPSHOT_DIR"] }
  ]) {
    it.effect(`${c.name}: one attempt, whose reason names the path and the fix`, () =>
      Effect.gen(function*() {
        yield* Effect.flatMap(InMemoryFiles, (files) => files.write(c.file, "not a folder\n"))
        const section = yield* capture(history, 0)
        assert.strictEqual(yield* count("git rev-parse HEAD"), 0, "no attempt can succeed: none is made")
        assert.strictEqual(section.validation.status, "snapshot_failed")
        const reason = section.validation.reason ?? ""
        assert.include(reason, "is a file, not a folder")
        for (const text of c.says) assert.include(reason, text)
        assert.strictEqual(section.alerts.filter((alert) => alert.channel === "slack").length, 1, JSON.stringify(section.alerts))
      }).pipe(Effect.provide(testApp({}, c.options))))
  }
})

describe("Learning.capture: snapshot retries (LRN-2, LRN-4)", () => {
  it.effect("retries a failed pack after 500 ms then 1000 ms, with alerts for each failure", () =>
    Effect.gen(function*() {
      const learning = yield* Learning
      const layout = yield* layoutOf
      const fiber = yield* Effect.fork(learning.capture({ manifest: finishedManifest(layout, history), layout }))
      yield* TestClock.adjust("499 millis")
      assert.strictEqual(yield* count("git rev-parse HEAD"), 1)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* count("git rev-parse HEAD"), 2)
      yield* TestClock.adjust("999 millis")
      assert.strictEqual(yield* count("git rev-parse HEAD"), 2)
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust("1 millis")
      const section: LearningSection = yield* finished(fiber)
      assert.strictEqual(yield* count("git rev-parse HEAD"), 3)

      assert.strictEqual(section.snapshot?.status, "captured")
      assert.strictEqual(section.snapshot?.attempts, 3)
      assert.strictEqual(section.snapshot?.created_at, "1970-01-01T00:00:01.500Z")
      assert.strictEqual(section.validation.status, "validated")
      assert.deepStrictEqual(section.alerts.map((a) => [a.channel, a.message, a.created_at]), [
        ["slack", "Snapshot attempt 1 failed: Could not pack /repo/.runs/task/cli/run-1/learning/run-1.tar.gz: disk full", t0],
        ["pagerduty", "Snapshot attempt 1 failed for task/run-1", t0],
        ["slack", "Snapshot attempt 2 failed: Could not pack /repo/.runs/task/cli/run-1/learning/run-1.tar.gz: EIO", "1970-01-01T00:00:00.500Z"],
        ["pagerduty", "Snapshot attempt 2 failed for task/run-1", "1970-01-01T00:00:00.500Z"]
      ])
      // No tag for the failed attempts: tagging comes after the tarball.
      assert.strictEqual(yield* count(`git tag -f ${tag} ${commit}`), 1)
    }).pipe(Effect.provide(testApp({}, { packFailures: ["disk full", "EIO"] }))))

  it.effect("gives up after the third attempt: snapshot_failed, six alerts, no scenario", () =>
    Effect.gen(function*() {
      const section = yield* capture(history, "1500 millis")
      assert.strictEqual(yield* count("git rev-parse HEAD"), 3)
      assert.strictEqual(section.validation.status, "snapshot_failed")
      const reason = "git rev-parse HEAD exited with code 1: fatal: bad object HEAD"
      assert.strictEqual(section.validation.reason, reason)
      assert.strictEqual(section.validation.last_error, reason)
      assert.deepStrictEqual(
        { ...section.snapshot, created_at: "x" },
        {
          tag: "unknown",
          commit_sha: "unknown",
          tarball_path: "unavailable",
          tarball_digest: "unavailable",
          storage_path: "unavailable",
          retention_days: 30,
          status: "snapshot_failed",
          attempts: 3,
          created_at: "x",
          last_error: reason
        }
      )
      assert.strictEqual(section.alerts.length, 6)
      assert.deepStrictEqual(section.alerts.map((a) => a.type), Array(6).fill("snapshot_failed"))
      assert.isUndefined(section.scenario)
      assert.isUndefined(section.queue)
      assert.isFalse((yield* listFiles).some((file) => file.includes("scenario")))
    }).pipe(Effect.provide(testApp({ "git rev-parse HEAD": fails(1, "fatal: bad object HEAD\n") }))))

  it.effect("does not finish before the last wait is over", () =>
    Effect.gen(function*() {
      const learning = yield* Learning
      const layout = yield* layoutOf
      const fiber = yield* Effect.fork(learning.capture({ manifest: finishedManifest(layout, history), layout }))
      yield* TestClock.adjust("1499 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust("1 millis")
      assert.strictEqual((yield* finished(fiber)).snapshot?.attempts, 3)
    }).pipe(Effect.provide(testApp({ "git rev-parse HEAD": fails(1, "fatal\n") }))))

  it.effect("outside a git repository: one attempt, a clear reason, never a crash", () =>
    Effect.gen(function*() {
      const section = yield* capture(history, 0)
      assert.strictEqual(yield* count("git rev-parse HEAD"), 1)
      assert.strictEqual(section.validation.status, "snapshot_failed")
      assert.strictEqual(section.validation.reason, "not a git repository: /repo")
      assert.strictEqual(section.snapshot?.status, "snapshot_failed")
      assert.strictEqual(section.snapshot?.attempts, 1)
      assert.strictEqual(section.alerts[0]?.message, "Snapshot attempt 1 failed: not a git repository: /repo")
    }).pipe(Effect.provide(testApp({
      "git rev-parse HEAD": fails(128, "fatal: not a git repository (or any of the parent directories): .git\n")
    }))))
  it.effect("in a repository without a commit yet: one attempt and a reason that says to commit", () =>
    Effect.gen(function*() {
      const section = yield* capture(history, 0)
      assert.strictEqual(yield* count("git rev-parse HEAD"), 1)
      assert.strictEqual(section.snapshot?.attempts, 1)
      assert.strictEqual(section.validation.status, "snapshot_failed")
      assert.strictEqual(
        section.validation.reason,
        "the repository at /repo has no commit yet: commit once, so that a snapshot has a commit to tag"
      )
    }).pipe(Effect.provide(testApp({
      "git rev-parse HEAD": fails(
        128,
        "fatal: ambiguous argument 'HEAD': unknown revision or path not in the working tree.\nUse '--' to separate paths from revisions\n"
      )
    }))))
})

describe("Learning.capture: validation (LRN-6)", () => {
  it.effect("a dirty tree stalls, with git's status (without our folders) and log kept", () =>
    Effect.gen(function*() {
      const section = yield* capture(history, 0)
      assert.deepStrictEqual(section.validation, {
        mode: "per-task",
        grouping: null,
        status: "stalled_snapshot",
        reason: "Validation requires a clean fixture",
        log_path: ".runs/task/cli/run-1/learning/scenario-validation.log",
        last_error: null,
        git_status_path: ".runs/task/cli/run-1/learning/validation-git-status.txt",
        git_log_path: ".runs/task/cli/run-1/learning/validation-git-log.txt"
      })
      assert.strictEqual(section.snapshot?.status, "captured")
      assert.strictEqual(yield* fileText(`${learningDir}/validation-git-status.txt`), " M src/a.ts\n?? notes.md\n")
      assert.strictEqual(yield* fileText(`${learningDir}/validation-git-log.txt`), "0123456 initial\n")
      assert.strictEqual(yield* count("npm test"), 0)
      assert.include(yield* fileText(`${learningDir}/scenario-validation.log`), `[${t0}] Validation requires a clean fixture\n`)
    }).pipe(Effect.provide(testApp({
      "git status --porcelain -z --untracked-files=all -- .": out(" M src/a.ts\0?? .runs/task/x\0?? out/y\0?? notes.md\0")
    }))))

  it.effect("a git status that fails counts as dirt: stalled, with git's error kept", () =>
    Effect.gen(function*() {
      const section = yield* capture(history, 0)
      assert.strictEqual(section.validation.status, "stalled_snapshot")
      assert.strictEqual(
        yield* fileText(`${learningDir}/validation-git-status.txt`),
        "git status --porcelain -z --untracked-files=all -- . exited with code 128: fatal: index file corrupt\n"
      )
      assert.strictEqual(yield* count("npm test"), 0)
    }).pipe(Effect.provide(testApp({
      "git status --porcelain -z --untracked-files=all -- .": fails(128, "fatal: index file corrupt\n")
    }))))

  it.effect("a failing scenario command fails validation with the command, its exit code and its stderr", () =>
    Effect.gen(function*() {
      const section = yield* capture(history, 0)
      assert.strictEqual(section.validation.status, "snapshot_failed")
      assert.strictEqual(section.validation.reason, `Command "npm test" exited with code 2`)
      assert.strictEqual(section.validation.last_error, "1 test failed")
      assert.strictEqual(section.snapshot?.status, "captured")
      const log = yield* fileText(`${learningDir}/scenario-validation.log`)
      assert.include(log, `[${t0}] 1 test failed\n`)
      assert.include(log, `[${t0}] Command "npm test" exited with code 2\n`)
    }).pipe(Effect.provide(testApp({ "npm test": fails(2, "1 test failed\n") }))))

  it.effect("without stderr, last_error is the reason", () =>
    Effect.gen(function*() {
      const section = yield* capture(history, 0)
      assert.strictEqual(section.validation.last_error, `Command "npm test" exited with code 1`)
    }).pipe(Effect.provide(testApp({ "npm test": { exitCode: 1 } }))))
})

describe("Learning.capture: scenario synthesis (LRN-5)", () => {
  const noSuccess = [commandEntry(1, "./broken", { status: "failed", exit_code: 2 })]

  it.effect("without a successful command, the diff heuristic picks a changed test file", () =>
    Effect.gen(function*() {
      const section = yield* capture(noSuccess, 0)
      assert.strictEqual(section.scenario?.source, "diff")
      const scenario = yield* jsonFile(ScenarioFile, `${learningDir}/scenario.json`)
      assert.deepStrictEqual(scenario.commands, ["npm test test/a.test.ts"])
      assert.strictEqual(scenario.context.diff, "src/a.ts\ntest/a.test.ts")
      // Those changes are dirt too: the scenario waits for a clean fixture.
      assert.strictEqual(section.validation.status, "stalled_snapshot")
    }).pipe(Effect.provide(testApp({
      "git status --porcelain -z --untracked-files=all -- .": out(" M src/a.ts\0?? test/a.test.ts\0?? .runs/x\0")
    }))))

  it.effect("with nothing to replay, a partial scenario and needs_manual_scenario (first attempt is the last)", () =>
    Effect.gen(function*() {
      const section = yield* capture(noSuccess, 0)
      assert.strictEqual(section.validation.status, "needs_manual_scenario")
      assert.strictEqual(section.scenario?.status, "needs_manual_scenario")
      assert.strictEqual(section.scenario?.attempts, 1)
      assert.strictEqual(section.scenario?.partial_path, ".runs/task/cli/run-1/learning/scenario.partial.json")
      assert.deepStrictEqual(section.alerts.map((a) => [a.type, a.channel]), [["needs_manual_scenario", "slack"]])
      const partial = yield* jsonFile(ScenarioFile, `${learningDir}/scenario.partial.json`)
      assert.deepStrictEqual(partial.commands, [])
      assert.isNull(partial.entrypoint)
      const files = yield* listFiles
      assert.isFalse(files.includes(`${learningDir}/scenario.json`))
      assert.isFalse(files.includes(`${learningDir}/scenario-validation.log`))
      assert.strictEqual(yield* count("./broken"), 0)
    }).pipe(Effect.provide(testApp({
      "git status --porcelain -z --untracked-files=all -- .": out("?? .runs/\0?? out/\0")
    }))))
})

describe("Learning.capture: when it does nothing (LRN-1)", () => {
  it.effect("a run that did not succeed gets the initial section; nothing runs, nothing is written", () =>
    Effect.gen(function*() {
      const section = yield* capture(history, 0, "failed")
      assert.deepStrictEqual(section, {
        validation: { mode: "per-task", grouping: null, status: "pending" },
        alerts: [],
        approvals: []
      })
      assert.deepStrictEqual(yield* invoked, [])
      assert.deepStrictEqual(yield* listFiles, [])
    }).pipe(Effect.provide(testApp({}))))

  it.effect("learning off: enabled is false and capture does nothing", () =>
    Effect.gen(function*() {
      assert.isFalse((yield* Learning).enabled)
      const section = yield* capture(history, 0)
      assert.strictEqual(section.validation.status, "pending")
      assert.deepStrictEqual(yield* invoked, [])
    }).pipe(Effect.provide(testApp({}, { enabled: false }))))
})
