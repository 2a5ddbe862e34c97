import { assert, describe, it } from "@effect/vitest"
import {
  changeIssues,
  epochDayOf,
  freshnessIssue,
  isCodePath,
  isSpecPath,
  missingSpecMessage,
  renderSpecGuard
} from "../../src/domain/SpecGuard.js"

const today = epochDayOf("2026-03-31") ?? 0

describe("GRD-1 spec guard rules", () => {
  it("classifies code and spec paths by prefix", () => {
    for (const p of ["src/a.ts", "app/x", "server/y", "migrations/1.sql", "db/migrations/2.sql", "prisma/migrations/3/m.sql"]) {
      assert.isTrue(isCodePath(p), p)
    }
    for (const p of ["docs/src/a.md", "source/a.ts", "tests/src/a.ts"]) assert.isFalse(isCodePath(p), p)
    for (const p of ["tasks/specs/a.md", "docs/design/specs/b.md", "tasks/index.json"]) assert.isTrue(isSpecPath(p), p)
    for (const p of ["tasks/other.md", "tasks/index.json.bak"]) assert.isFalse(isSpecPath(p), p)
  })

  it("needs a spec change only when code changed", () => {
    assert.deepStrictEqual(changeIssues(["src/a.ts", "README.md"]), [missingSpecMessage])
    assert.deepStrictEqual(changeIssues(["src/a.ts", "tasks/index.json"]), [])
    assert.deepStrictEqual(changeIssues(["README.md"]), [])
    assert.deepStrictEqual(changeIssues([]), [])
  })

  it("reads the first last_review line and counts its age in UTC days (30 is still fresh)", () => {
    assert.strictEqual(freshnessIssue("s.md", "# t\nlast_review: 2026-03-01\n", today), undefined)
    assert.strictEqual(
      freshnessIssue("s.md", "last_review: 2026-02-28\r\nlast_review: 2026-03-31\n", today),
      "s.md: last_review 2026-02-28 is 31 days old (must be ≤30 days)"
    )
    assert.strictEqual(freshnessIssue("s.md", "review: 2026-03-01\n", today), "s.md: missing last_review field")
    assert.strictEqual(freshnessIssue("s.md", "last_review: 2026-02-30\n", today), "s.md: invalid last_review date '2026-02-30'")
    assert.strictEqual(freshnessIssue("s.md", "last_review:\n", today), "s.md: invalid last_review date ''")
    assert.strictEqual(freshnessIssue("s.md", "last_review: 2026-04-02\n", today), undefined, "a future date is not stale")
  })

  it("renders OK, issues, and the dry-run line; only issues without --dry-run fail", () => {
    const report = { base: "b", changed: [], specFiles: [], issues: [] }
    assert.deepStrictEqual(renderSpecGuard(report, false), { lines: ["✅ Spec guard: OK"], failed: false })
    const bad = { ...report, issues: ["x"] }
    assert.deepStrictEqual(renderSpecGuard(bad, false), { lines: ["❌ Spec guard: issues detected", " - x"], failed: true })
    assert.deepStrictEqual(renderSpecGuard(bad, true), {
      lines: ["❌ Spec guard: issues detected", " - x", "Dry run: exiting successfully despite failures."],
      failed: false
    })
  })
})
