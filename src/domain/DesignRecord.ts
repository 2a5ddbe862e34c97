/**
 * What the design toolkit records (SPEC DES-3): each breakpoint's diff report, every artifact of a
 * run (kind, slug, breakpoint, type, path) and the run's summary, written by `design write` into the
 * run's manifest (`design_toolkit_artifacts`, `design_toolkit_summary`) and into
 * `<out>/<task>/design/runs/<run>.json`.
 */
import { Schema } from "effect"
import { ArtifactKind } from "./DesignPaths.js"

/** One breakpoint's comparison of the reference copy with the live capture. */
export const DiffEntry = Schema.Struct({
  breakpoint: Schema.String,
  width: Schema.Int,
  height: Schema.Int,
  differing_pixels: Schema.Int,
  percent: Schema.Number,
  passed: Schema.Boolean,
  live: Schema.String,
  reference: Schema.String,
  diff: Schema.String
})
export type DiffEntry = typeof DiffEntry.Type

/** `diffs/<slug>/report.json`. */
export const DiffReport = Schema.Struct({
  version: Schema.Literal(1),
  slug: Schema.String,
  threshold_percent: Schema.Number,
  status: Schema.Literal("passed", "failed"),
  breakpoints: Schema.Array(DiffEntry)
})
export type DiffReport = typeof DiffReport.Type

export const ArtifactType = Schema.Literal(
  "screenshot",
  "dom",
  "census",
  "source",
  "motion-video",
  "keyframe",
  "tokens",
  "tokens-css",
  "styleguide",
  "styleguide-image",
  "reference",
  "diff-image",
  "reference-screenshot",
  "diff-report",
  "self-correction",
  "publish-log",
  "publish-record",
  "other"
)
export type ArtifactType = typeof ArtifactType.Type

export const DesignArtifact = Schema.Struct({
  /** The folder under the artifacts root; `publish` is `publish/logs/<slug>/` (DES-3). */
  kind: Schema.Union(ArtifactKind, Schema.Literal("publish")),
  slug: Schema.String,
  breakpoint: Schema.NullOr(Schema.String),
  type: ArtifactType,
  /** Repository-relative; a reference copy is one artifact, its folder. */
  path: Schema.String,
  bytes: Schema.Int
})
export type DesignArtifact = typeof DesignArtifact.Type

/** One earlier run's design artifacts that retention deleted (or, with `autoPurge: false`, would delete). */
export const RetentionPurge = Schema.Struct({
  run_id: Schema.String,
  reason: Schema.Literal("expired", "over-max-runs"),
  /** The run's `artifacts/design-toolkit` folder, repository-relative. */
  path: Schema.String,
  age_days: Schema.Number,
  deleted: Schema.Boolean
})
export type RetentionPurge = typeof RetentionPurge.Type

/** What `design write` did about retention: the bounds, and each run it deleted or refused to touch. */
export const RetentionReport = Schema.Struct({
  days: Schema.Int,
  max_runs: Schema.NullOr(Schema.Int),
  auto_purge: Schema.Boolean,
  purged: Schema.Array(RetentionPurge),
  /** Folders that looked like a run's design artifacts but were not safe to delete (a symlink on the way). */
  refused: Schema.Array(Schema.Struct({ path: Schema.String, reason: Schema.String }))
})
export type RetentionReport = typeof RetentionReport.Type

export const DesignSummary = Schema.Struct({
  generated_at: Schema.String,
  config: Schema.String,
  sources: Schema.Array(Schema.Struct({ slug: Schema.String, url: Schema.String, title: Schema.String, breakpoints: Schema.Array(Schema.String) })),
  artifact_root: Schema.String,
  artifacts: Schema.Int,
  by_kind: Schema.Record({ key: Schema.String, value: Schema.Int }),
  tokens: Schema.Record({ key: Schema.String, value: Schema.Struct({ colors: Schema.Int, font_families: Schema.Int, spacing: Schema.Int }) }),
  diff: Schema.Struct({
    status: Schema.Literal("passed", "failed", "not-run"),
    threshold_percent: Schema.Number,
    max_percent: Schema.NullOr(Schema.Number)
  }),
  motion: Schema.Struct({ videos: Schema.Int, keyframes: Schema.Int }),
  retention_days: Schema.Int,
  expires_at: Schema.String,
  /** Optional: summaries written before retention deleted anything lack it. */
  retention: Schema.optional(RetentionReport)
})
export type DesignSummary = typeof DesignSummary.Type

/** `<out>/<task>/design/runs/<run>.json`. */
export const DesignRunRecord = Schema.Struct({
  version: Schema.Literal(1),
  task_id: Schema.String,
  run_id: Schema.String,
  manifest: Schema.NullOr(Schema.String),
  design_toolkit_summary: DesignSummary,
  design_toolkit_artifacts: Schema.Array(DesignArtifact)
})
export type DesignRunRecord = typeof DesignRunRecord.Type

/** The manifest sections a design stage hands to the engine (see `stageSectionsFile`). */
export const DesignManifestSections = Schema.Struct({
  design_toolkit_artifacts: Schema.optional(Schema.Array(DesignArtifact)),
  design_toolkit_summary: Schema.optional(DesignSummary)
})
export type DesignManifestSections = typeof DesignManifestSections.Type

const typeByName: ReadonlyArray<readonly [RegExp, ArtifactType]> = [
  [/^screenshot\.png$/, "screenshot"],
  [/^dom\.html$/, "dom"],
  [/^census\.json$/, "census"],
  [/^source\.json$/, "source"],
  [/^motion\.mp4$/, "motion-video"],
  [/^keyframe-\d+\.png$/, "keyframe"],
  [/^tokens\.json$/, "tokens"],
  [/^tokens\.css$/, "tokens-css"],
  [/-diff\.png$/, "diff-image"],
  [/-reference\.png$/, "reference-screenshot"],
  [/^report\.json$/, "diff-report"],
  [/^self-correction\.json$/, "self-correction"]
]

/**
 * An artifact from its place under the artifacts root: `<kind>/<slug>/[<breakpoint>/]<file>`.
 * Undefined for anything that is not under a known kind and slug.
 */
export const classifyArtifact = (segments: ReadonlyArray<string>): Omit<DesignArtifact, "path" | "bytes"> | undefined => {
  if (segments[0] === "publish" && segments[1] === "logs" && segments[2] !== undefined && segments.length > 3) {
    const name = segments[segments.length - 1] ?? ""
    return { kind: "publish", slug: segments[2], breakpoint: null, type: name === "publish.json" ? "publish-record" : name.endsWith(".log") ? "publish-log" : "other" }
  }
  const [kind, slug, ...rest] = segments
  if (slug === undefined || rest.length === 0 || !Schema.is(ArtifactKind)(kind)) return undefined
  const name = rest[rest.length - 1] ?? ""
  if (kind === "styleguide") {
    return { kind, slug, breakpoint: null, type: name === "index.html" ? "styleguide" : name === "tokens.css" ? "tokens-css" : name.endsWith(".png") ? "styleguide-image" : "other" }
  }
  const found = typeByName.find(([pattern]) => pattern.test(name))?.[1] ?? "other"
  const breakpoint = kind === "context" && rest.length >= 2 ? rest[0] ?? null
    : kind === "diffs" && (found === "diff-image" || found === "reference-screenshot") ? name.replace(/-(diff|reference)\.png$/, "")
    : null
  return { kind, slug, breakpoint, type: found }
}
