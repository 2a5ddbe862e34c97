/**
 * The learning pipeline's pure rules (SPEC LRN-1..7): the section's schema, scenario picking, the
 * diff heuristic, what the snapshot leaves out, and the status machine with its alerts. Also the
 * snapshot diff's file writing (SnapshotArchiveLive.diff) over scripted git and a temp folder.
 */
import { FileSystem } from "@effect/platform"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import {
  initialLearningSection,
  isLearningEnabled,
  LearningSection,
  snapshotRetryPolicy
} from "../src/domain/LearningRecords.js"
import {
  changedFiles,
  dirtyEntries,
  excludedFolders,
  isExcluded,
  shellWord,
  snapshotDiffCommand,
  snapshotFileList
} from "../src/domain/LearningSnapshotPaths.js"
import {
  onManualScenarioNeeded,
  onSnapshotAttemptFailed,
  onSnapshotCaptured,
  onValidated
} from "../src/domain/LearningStatus.js"
import {
  commandFailureReason,
  diffScenarioCommand,
  pickEntrypoint,
  promptScenarioCommand,
  synthesizeScenario
} from "../src/domain/LearningSynthesis.js"
import type { CommandEntry } from "../src/domain/Manifest.js"
import { retryDelays } from "../src/domain/Retry.js"
import { ProcessRunnerMemory, type ScriptedProcess } from "../src/layers/ProcessRunner.js"
import { FilesLive } from "../src/layers/Files.js"
import { SnapshotArchiveLive } from "../src/layers/SnapshotArchive.js"
import { SnapshotArchive } from "../src/services/SnapshotArchive.js"
import { commandEntry } from "./support/learning.js"

const run = { taskId: "task", runId: "run-1" }

// JSON-safe like CliManifest: the decoded type is the encoded one. A compile-time check only: `npm run
// typecheck` fails when the two differ (`true` does not satisfy `false`); the round trip below checks values.
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
true satisfies Equals<typeof LearningSection.Type, typeof LearningSection.Encoded>
const at = "2026-01-01T00:00:00.000Z"

describe("LearningSection schema (MAN-3)", () => {
  it("starts as the spec's initial section", () => {
    assert.deepStrictEqual(initialLearningSection, {
      validation: { mode: "per-task", grouping: null, status: "pending" },
      alerts: [],
      approvals: []
    })
  })

  it.effect("is JSON-safe: a full section encodes to itself and decodes back, excess keys rejected", () =>
    Effect.gen(function*() {
      const captured = onSnapshotCaptured(
        onSnapshotAttemptFailed(initialLearningSection, { run, attempt: 1, message: "boom", at, final: false }),
        {
          tag: "learning-snapshot-x",
          commit_sha: "abc",
          tarball_path: ".runs/t/cli/r/learning/r.tar.gz",
          tarball_digest: "d",
          storage_path: ".runs/learning-snapshots/t/r.tar.gz",
          retention_days: 30,
          status: "captured",
          attempts: 2,
          created_at: at,
          last_error: null
        },
        {
          snapshot_id: "learning-snapshot-x",
          diff_path: null,
          prompt_path: null,
          execution_history_path: ".runs/t/cli/r/runner.ndjson",
          manifest_path: ".runs/t/cli/r/manifest.json",
          enqueued_at: at,
          payload_path: ".runs/t/cli/r/learning/queue-payload.json",
          status: "queued"
        }
      )
      const full = onValidated(onManualScenarioNeeded(captured, { run, partialPath: "p", at }), "log", {
        _tag: "Dirty",
        gitStatusPath: "s",
        gitLogPath: "l"
      })
      const encoded = yield* Schema.encode(LearningSection)(full)
      assert.deepStrictEqual(encoded, full)
      const decoded = yield* Schema.decodeUnknown(Schema.parseJson(LearningSection), { onExcessProperty: "error" })(
        JSON.stringify(full)
      )
      assert.deepStrictEqual(decoded, full)
      const extra = yield* Effect.either(
        Schema.decodeUnknown(LearningSection, { onExcessProperty: "error" })({ ...full, extra: 1 })
      )
      assert.isTrue(extra._tag === "Left")
    }))
})

describe("LRN-1 trigger", () => {
  it("is on only for exactly 1", () => {
    assert.isTrue(isLearningEnabled("1"))
    for (const value of [undefined, "", "true", "yes", " 1", "0"]) assert.isFalse(isLearningEnabled(value), String(value))
  })
})

describe("LRN-2 retry policy", () => {
  it("is three attempts, 500 ms then 1000 ms apart", () => {
    assert.deepStrictEqual(retryDelays(snapshotRetryPolicy), [500, 1000])
  })
})

describe("LRN-5 scenario picking", () => {
  const entries: ReadonlyArray<CommandEntry> = [
    commandEntry(1, "npm run build"),
    commandEntry(2, "npm test", { completed_at: "2026-01-01T00:00:09.000Z" }),
    commandEntry(3, "npm run lint", { completed_at: "2026-01-01T00:00:05.000Z" }),
    commandEntry(4, "./broken", { status: "failed", exit_code: 3, completed_at: "2026-01-01T00:01:00.000Z" }),
    commandEntry(5, null, { kind: "subpipeline", exit_code: null, completed_at: "2026-01-01T00:02:00.000Z" })
  ]

  it("takes the latest successful command by completed_at, not by position", () => {
    assert.strictEqual(pickEntrypoint(entries), "npm test")
  })

  it("breaks a tie on completed_at by the higher index", () => {
    const tied = [commandEntry(1, "first", { completed_at: at }), commandEntry(2, "second", { completed_at: at })]
    assert.strictEqual(pickEntrypoint(tied), "second")
    assert.strictEqual(pickEntrypoint([...tied].reverse()), "second")
  })

  it("ignores failed, non-zero, skipped and nested entries", () => {
    const none = [
      commandEntry(1, "a", { status: "failed", exit_code: 1 }),
      commandEntry(2, "b", { status: "succeeded", exit_code: 2 }),
      commandEntry(3, "c", { status: "skipped", exit_code: null }),
      commandEntry(4, null, { kind: "subpipeline", exit_code: null })
    ]
    assert.isUndefined(pickEntrypoint(none))
  })

  it("falls back to the diff heuristic: a test file first, then a source file", () => {
    assert.strictEqual(diffScenarioCommand(["README.md", "src/a.ts", "test/a.test.ts"]), "npm test test/a.test.ts")
    assert.strictEqual(diffScenarioCommand(["README.md", "lib/b.js", "src/a.ts"]), "npm test -- lib/b.js")
    assert.isUndefined(diffScenarioCommand(["README.md", "docs/x.md"]))
    assert.deepStrictEqual(synthesizeScenario(entries, undefined, ["src/a.ts"]), { source: "execution_history", command: "npm test" })
    assert.deepStrictEqual(synthesizeScenario([], undefined, ["src/a.ts"]), { source: "diff", command: "npm test -- src/a.ts" })
    assert.isUndefined(synthesizeScenario([], undefined, ["notes.txt"]))
  })

  it("the prompt comes between the run's history and the diff: history wins, then the prompt, then the diff", () => {
    const prompt = "Fix the parser, then run `npm test -- parser.test.ts`."
    assert.deepStrictEqual(synthesizeScenario(entries, prompt, ["src/a.ts"]), { source: "execution_history", command: "npm test" })
    assert.deepStrictEqual(synthesizeScenario([], prompt, ["src/a.ts"]), { source: "prompt", command: "npm test -- parser.test.ts" })
    assert.deepStrictEqual(synthesizeScenario([], "No command here.", ["src/a.ts"]), {
      source: "diff",
      command: "npm test -- src/a.ts"
    })
  })

  it("finds a prompt's command in a shell fence first, then an inline span with a space, then a `$ ` line", () => {
    const all = "Run `make check` after.\n$ npm run lint\n\n```bash\n\n$ npm test -- a.test.ts\nnpm run build\n```\n"
    assert.strictEqual(promptScenarioCommand(all), "npm test -- a.test.ts")
    assert.strictEqual(promptScenarioCommand("Edit `src/a.ts`, then run `make check`.\n$ npm run lint"), "make check")
    assert.strictEqual(promptScenarioCommand("Edit `src/a.ts`.\n  $ npm run lint\n"), "npm run lint")
    // A fence in another language is code, not a command; an untagged or console fence counts.
    assert.strictEqual(promptScenarioCommand("```ts\nconst a = 1\n```\n```\nnode a.js\n```"), "node a.js")
    assert.strictEqual(promptScenarioCommand("```console\n$ go test ./...\n```"), "go test ./...")
    // Spans and $ lines inside a non-shell fence are not looked at.
    assert.isUndefined(promptScenarioCommand("```json\n{ \"cmd\": \"`rm x`\" }\n$ rm -rf y\n```"))
    assert.isUndefined(promptScenarioCommand("Only `names` and prose here; costs $5."))
    assert.isUndefined(promptScenarioCommand(""))
  })

  it("describes a failed command with its exit code or signal", () => {
    assert.strictEqual(commandFailureReason("npm test", { exitCode: 2, signal: null }), `Command "npm test" exited with code 2`)
    assert.strictEqual(commandFailureReason("x", { exitCode: null, signal: "SIGKILL" }), `Command "x" was killed by SIGKILL`)
  })
})

describe("what the snapshot leaves out", () => {
  const folders = excludedFolders("/repo", ["/repo/.runs", "/repo/out/", "/elsewhere", "/repo", "/abs", "/repo/build/runs"], "/")

  it("keeps only folders inside the repository", () => {
    assert.deepStrictEqual(folders, [".runs", "out", "build/runs"])
  })

  it("matches whole path segments", () => {
    assert.isTrue(isExcluded(".runs", folders))
    assert.isTrue(isExcluded(".runs/", folders))
    assert.isTrue(isExcluded(".runs/t/cli/r/manifest.json", folders))
    assert.isTrue(isExcluded("build/runs/x", folders))
    assert.isFalse(isExcluded(".runsx/a", folders))
    assert.isFalse(isExcluded("outside.txt", folders))
    assert.isFalse(isExcluded("build/other", folders))
  })

  it("packs the listed files minus deleted ones and the excluded folders, each once", () => {
    const listed = ["a.ts", ".runs/t/x.json", "out/t/state.json", "gone.ts", "b.ts", "a.ts"]
    assert.deepStrictEqual(snapshotFileList(listed, ["gone.ts"], folders), ["a.ts", "b.ts"])
  })

  it("diffs the tracked changes against the commit, binary-safe, in the root without the excluded folders", () => {
    const options = "--binary --no-color --no-ext-diff --no-textconv --src-prefix=a/ --dst-prefix=b/ --no-relative"
    assert.strictEqual(
      snapshotDiffCommand("0123abc", folders),
      `git diff ${options} 0123abc -- . ':(exclude,literal).runs' ':(exclude,literal)out' ':(exclude,literal)build/runs'`
    )
    assert.strictEqual(snapshotDiffCommand("0123abc", []), `git diff ${options} 0123abc -- .`)
    assert.strictEqual(
      snapshotDiffCommand("0123abc", ["my runs", "it's"]),
      `git diff ${options} 0123abc -- . ':(exclude,literal)my runs' ':(exclude,literal)it'\\''s'`
    )
  })

  it("quotes a word for sh only when the shell would read something in it", () => {
    assert.strictEqual(shellWord("src/a-b_c.ts"), "src/a-b_c.ts")
    assert.strictEqual(shellWord("a b"), "'a b'")
    assert.strictEqual(shellWord("$HOME;*"), "'$HOME;*'")
    assert.strictEqual(shellWord("it's"), "'it'\\''s'")
    assert.strictEqual(shellWord(""), "''")
  })

  it("reads porcelain -z status, dropping rename sources and excluded folders", () => {
    const status = " M src/a.ts\0?? .runs/t/cli/r/manifest.json\0R  new.ts\0old.ts\0?? out/t/state.json\0?? notes.md\0"
    assert.deepStrictEqual(dirtyEntries(status, folders), [" M src/a.ts", "R  new.ts", "?? notes.md"])
    assert.deepStrictEqual(changedFiles(status, folders), ["src/a.ts", "new.ts", "notes.md"])
    assert.deepStrictEqual(dirtyEntries("?? .runs/\0?? out/\0", folders), [])
  })

  it("makes git's top-relative paths relative to a repository root below the top", () => {
    const status = " M sub/src/a.ts\0?? sub/.runs/t/x.json\0?? sub/out/\0"
    assert.deepStrictEqual(dirtyEntries(status, folders, "sub/"), [" M src/a.ts"])
    assert.deepStrictEqual(changedFiles(status, folders, "sub/"), ["src/a.ts"])
    assert.deepStrictEqual(dirtyEntries(status, folders), [" M sub/src/a.ts", "?? sub/.runs/t/x.json", "?? sub/out/"])
  })
})

describe("SnapshotArchiveLive.diff: git's stdout to the file", () => {
  const command = snapshotDiffCommand("abc123", [".runs"])
  const archiveOver = (script: ScriptedProcess) =>
    SnapshotArchiveLive.pipe(
      Layer.provide(Layer.merge(ProcessRunnerMemory({ [command]: script }), FilesLive)),
      Layer.provideMerge(NodeContext.layer)
    )

  /** Runs the diff into `<temp>/learning/run-1.diff`; returns the outcome and the folder's entries. */
  const diffInTemp = Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const dir = yield* fs.makeTempDirectoryScoped()
    const destination = `${dir}/learning/run-1.diff`
    const result = yield* Effect.either(
      Effect.flatMap(SnapshotArchive, (archive) => archive.diff({ cwd: dir, commit: "abc123", exclude: [".runs"], destination }))
    )
    const text = yield* fs.readFileString(destination).pipe(Effect.orElseSucceed(() => undefined))
    return { result, destination, text, entries: yield* fs.readDirectory(`${dir}/learning`) }
  })

  it.scopedLive("writes every stdout chunk in order, none of stderr, and leaves only the file", () =>
    Effect.gen(function*() {
      const { entries, result, text } = yield* diffInTemp
      assert.isTrue(result._tag === "Right")
      assert.strictEqual(text, "diff --git a/é b/é\n+x\n")
      assert.deepStrictEqual(entries, ["run-1.diff"])
    }).pipe(Effect.provide(archiveOver({
      output: [
        { stream: "stdout", data: "diff --git a/é b/é\n" },
        { stream: "stderr", data: "warning: noise\n" },
        { stream: "stdout", data: "+x\n" }
      ]
    }))))

  it.scopedLive("an empty diff is an empty file", () =>
    Effect.gen(function*() {
      const { entries, text } = yield* diffInTemp
      assert.strictEqual(text, "")
      assert.deepStrictEqual(entries, ["run-1.diff"])
    }).pipe(Effect.provide(archiveOver({}))))

  it.scopedLive("a failing git is a DiffError with git's reason, and leaves no file behind", () =>
    Effect.gen(function*() {
      const { destination, entries, result } = yield* diffInTemp
      assert.isTrue(result._tag === "Left" && result.left._tag === "DiffError")
      assert.strictEqual(
        result._tag === "Left" ? result.left.message : "",
        `Could not write the diff ${destination}: ${command} exited with code 128: fatal: bad object abc123`
      )
      assert.deepStrictEqual(entries, [])
    }).pipe(Effect.provide(archiveOver({
      output: [{ stream: "stdout", data: "partial" }, { stream: "stderr", data: "fatal: bad object abc123\nmore\n" }],
      exitCode: 128
    }))))
})

describe("the status machine (LRN-3, LRN-4, LRN-6)", () => {
  it("a failed attempt raises a Slack alert and a page, and fails the validation only when final", () => {
    const first = onSnapshotAttemptFailed(initialLearningSection, { run, attempt: 1, message: "boom", at, final: false })
    assert.strictEqual(first.validation.status, "pending")
    assert.deepStrictEqual(first.alerts, [
      { type: "snapshot_failed", channel: "slack", target: "#learning-alerts", message: "Snapshot attempt 1 failed: boom", created_at: at },
      {
        type: "snapshot_failed",
        channel: "pagerduty",
        target: "learning-pipeline",
        message: "Snapshot attempt 1 failed for task/run-1",
        created_at: at
      }
    ])
    assert.strictEqual(first.snapshot?.status, "snapshot_failed")
    assert.strictEqual(first.snapshot?.commit_sha, "unknown")
    assert.strictEqual(first.snapshot?.tarball_digest, "unavailable")
    assert.strictEqual(first.snapshot?.last_error, "boom")
    const last = onSnapshotAttemptFailed(first, { run, attempt: 2, message: "bang", at, final: true })
    assert.strictEqual(last.alerts.length, 4)
    assert.strictEqual(last.snapshot?.attempts, 2)
    assert.strictEqual(last.validation.status, "snapshot_failed")
    assert.strictEqual(last.validation.reason, "bang")
  })

  it("a capture after a failed validation resets it to pending and keeps the alerts", () => {
    const failed = onSnapshotAttemptFailed(initialLearningSection, { run, attempt: 3, message: "boom", at, final: true })
    const snapshot = { ...failed.snapshot!, status: "captured" as const, last_error: null }
    const queue = {
      snapshot_id: "s",
      diff_path: null,
      prompt_path: null,
      execution_history_path: "h",
      manifest_path: "m",
      enqueued_at: at,
      payload_path: "p",
      status: "queued" as const
    }
    const captured = onSnapshotCaptured(failed, snapshot, queue)
    assert.deepStrictEqual(captured.validation, { mode: "per-task", grouping: null, status: "pending" })
    assert.strictEqual(captured.alerts.length, 2)
    assert.deepStrictEqual(captured.queue, queue)
  })

  it("a missing scenario asks for a manual one, with a Slack alert", () => {
    const section = onManualScenarioNeeded(initialLearningSection, { run, partialPath: "x/scenario.partial.json", at })
    assert.strictEqual(section.validation.status, "needs_manual_scenario")
    assert.strictEqual(section.scenario?.status, "needs_manual_scenario")
    assert.strictEqual(section.scenario?.partial_path, "x/scenario.partial.json")
    assert.strictEqual(section.scenario?.manual_template, ".agent/task/templates/manual-scenario-template.md")
    assert.deepStrictEqual(section.alerts.map((a) => [a.type, a.channel]), [["needs_manual_scenario", "slack"]])
  })

  it("maps each validation outcome to its status", () => {
    const base = initialLearningSection
    assert.strictEqual(onValidated(base, "log", { _tag: "Validated" }).validation.status, "validated")
    const dirty = onValidated(base, "log", { _tag: "Dirty", gitStatusPath: "s", gitLogPath: "l" }).validation
    assert.deepStrictEqual(dirty, {
      mode: "per-task",
      grouping: null,
      log_path: "log",
      status: "stalled_snapshot",
      reason: "Validation requires a clean fixture",
      last_error: null,
      git_status_path: "s",
      git_log_path: "l"
    })
    const failed = onValidated(base, "log", { _tag: "CommandFailed", reason: "r", lastError: "stderr" }).validation
    assert.deepStrictEqual([failed.status, failed.reason, failed.last_error], ["snapshot_failed", "r", "stderr"])
  })
})
