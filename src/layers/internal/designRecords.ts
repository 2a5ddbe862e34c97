/**
 * `design write` (SPEC DES-3): every artifact of the run (found by walking the artifacts folder, so
 * nothing a step wrote is forgotten; a reference copy counts once, as its folder), the run's summary,
 * the out record `<out>/<task>/design/runs/<run>.json`, and the manifest sections the engine adopts
 * into the run's manifest when the stage ends (`manifest-sections.json` beside the manifest).
 */
import type { Path } from "@effect/platform"
import { DateTime, Duration, Effect, Option, Schema } from "effect"
import type { DesignSettings } from "../../domain/DesignConfig.js"
import type { DesignLayout } from "../../domain/DesignPaths.js"
import {
  classifyArtifact,
  type DesignArtifact,
  DesignManifestSections,
  DesignRunRecord,
  type DesignSummary,
  DiffReport,
  type RetentionReport
} from "../../domain/DesignRecord.js"
import { DesignTokens } from "../../domain/DesignTokens.js"
import type { FileAccessError } from "../../domain/FileErrors.js"
import type { Roots } from "../../domain/RunLayout.js"
import { stageSectionsFileName } from "../../domain/StageSections.js"
import type { Files } from "../../services/Files.js"
import { makeRetention } from "./designRetention.js"

const encodeRecord = Schema.encode(Schema.parseJson(DesignRunRecord, { space: 2 }))
const encodeSections = Schema.encode(Schema.parseJson(DesignManifestSections, { space: 2 }))
const decodeDiff = Schema.decodeUnknownOption(Schema.parseJson(DiffReport))
const decodeTokens = Schema.decodeUnknownOption(Schema.parseJson(DesignTokens))

interface FoundFile {
  readonly segments: ReadonlyArray<string>
  readonly bytes: number
}

/** The run's summary: sources, counts by kind, tokens, the diff's verdict, motion, retention. */
const makeSummary = (files: Files["Type"], path: Path.Path) => {
  const readJson = <A>(file: string, decode: (text: string) => Option.Option<A>) =>
    Effect.map(files.readText(file), (text) => (text === undefined ? Option.none<A>() : decode(text)))

  return (
    layout: DesignLayout,
    settings: DesignSettings,
    shownConfig: string,
    artifacts: ReadonlyArray<DesignArtifact>,
    retention: RetentionReport
  ) =>
    Effect.gen(function*() {
      const now = yield* DateTime.now
      const diffs = yield* Effect.forEach(settings.sources, (s) => readJson(path.join(layout.root, "diffs", s.dir, "report.json"), decodeDiff))
      const tokens = yield* Effect.forEach(settings.sources, (s) =>
        Effect.map(readJson(path.join(layout.root, "tokens", s.dir, "tokens.json"), decodeTokens), (found) => [s.dir, found] as const))
      const reports = diffs.flatMap(Option.toArray)
      const percents = reports.flatMap((report) => report.breakpoints.map((entry) => entry.percent))
      const byKind: Record<string, number> = {}
      for (const artifact of artifacts) byKind[artifact.kind] = (byKind[artifact.kind] ?? 0) + 1
      const summary: DesignSummary = {
        generated_at: DateTime.formatIso(now),
        config: shownConfig,
        sources: settings.sources.map((s) => ({ slug: s.dir, url: s.url, title: s.title, breakpoints: s.breakpoints.map((bp) => bp.id) })),
        artifact_root: layout.relative(layout.root),
        artifacts: artifacts.length,
        by_kind: byKind,
        tokens: Object.fromEntries(tokens.flatMap(([slug, found]) =>
          Option.match(found, {
            onNone: () => [],
            onSome: (t) => [[slug, { colors: t.colors.length, font_families: t.fontFamilies.length, spacing: t.spacing.length }] as const]
          }))),
        diff: {
          status: reports.length === 0 ? "not-run" : reports.every((r) => r.status === "passed") ? "passed" : "failed",
          threshold_percent: settings.maxDiffPercent,
          max_percent: percents.length === 0 ? null : Math.max(...percents)
        },
        motion: {
          videos: artifacts.filter((a) => a.type === "motion-video").length,
          keyframes: artifacts.filter((a) => a.type === "keyframe").length
        },
        retention_days: settings.retentionDays,
        expires_at: DateTime.formatIso(DateTime.addDuration(now, Duration.days(settings.retentionDays))),
        retention
      }
      return summary
    })
}

export const makeRecords = (files: Files["Type"], path: Path.Path, roots: Roots) => {
  /** Every file under `dir` with its size, as paths relative to `root` split in segments. */
  const walk = (root: string, segments: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<FoundFile>, FileAccessError> =>
    Effect.gen(function*() {
      const dir = path.join(root, ...segments)
      const names = yield* files.list(dir)
      const found = yield* Effect.forEach(names, (name) =>
        Effect.gen(function*() {
          const info = yield* files.info(path.join(dir, name))
          if (info?.type === "directory") return yield* walk(root, [...segments, name])
          return info?.type === "file" ? [{ segments: [...segments, name], bytes: info.size }] : []
        }))
      return found.flat()
    })

  const artifactsOf = (layout: DesignLayout) =>
    Effect.gen(function*() {
      const all = yield* walk(layout.root, [])
      const artifacts: Array<DesignArtifact> = []
      const references = new Map<string, DesignArtifact>()
      for (const file of all) {
        const classified = classifyArtifact(file.segments)
        if (classified === undefined) continue
        if (classified.kind === "reference") {
          const folder = path.join(layout.root, "reference", classified.slug)
          const known = references.get(classified.slug)
          references.set(classified.slug, {
            ...classified,
            type: "reference",
            path: layout.relative(folder),
            bytes: (known?.bytes ?? 0) + file.bytes
          })
        } else artifacts.push({ ...classified, path: layout.relative(path.join(layout.root, ...file.segments)), bytes: file.bytes })
      }
      return [...artifacts, ...references.values()].sort((a, b) => a.path.localeCompare(b.path))
    })

  const summaryOf = makeSummary(files, path)
  const retain = makeRetention(files, path, roots)

  /** Writes the out record and the manifest sections; returns their paths and the summary. */
  const write = (layout: DesignLayout, settings: DesignSettings, shownConfig: string, manifestPath: string) =>
    Effect.gen(function*() {
      // Earlier runs first: what retention deletes is reported in this run's summary.
      const retention = yield* retain(layout, settings)
      const artifacts = yield* artifactsOf(layout)
      const summary = yield* summaryOf(layout, settings, shownConfig, artifacts, retention)
      const manifestKnown = (yield* files.info(manifestPath))?.type === "file"
      const record: DesignRunRecord = {
        version: 1,
        task_id: layout.taskId,
        run_id: layout.runId,
        manifest: manifestKnown ? layout.relative(manifestPath) : null,
        design_toolkit_summary: summary,
        design_toolkit_artifacts: artifacts
      }
      yield* files.makeDirectory(path.dirname(layout.outRecord))
      yield* files.writeAtomic(layout.outRecord, `${yield* Effect.orDie(encodeRecord(record))}\n`)
      const sections = path.join(path.dirname(manifestPath), stageSectionsFileName)
      if (manifestKnown) {
        const text = yield* Effect.orDie(encodeSections({ design_toolkit_artifacts: artifacts, design_toolkit_summary: summary }))
        yield* files.writeAtomic(sections, `${text}\n`)
      }
      return { summary, retention, artifacts, outRecord: layout.relative(layout.outRecord), sections: manifestKnown ? layout.relative(sections) : undefined }
    })

  return { write, artifactsOf }
}
