/** MIR-3's status, totals and run folder name to the exact value (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { type MirrorUrlRecord, mirrorRunName, mirrorStatus, promotionOf, totalsOf } from "../../src/domain/MirrorManifest.js"

const record = (kind: MirrorUrlRecord["kind"], outcome: MirrorUrlRecord["outcome"], bytes: number): MirrorUrlRecord => ({
  url: `https://example.com/${kind}-${outcome}-${bytes}`,
  kind,
  outcome,
  http_status: outcome === "failed" ? null : 200,
  path: outcome === "failed" ? null : `${kind}-${bytes}`,
  bytes,
  source: null,
  attempts: 1,
  error: outcome === "failed" ? "refused" : null
})

describe("mirror manifest, exactly", () => {
  it("failed only when every route failed; incomplete when some URL failed", () => {
    assert.strictEqual(mirrorStatus([]), "ok")
    assert.strictEqual(mirrorStatus([record("asset", "failed", 0)]), "incomplete")
    assert.strictEqual(mirrorStatus([record("route", "failed", 0), record("route", "fetched", 5)]), "incomplete")
    assert.strictEqual(mirrorStatus([record("route", "failed", 0), record("route", "failed", 0), record("asset", "fetched", 1)]), "failed")
    assert.strictEqual(mirrorStatus([record("route", "cached", 1), record("asset", "archived", 2)]), "ok")
  })

  it("counts each outcome and sums the bytes", () => {
    assert.deepStrictEqual(
      totalsOf([
        record("route", "fetched", 100),
        record("asset", "fetched", 20),
        record("asset", "cached", 3),
        record("asset", "archived", 4),
        record("asset", "archived", 5),
        record("asset", "failed", 0),
        record("route", "failed", 0),
        record("asset", "failed", 0)
      ]),
      { urls: 8, fetched: 2, cached: 1, archived: 2, failed: 3, bytes: 132 }
    )
  })

  it("promotion and the run folder's name", () => {
    assert.strictEqual(promotionOf("ok", { dryRun: true, force: true }), "dry-run")
    assert.strictEqual(promotionOf("incomplete", { dryRun: false, force: true }), "promoted")
    assert.strictEqual(promotionOf("incomplete", { dryRun: false, force: false }), "skipped")
    assert.strictEqual(mirrorRunName("2026-01-02T03:04:05.678Z"), "2026-01-02T03-04-05.678Z")
  })
})
