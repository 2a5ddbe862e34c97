import { assert, describe, it } from "@effect/vitest"
import { commandSummary, recordedExitCode, type StageOutcome } from "../../src/domain/StageSummary.js"

const outcome = (partial: Partial<StageOutcome>): StageOutcome => ({
  exitCode: 0,
  signal: null,
  stdoutTail: "",
  stderrTail: "",
  ...partial
})

describe("RUN-6 command summary", () => {
  it("uses the summary hint verbatim, even on failure or a signal", () => {
    assert.strictEqual(commandSummary(outcome({ stdoutTail: "out" }), "Custom summary"), "Custom summary")
    assert.strictEqual(commandSummary(outcome({ exitCode: 7, stderrTail: "boom" }), "  as given  "), "  as given  ")
    assert.strictEqual(commandSummary(outcome({ exitCode: 143, signal: "SIGTERM" }), "hint"), "hint")
  })

  it("reports a signal with the trimmed stderr, before the exit code", () => {
    assert.strictEqual(
      commandSummary(outcome({ exitCode: 143, signal: "SIGTERM", stdoutTail: "partial", stderrTail: "\n killed \n" }), undefined),
      "Terminated with signal SIGTERM — killed"
    )
    assert.strictEqual(
      commandSummary(outcome({ exitCode: 0, signal: "SIGKILL", stdoutTail: "out", stderrTail: "  \n" }), undefined),
      "Terminated with signal SIGKILL"
    )
  })

  it("reports a non-zero exit with the trimmed stderr", () => {
    assert.strictEqual(commandSummary(outcome({ exitCode: 7, stderrTail: "boom\n" }), undefined), "Exited with code 7 — boom")
    assert.strictEqual(commandSummary(outcome({ exitCode: 3, stdoutTail: "ignored" }), undefined), "Exited with code 3")
    assert.strictEqual(commandSummary(outcome({ exitCode: -1, stderrTail: "a\nb\n" }), undefined), "Exited with code -1 — a\nb")
  })

  it("uses the trimmed stdout on success", () => {
    assert.strictEqual(commandSummary(outcome({ stdoutTail: "  hello world\n", stderrTail: "warn" }), undefined), "hello world")
    assert.strictEqual(commandSummary(outcome({ stdoutTail: "line 1\nline 2\n" }), undefined), "line 1\nline 2")
  })

  it("uses the trimmed stderr when stdout is blank", () => {
    assert.strictEqual(commandSummary(outcome({ stdoutTail: " \n\t", stderrTail: "\twarning only\n" }), undefined), "warning only")
  })

  it("says the command completed when there is no output", () => {
    assert.strictEqual(commandSummary(outcome({ stdoutTail: "\n", stderrTail: "   " }), undefined), "Command completed with code 0")
  })

  it("never cuts embedded output inside a secret: the cut moves back to its key (issue 16, item 15)", () => {
    const stderr = `${"e".repeat(230)} token=abcdef123456789 more`
    assert.strictEqual(commandSummary(outcome({ exitCode: 1, stderrTail: stderr }), undefined), `Exited with code 1 — ${"e".repeat(230)} …`)
  })

  it("cuts embedded output at 240 characters with an ellipsis", () => {
    const long = "a".repeat(300)
    assert.strictEqual(commandSummary(outcome({ stdoutTail: long }), undefined), `${"a".repeat(240)}…`)
    assert.strictEqual(commandSummary(outcome({ stderrTail: long }), undefined), `${"a".repeat(240)}…`)
    assert.strictEqual(
      commandSummary(outcome({ exitCode: 1, stderrTail: "e".repeat(241) }), undefined),
      `Exited with code 1 — ${"e".repeat(240)}…`
    )
    assert.strictEqual(
      commandSummary(outcome({ signal: "SIGINT", stderrTail: "s".repeat(500) }), undefined),
      `Terminated with signal SIGINT — ${"s".repeat(240)}…`
    )
  })

  it("keeps exactly 240 characters, measured after trimming", () => {
    const exact = "b".repeat(240)
    assert.strictEqual(commandSummary(outcome({ stdoutTail: exact }), undefined), exact)
    assert.strictEqual(commandSummary(outcome({ stdoutTail: `   ${exact}\n\n` }), undefined), exact)
    assert.strictEqual(commandSummary(outcome({ exitCode: 2, stderrTail: `${exact}\n` }), undefined), `Exited with code 2 — ${exact}`)
  })

  it("never clips a summary hint", () => {
    const hint = "h".repeat(500)
    assert.strictEqual(commandSummary(outcome({}), hint), hint)
  })
})

describe("RUN-4 recorded exit code", () => {
  it("uses the exit code, else 128 for a signal, else 0", () => {
    assert.strictEqual(recordedExitCode(0, null), 0)
    assert.strictEqual(recordedExitCode(7, null), 7)
    assert.strictEqual(recordedExitCode(3, "SIGTERM"), 3)
    assert.strictEqual(recordedExitCode(null, "SIGTERM"), 128)
    assert.strictEqual(recordedExitCode(null, "SIGKILL"), 128)
    assert.strictEqual(recordedExitCode(null, null), 0)
  })
})
