import { assert, describe, it } from "@effect/vitest"
import {
  budgetFails,
  evaluateBudget,
  isIgnoredPath,
  limitFromEnv,
  measureText,
  parseNumstat,
  renderBudget
} from "../../src/domain/DiffBudget.js"

const limits = { maxFiles: 3, maxLines: 10, overrideReason: undefined }
const scope = { _tag: "WorkingTree", base: "origin/main" } as const

describe("GRD-2 diff budget arithmetic", () => {
  it("parses NUL-separated numstat, binary entries and tabs in names", () => {
    assert.deepStrictEqual(parseNumstat("3\t1\tsrc/a.ts\0-\t-\timg.png\0" + "2\t0\tweird\tname\0"), [
      { path: "src/a.ts", added: 3, deleted: 1, binary: false },
      { path: "img.png", added: 0, deleted: 0, binary: true },
      { path: "weird\tname", added: 2, deleted: 0, binary: false }
    ])
    assert.deepStrictEqual(parseNumstat(""), [])
  })

  it("ignores the lock file and generated folders only", () => {
    for (const p of ["package-lock.json", ".runs/a", "archives/x", "dist/x.js", "node_modules/p/i.js", "out/t/s.json"]) {
      assert.isTrue(isIgnoredPath(p), p)
    }
    for (const p of ["src/package-lock.json", "distribution/x", "outline.md"]) assert.isFalse(isIgnoredPath(p), p)
  })

  it("counts lines like git and treats NUL bytes as binary", () => {
    assert.deepStrictEqual(measureText(""), { _tag: "Lines", lines: 0, binary: false })
    assert.deepStrictEqual(measureText("a\nb\n"), { _tag: "Lines", lines: 2, binary: false })
    assert.deepStrictEqual(measureText("a\nb"), { _tag: "Lines", lines: 2, binary: false })
    assert.deepStrictEqual(measureText("a\0b"), { _tag: "Lines", lines: 0, binary: true })
  })

  it("falls back to the default for a bad environment limit, with a warning", () => {
    assert.deepStrictEqual(limitFromEnv("N", undefined, 25), { value: 25, warning: undefined })
    assert.deepStrictEqual(limitFromEnv("N", "7.9", 25), { value: 7, warning: undefined })
    assert.deepStrictEqual(limitFromEnv("N", "-1", 25), { value: 25, warning: "N=-1 is not a non-negative number; using 25." })
  })

  it("counts each path once: tracked by numstat, untracked by content, ignored not at all", () => {
    const report = evaluateBudget({
      scope,
      changed: ["src/a.ts", "dist/x.js", "gone.txt"],
      numstat: [{ path: "src/a.ts", added: 4, deleted: 2, binary: false }, { path: "dist/x.js", added: 100, deleted: 0, binary: false }],
      untracked: [{ path: "new.md", measure: { _tag: "Lines", lines: 3, binary: false } }]
    }, limits)
    assert.deepStrictEqual(report.files, { count: 3, max: 3 })
    assert.deepStrictEqual(report.lines, { total: 9, max: 10, added: 7, deleted: 2 })
    assert.isTrue(report.ok)
    assert.deepStrictEqual(renderBudget(report, false), ["✅ Diff budget: OK (base=origin/main, files=3/3, lines=9/10, +7/-2)"])
  })

  it("fails on files, lines and unmeasurable untracked files; the override or --dry-run keeps exit 0", () => {
    const report = evaluateBudget({
      scope: { _tag: "Commit", commit: "abc" },
      changed: ["a", "b", "c", "d"],
      numstat: [{ path: "a", added: 11, deleted: 0, binary: false }],
      untracked: [{ path: "e", measure: { _tag: "TooLarge", bytes: 2_000_000 } }, { path: "f", measure: { _tag: "Unreadable", reason: "EACCES" } }]
    }, limits)
    assert.deepStrictEqual(report.failures, ["changed files 6 > 3", "total lines changed 11 > 10", "untracked files could not be measured: 2"])
    assert.deepStrictEqual(report.untracked_issues, [
      { path: "e", issue: "too large to measure (2000000 bytes)" },
      { path: "f", issue: "unreadable (EACCES)" }
    ])
    assert.isTrue(budgetFails(report, false))
    assert.isFalse(budgetFails(report, true))
    const overridden = evaluateBudget({ scope, changed: ["a", "b", "c", "d"], numstat: [], untracked: [] }, { ...limits, overrideReason: "vendored" })
    assert.isFalse(budgetFails(overridden, false))
    assert.strictEqual(renderBudget(overridden, false).at(-1), "Override accepted via DIFF_BUDGET_OVERRIDE_REASON: vendored")
  })

  it("shows a file name with a newline or another control character quoted, on its own line", () => {
    const report = evaluateBudget({
      scope,
      changed: ["new\nline.txt", "tab\tname.txt", "plain.txt"],
      numstat: [
        { path: "new\nline.txt", added: 1, deleted: 0, binary: false },
        { path: "tab\tname.txt", added: 1, deleted: 0, binary: false },
        { path: "plain.txt", added: 1, deleted: 0, binary: false }
      ],
      untracked: [{ path: "bell\u0007.bin", measure: { _tag: "TooLarge", bytes: 2_000_000 } }]
    }, { ...limits, maxFiles: 1 })
    const lines = renderBudget(report, false)
    assert.isTrue(lines.every((line) => [...line].every((char) => (char.codePointAt(0) ?? 0) > 31)), lines.join("|"))
    assert.includeMembers([...lines], [
      "  - \"new\\nline.txt\": 1",
      "  - \"tab\\tname.txt\": 1",
      "  - plain.txt: 1",
      "  - \"bell\\u0007.bin\": too large to measure (2000000 bytes)"
    ])
  })
})
