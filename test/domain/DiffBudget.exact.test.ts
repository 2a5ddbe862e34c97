/**
 * GRD-2's diff budget to the exact line and number: numstat records git can print, limits exactly at
 * the budget, the order of the top files, and the whole text report of a failing, overridden and
 * dry-run budget. DiffBudget.test.ts checks the arithmetic by outcome.
 */
import { assert, describe, it } from "@effect/vitest"
import {
  budgetFails,
  type DiffBudgetReport,
  evaluateBudget,
  isIgnoredPath,
  limitFromEnv,
  measureText,
  parseNulList,
  parseNumstat,
  renderBudget
} from "../../src/domain/DiffBudget.js"

const scope = { _tag: "WorkingTree", base: "main" } as const
const limits = { maxFiles: 2, maxLines: 5, overrideReason: undefined }

describe("parsing git's output", () => {
  it("a NUL list drops empty items", () => {
    assert.deepStrictEqual(parseNulList("a\0\0b\0"), ["a", "b"])
    assert.deepStrictEqual(parseNulList(""), [])
  })

  it("numstat: a binary side counts 0 on both sides, a non-number counts 0, a record without a path is dropped", () => {
    assert.deepStrictEqual(parseNumstat("-\t3\tbin\0" + "4\t-\tbin2\0" + "x\t2\todd\0" + "1\t2\t\0" + "5\0"), [
      { path: "bin", added: 0, deleted: 0, binary: true },
      { path: "bin2", added: 0, deleted: 0, binary: true },
      { path: "odd", added: 0, deleted: 2, binary: false }
    ])
    assert.deepStrictEqual(parseNumstat("2\t3\t\n\nname\0"), [{ path: "name", added: 2, deleted: 3, binary: false }])
  })

  it("the empty path is ignored; a prefix must be a whole folder", () => {
    assert.isTrue(isIgnoredPath(""))
    assert.isFalse(isIgnoredPath("dist"))
    assert.isFalse(isIgnoredPath("src/dist/x"))
  })

  it("text: a lone newline is one line; NUL anywhere makes it binary", () => {
    assert.deepStrictEqual(measureText("\n"), { _tag: "Lines", lines: 1, binary: false })
    assert.deepStrictEqual(measureText("x"), { _tag: "Lines", lines: 1, binary: false })
    assert.deepStrictEqual(measureText("a\n\0"), { _tag: "Lines", lines: 0, binary: true })
  })
})

describe("limitFromEnv", () => {
  it("an empty or blank value is unset; 0 is a limit; text, NaN and Infinity fall back with a warning", () => {
    for (const raw of ["", "   "]) assert.deepStrictEqual(limitFromEnv("N", raw, 9), { value: 9, warning: undefined })
    assert.deepStrictEqual(limitFromEnv("N", "0", 9), { value: 0, warning: undefined })
    for (const raw of ["ten", "Infinity", "NaN"]) {
      assert.deepStrictEqual(limitFromEnv("MAX", raw, 9), { value: 9, warning: `MAX=${raw} is not a non-negative number; using 9.` })
    }
  })
})

describe("evaluateBudget", () => {
  it("exactly at both limits is within budget", () => {
    const report = evaluateBudget({
      scope,
      changed: ["a", "b"],
      numstat: [{ path: "a", added: 3, deleted: 2, binary: false }],
      untracked: []
    }, limits)
    assert.isTrue(report.ok)
    assert.deepStrictEqual(report.failures, [])
    assert.deepStrictEqual(report.top_files, [{ path: "a", lines: 5, binary: false }, { path: "b", lines: 0, binary: false }])
  })

  it("a path both changed and untracked counts once; numstat wins; untracked lines are additions", () => {
    const report = evaluateBudget({
      scope,
      changed: ["t"],
      numstat: [{ path: "t", added: 1, deleted: 1, binary: false }],
      untracked: [
        { path: "t", measure: { _tag: "Lines", lines: 50, binary: false } },
        { path: "u", measure: { _tag: "Lines", lines: 2, binary: true } }
      ]
    }, { ...limits, maxLines: 100 })
    assert.deepStrictEqual(report.files, { count: 2, max: 2 })
    assert.deepStrictEqual(report.lines, { total: 4, max: 100, added: 3, deleted: 1 })
    assert.deepStrictEqual(report.top_files, [{ path: "t", lines: 2, binary: false }, { path: "u", lines: 2, binary: true }])
  })

  it("top files: most lines first, ten at most; an unmeasured untracked file counts as binary with 0 lines", () => {
    const names = Array.from({ length: 12 }, (_, i) => `f${String(i).padStart(2, "0")}`)
    const report = evaluateBudget({
      scope: { _tag: "Commit", commit: "c1" },
      changed: names,
      numstat: names.map((path, i) => ({ path, added: i, deleted: 0, binary: false })),
      untracked: [{ path: "big", measure: { _tag: "TooLarge", bytes: 5 } }]
    }, { maxFiles: 20, maxLines: 1000, overrideReason: undefined })
    assert.strictEqual(report.scope, "commit=c1")
    assert.deepStrictEqual(report.top_files.map((f) => f.path), ["f11", "f10", "f09", "f08", "f07", "f06", "f05", "f04", "f03", "f02"])
    assert.deepStrictEqual(report.untracked_issues, [{ path: "big", issue: "too large to measure (5 bytes)" }])
    assert.deepStrictEqual(report.failures, ["untracked files could not be measured: 1"])
    assert.isFalse(report.ok)
    assert.strictEqual(report.override_reason, null)
  })
})

describe("renderBudget and budgetFails", () => {
  const failing: DiffBudgetReport = {
    ok: false,
    scope: "base=main",
    files: { count: 3, max: 2 },
    lines: { total: 9, max: 5, added: 7, deleted: 2 },
    failures: ["changed files 3 > 2", "total lines changed 9 > 5"],
    top_files: [{ path: "a.ts", lines: 9, binary: false }, { path: "b.png", lines: 0, binary: true }],
    untracked_issues: [{ path: "c", issue: "unreadable (EACCES)" }],
    override_reason: null
  }

  it("a failing budget: what failed, the top files, the untracked issues and how to proceed", () => {
    assert.deepStrictEqual(renderBudget(failing, false), [
      "❌ Diff budget exceeded (base=main)",
      " - changed files 3 > 2",
      " - total lines changed 9 > 5",
      "Top changed files:",
      "  - a.ts: 9",
      "  - b.png: 0 (binary/unknown)",
      "Untracked measurement issues:",
      "  - c: unreadable (EACCES)",
      "",
      "To proceed, either split the change into smaller diffs or set an explicit justification:",
      "  DIFF_BUDGET_OVERRIDE_REASON=\"why this diff must be large\" codex-orchestrator guard diff-budget"
    ])
    assert.strictEqual(renderBudget(failing, true).at(-1), "Dry run: exiting successfully despite failures.")
    assert.isTrue(budgetFails(failing, false))
  })

  it("an overridden budget says so, without empty sections", () => {
    const overridden = { ...failing, top_files: [], untracked_issues: [], override_reason: "vendored" }
    assert.deepStrictEqual(renderBudget(overridden, true), [
      "⚠️ Diff budget exceeded (override applied) (base=main)",
      " - changed files 3 > 2",
      " - total lines changed 9 > 5",
      "",
      "Override accepted via DIFF_BUDGET_OVERRIDE_REASON: vendored"
    ])
    assert.isFalse(budgetFails(overridden, false))
  })

  it("a budget within limits never fails", () => {
    assert.isFalse(budgetFails({ ...failing, ok: true, failures: [] }, false))
  })
})
