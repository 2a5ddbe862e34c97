/** GRD-1's spec files and review dates to the exact value (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { epochDayOf, freshnessIssue, isSpecFileName } from "../../src/domain/SpecGuard.js"

describe("spec guard, exactly", () => {
  it("spec files are the .md files other than README.md", () => {
    assert.isTrue(isSpecFileName("0001-x.md"))
    assert.isFalse(isSpecFileName("README.md"))
    assert.isFalse(isSpecFileName("notes.txt"))
    assert.isFalse(isSpecFileName("md"))
  })

  it("a date must read back as itself (no roll-over into another month or year)", () => {
    assert.strictEqual(epochDayOf("1970-01-02"), 1)
    assert.strictEqual(epochDayOf("2026-02-31"), undefined)
    assert.strictEqual(epochDayOf("2026-13-01"), undefined)
    // Date.UTC reads years 0-99 as 1900-1999: the year alone differs.
    assert.strictEqual(epochDayOf("0000-01-01"), undefined)
    assert.strictEqual(epochDayOf("2026-04-00"), undefined)
  })

  it("the last_review line may be indented", () => {
    const today = epochDayOf("2026-01-31") ?? 0
    assert.strictEqual(freshnessIssue("s.md", "# S\n   last_review: 2026-01-01\n", today), undefined)
    assert.strictEqual(freshnessIssue("s.md", "# S\n  last_review: 2025-12-31\n", today), "s.md: last_review 2025-12-31 is 31 days old (must be ≤30 days)")
  })
})
