import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Schema } from "effect"
import {
  appendSummary,
  CliManifest,
  CommandEntry,
  encodeManifest,
  EntryStatus,
  ErrorFile,
  isStale,
  isTerminal,
  RunStatus,
  truncateDetails,
  upsertGuardrailLine
} from "../../src/domain/Manifest.js"

const root = ".runs/demo-task/cli/2026-11-24T00-30-09-180Z-33452943"

const sample: CliManifest = {
  version: 1,
  task_id: "demo-task",
  task_slug: "demo-task",
  run_id: "2026-11-24T00-30-09-180Z-33452943",
  parent_run_id: null,
  pipeline_id: "trivial",
  pipeline_title: "Trivial",
  runner: "codex-cli",
  approval_policy: null,
  status: "succeeded",
  status_detail: null,
  started_at: "2026-11-24T00:30:09.182Z",
  completed_at: "2026-11-24T00:30:09.232Z",
  updated_at: "2026-11-24T00:30:09.232Z",
  heartbeat_at: "2026-11-24T00:30:09.232Z",
  heartbeat_interval_seconds: 5,
  heartbeat_stale_after_seconds: 30,
  artifact_root: root,
  compat_path: ".runs/demo-task/mcp/2026-11-24T00-30-09-180Z-33452943",
  log_path: `${root}/runner.ndjson`,
  summary: "Guardrails: spec-guard succeeded (1 passed).",
  metrics_recorded: true,
  resume_token: "f6dd737d89aea75ae1a5bcf48fd973cbc0bb1762f495e767859b0b18a4ca7579",
  resume_events: [],
  approvals: [],
  commands: [{
    index: 1,
    id: "hello",
    title: "Say hello",
    command: "echo hello world",
    kind: "command",
    status: "succeeded",
    started_at: "2026-11-24T00:30:09.208Z",
    completed_at: "2026-11-24T00:30:09.217Z",
    exit_code: 0,
    summary: "hello world",
    log_path: `${root}/commands/01-hello.ndjson`,
    error_file: null,
    sub_run_id: null
  }],
  child_runs: [],
  run_summary_path: `${root}/run-summary.json`,
  plan_target_id: "trivial:hello",
  instructions_hash: null,
  instructions_sources: [],
  guardrails_required: true
}

describe("MAN-1..4 manifest schema", () => {
  it("has exactly the MAN-2 keys on a command entry, plus the optional B-1 attempts, B-2 needs, issue 18's remote and B-5's cache", () => {
    assert.deepStrictEqual(Object.keys(CommandEntry.fields), [
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
      "sub_run_id",
      "attempts",
      "needs",
      "remote",
      "cache"
    ])
  })

  it("writes 2-space JSON with a trailing newline and reads it back", () => {
    const text = encodeManifest(sample)
    assert.isTrue(text.endsWith("}\n"))
    assert.isFalse(text.endsWith("\n\n"))
    assert.isTrue(text.startsWith("{\n  \"version\": 1,\n  \"task_id\": \"demo-task\","), text.slice(0, 60))
    assert.strictEqual(text, `${JSON.stringify(sample, null, 2)}\n`)
    assert.deepStrictEqual(Schema.decodeUnknownSync(Schema.parseJson(CliManifest))(text), sample)
  })

  it("omits an absent guardrail_status and keeps a present one", () => {
    assert.notInclude(encodeManifest(sample), "guardrail_status")
    const withStatus: CliManifest = {
      ...sample,
      guardrail_status: {
        present: true,
        recommendation: null,
        summary: "Guardrails: spec-guard succeeded (1 passed).",
        computed_at: "2026-11-24T00:30:09.232Z",
        counts: { total: 1, succeeded: 1, failed: 0, skipped: 0, other: 0 }
      }
    }
    const decoded = Schema.decodeUnknownSync(Schema.parseJson(CliManifest))(encodeManifest(withStatus))
    assert.deepStrictEqual(decoded.guardrail_status, withStatus.guardrail_status)
  })

  it.effect("rejects a manifest with a wrong constant or a missing field", () =>
    Effect.gen(function*() {
      const decode = Schema.decodeUnknown(CliManifest)
      const wrongRunner = yield* Effect.flip(decode({ ...sample, runner: "other" }))
      assert.include(wrongRunner.message, "runner")
      yield* Effect.flip(decode({ ...sample, version: 2 }))
      const { resume_token: _dropped, ...withoutToken } = sample
      const missing = yield* Effect.flip(decode(withoutToken))
      assert.include(missing.message, "resume_token")
      const badEntry = yield* Effect.flip(decode({ ...sample, commands: [{ ...sample.commands[0], status: "done" }] }))
      assert.include(badEntry.message, "status")
    }))

  it("accepts every run and entry status and no other", () => {
    assert.deepStrictEqual(RunStatus.literals, ["queued", "in_progress", "succeeded", "failed", "cancelled"])
    assert.deepStrictEqual(EntryStatus.literals, ["pending", "running", "succeeded", "failed", "skipped", "cancelled"])
  })

  it("treats succeeded, failed and cancelled as terminal", () => {
    assert.deepStrictEqual(
      RunStatus.literals.filter(isTerminal),
      ["succeeded", "failed", "cancelled"]
    )
  })

  it("decodes the LOG-2 error file", () => {
    const file = {
      run_id: "r",
      task_id: "t",
      command_index: 3,
      command_id: "hard",
      command: "echo boom >&2; exit 7",
      reason: "command-failed",
      details: { exit_code: 7, sandbox_state: "sandboxed", stderr: "boom" },
      created_at: "2026-11-24T00:31:58.990Z"
    }
    assert.deepStrictEqual(Schema.decodeUnknownEither(ErrorFile)(file), Either.right(file))
    assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(ErrorFile)({ ...file, command_index: "3" })))
  })
})

describe("D-9 stale runs", () => {
  const heartbeat = Date.parse(sample.heartbeat_at)

  it("is stale only when not terminal and the heartbeat is more than 30 s old", () => {
    const running: CliManifest = { ...sample, status: "in_progress" }
    assert.isFalse(isStale(running, heartbeat + 30_000))
    assert.isTrue(isStale(running, heartbeat + 30_001))
    assert.isTrue(isStale({ ...sample, status: "queued" }, heartbeat + 60_000))
    assert.isFalse(isStale({ ...running, heartbeat_stale_after_seconds: 120 }, heartbeat + 60_000))
    for (const status of ["succeeded", "failed", "cancelled"] as const) {
      assert.isFalse(isStale({ ...sample, status }, heartbeat + 3_600_000), status)
    }
  })
})

describe("MAN-6 error detail truncation", () => {
  it("cuts strings over 8192 characters and flags them", () => {
    const long = `${"x".repeat(8192)}TAIL`
    const result = truncateDetails({ stderr: long, exit_code: 7 })
    assert.deepStrictEqual(result, { stderr: `${"x".repeat(8192)}…`, stderr_truncated: true, exit_code: 7 })
    assert.strictEqual(typeof result.stderr === "string" ? result.stderr.length : -1, 8193)
  })

  it("never cuts inside a secret: the cut moves back to its key (issue 16, item 15)", () => {
    const long = `${"x".repeat(8185)} password=hunter2hunter2 and more`
    assert.deepStrictEqual(truncateDetails({ stderr: long }), { stderr: `${"x".repeat(8185)} …`, stderr_truncated: true })
  })

  it("keeps a string of exactly 8192 characters as it is", () => {
    const exact = "y".repeat(8192)
    const result = truncateDetails({ stdout: exact })
    assert.deepStrictEqual(result, { stdout: exact })
    assert.isFalse("stdout_truncated" in result)
  })

  it("cuts every long string and leaves other values alone", () => {
    const nested = { inner: "z".repeat(9000) }
    const result = truncateDetails({
      stdout: "o".repeat(10_000),
      stderr: "e".repeat(8193),
      exit_code: null,
      signal: "SIGTERM",
      nested,
      list: ["a"]
    })
    assert.deepStrictEqual(result, {
      stdout: `${"o".repeat(8192)}…`,
      stdout_truncated: true,
      stderr: `${"e".repeat(8192)}…`,
      stderr_truncated: true,
      exit_code: null,
      signal: "SIGTERM",
      nested,
      list: ["a"]
    })
    assert.strictEqual(result.nested, nested)
  })

  it("does not change its input", () => {
    const input = { stderr: "q".repeat(9000) }
    truncateDetails(input)
    assert.strictEqual(input.stderr.length, 9000)
    assert.deepStrictEqual(Object.keys(input), ["stderr"])
  })
})

describe("RUN-12 summary lines", () => {
  it("starts a summary with the first line", () => {
    assert.strictEqual(appendSummary(null, "Stage 'Build' failed with exit code 1."), "Stage 'Build' failed with exit code 1.")
    assert.strictEqual(appendSummary("", "first"), "first")
  })

  it("appends on a new line", () => {
    assert.strictEqual(appendSummary("first", "second"), "first\nsecond")
    assert.strictEqual(appendSummary("first\nsecond", "third"), "first\nsecond\nthird")
  })

  it("is a no-op when the text is already contained", () => {
    assert.strictEqual(appendSummary("first\nsecond", "second"), "first\nsecond")
    assert.strictEqual(appendSummary("first\nsecond", "first"), "first\nsecond")
    assert.strictEqual(appendSummary("Sub-pipeline 'x' failed.", "pipeline 'x'"), "Sub-pipeline 'x' failed.")
    assert.strictEqual(appendSummary("a\nb", "a\nb"), "a\nb")
  })

  it("replaces every guardrails: line, case-insensitively, with the current one", () => {
    assert.strictEqual(
      upsertGuardrailLine(
        "Stage 'Lint' failed.\nGuardrails: spec-guard command not found.\nGUARDRAILS: old\nguardrails: older",
        "Guardrails: spec-guard succeeded (1 passed)."
      ),
      "Stage 'Lint' failed.\nGuardrails: spec-guard succeeded (1 passed)."
    )
  })

  it("keeps lines that only mention guardrails later on", () => {
    assert.strictEqual(
      upsertGuardrailLine("Note: guardrails: see docs\nGuardrail command failed; re-run", "Guardrails: new"),
      "Note: guardrails: see docs\nGuardrail command failed; re-run\nGuardrails: new"
    )
  })

  it("adds the line to an empty summary", () => {
    assert.strictEqual(upsertGuardrailLine(null, "Guardrails: spec-guard skipped (all 1 skipped)."), "Guardrails: spec-guard skipped (all 1 skipped).")
    assert.strictEqual(upsertGuardrailLine("", "Guardrails: x"), "Guardrails: x")
    assert.strictEqual(upsertGuardrailLine("Guardrails: old", "Guardrails: new"), "Guardrails: new")
  })
})
