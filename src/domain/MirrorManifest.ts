/**
 * The record `mirror fetch` leaves in `.runs/<task>/mirror/<project>/<timestamp>/manifest.json`
 * (SPEC MIR-2, MIR-3): every URL with its outcome, the status, the promotion decision and the
 * permit's verdict.
 */
import { Schema } from "effect"

/** How one URL ended: downloaded, taken from the cache, supplied by the archive, or not obtained. */
export const UrlOutcome = Schema.Literal("fetched", "cached", "archived", "failed")
export type UrlOutcome = typeof UrlOutcome.Type

export const MirrorUrlRecord = Schema.Struct({
  url: Schema.String,
  kind: Schema.Literal("route", "asset"),
  outcome: UrlOutcome,
  /** The HTTP status of the last response, null when none came (connection refused, timeout). */
  http_status: Schema.NullOr(Schema.Int),
  /** Where it is stored, relative to `public/`; null when it failed. */
  path: Schema.NullOr(Schema.String),
  bytes: Schema.Int,
  /** The URL the bytes came from when that is not `url` (the archive's). */
  source: Schema.NullOr(Schema.String),
  attempts: Schema.Int,
  error: Schema.NullOr(Schema.String)
})
export type MirrorUrlRecord = typeof MirrorUrlRecord.Type

export const MirrorStatus = Schema.Literal("ok", "incomplete", "failed")
export type MirrorStatus = typeof MirrorStatus.Type

export const Promotion = Schema.Literal("promoted", "skipped", "dry-run")
export type Promotion = typeof Promotion.Type

/** The mirror manifest a fetch writes: status, promotion, totals and every URL with its outcome (MIR-3). */
export const MirrorManifest = Schema.Struct({
  version: Schema.Literal(1),
  project: Schema.String,
  task_id: Schema.String,
  origin: Schema.String,
  started_at: Schema.String,
  completed_at: Schema.String,
  status: MirrorStatus,
  dry_run: Schema.Boolean,
  force: Schema.Boolean,
  archive_fallback: Schema.Boolean,
  promotion: Promotion,
  run_dir: Schema.String,
  staging_dir: Schema.String,
  public_dir: Schema.String,
  permit: Schema.Struct({ path: Schema.String, verdict: Schema.Literal("allowed", "not-listed", "no-permit-file", "invalid") }),
  totals: Schema.Struct({
    urls: Schema.Int,
    fetched: Schema.Int,
    cached: Schema.Int,
    archived: Schema.Int,
    failed: Schema.Int,
    bytes: Schema.Int
  }),
  urls: Schema.Array(MirrorUrlRecord),
  errors: Schema.Array(Schema.String)
})
export type MirrorManifest = typeof MirrorManifest.Type

/** MIR-3: `failed` when no route could be mirrored, `incomplete` when any URL failed, else `ok`. */
export const mirrorStatus = (records: ReadonlyArray<MirrorUrlRecord>): MirrorStatus => {
  const routes = records.filter((record) => record.kind === "route")
  if (routes.length > 0 && routes.every((record) => record.outcome === "failed")) return "failed"
  return records.some((record) => record.outcome === "failed") ? "incomplete" : "ok"
}

/** MIR-3: a dry run never promotes; errors block promotion unless forced. */
export const promotionOf = (status: MirrorStatus, options: { readonly dryRun: boolean; readonly force: boolean }): Promotion =>
  options.dryRun ? "dry-run" : status === "ok" || options.force ? "promoted" : "skipped"

export const totalsOf = (records: ReadonlyArray<MirrorUrlRecord>): MirrorManifest["totals"] => ({
  urls: records.length,
  fetched: records.filter((record) => record.outcome === "fetched").length,
  cached: records.filter((record) => record.outcome === "cached").length,
  archived: records.filter((record) => record.outcome === "archived").length,
  failed: records.filter((record) => record.outcome === "failed").length,
  bytes: records.reduce((sum, record) => sum + record.bytes, 0)
})

/** MIR-2: the run folder's name, an ISO timestamp with `:` replaced (safe as a path segment everywhere). */
export const mirrorRunName = (iso: string): string => iso.replace(/:/g, "-")
