/**
 * Self-correction at `design diff` (SPEC DES-1 `self-correction`): when a source's reference copy
 * differs from the live capture by more than the threshold, up to `selfCorrection.maxIterations`
 * corrections are tried, one strategy per iteration, each followed by a new diff:
 *  1. `restage`: the copy made again with the mirror's machinery (the task's download cache first),
 *     for a copy that was edited or damaged after it was made;
 *  2. `rendered-dom`: the copy's page replaced by the DOM extract captured from the live page
 *     (scripts dropped: it is already rendered; the origin's URLs made root-relative), for a page
 *     whose content scripts build from what the copy cannot reach offline.
 * A correction is kept only when the worst breakpoint's difference went down; otherwise the copy is
 * put back as it was. Each iteration is recorded in `diffs/<slug>/self-correction.json`.
 */
import type { Path } from "@effect/platform"
import { Console, Effect, Schema } from "effect"
import type { Browser } from "playwright-core"
import type { DesignSettings, DesignSource } from "../../domain/DesignConfig.js"
import type { DesignLayout } from "../../domain/DesignPaths.js"
import type { DiffReport } from "../../domain/DesignRecord.js"
import { withScrollFallback } from "../../domain/DesignStyleguide.js"
import type { Files } from "../../services/Files.js"
import type { makeCaptureSteps } from "./designCaptureSteps.js"
import type { makeFileSteps } from "./designFileSteps.js"
import { pageFilesOf } from "./designReference.js"

export const SelfCorrectionIteration = Schema.Struct({
  iteration: Schema.Int,
  strategy: Schema.Literal("restage", "rendered-dom"),
  error_rate_before: Schema.Number,
  error_rate_after: Schema.NullOr(Schema.Number),
  kept: Schema.Boolean,
  error: Schema.NullOr(Schema.String)
})
export type SelfCorrectionIteration = typeof SelfCorrectionIteration.Type

const encodeRecord = Schema.encode(Schema.parseJson(Schema.Struct({
  version: Schema.Literal(1),
  slug: Schema.String,
  threshold_percent: Schema.Number,
  status: Schema.Literal("passed", "failed"),
  iterations: Schema.Array(SelfCorrectionIteration)
}), { space: 2 }))

/** A source's diff after self-correction (none tried: no iterations, no record). */
export interface CorrectedDiff {
  readonly report: DiffReport
  readonly file: string
  readonly iterations: ReadonlyArray<SelfCorrectionIteration>
  readonly record: string | undefined
}

/** The diff step's lines (corrections, then each breakpoint, then the reports) and its worst breakpoint. */
export const diffParts = (reports: ReadonlyArray<CorrectedDiff>) => {
  const corrections = reports.flatMap((r) => [
    ...r.iterations.map((it) => ({
      line: `${r.report.slug}: self-correction ${it.iteration} (${it.strategy}) ${it.error_rate_before.toFixed(3)}% -> ` +
        `${it.error_rate_after === null ? "failed" : `${it.error_rate_after.toFixed(3)}%`}, ${it.kept ? "kept" : "discarded"}`,
      artifacts: []
    })),
    ...(r.record === undefined ? [] : [{ line: `self-correction record: ${r.record}`, artifacts: [r.record] }])
  ])
  const entries = reports.flatMap(({ report }) => report.breakpoints.map((entry) => ({ slug: report.slug, entry })))
  const worst = entries.reduce<(typeof entries)[number] | undefined>((w, e) => (w === undefined || e.entry.percent > w.entry.percent ? e : w), undefined)
  const lines = entries.map(({ entry, slug }) => ({
    line: `${slug} @ ${entry.breakpoint}: ${entry.percent.toFixed(3)}% differs (${entry.passed ? "ok" : "over the threshold"})`,
    artifacts: [entry.reference, entry.diff]
  }))
  return { parts: [...corrections, ...lines, ...reports.map((r) => ({ line: `report: ${r.file}`, artifacts: [r.file] }))], worst }
}

export interface SelfCorrectDeps {
  readonly files: Files["Type"]
  readonly path: Path.Path
  readonly steps: ReturnType<typeof makeFileSteps>
  readonly capture: ReturnType<typeof makeCaptureSteps>
  /** Makes the source's reference copy again (the `design reference` step for one source). */
  readonly restage: (layout: DesignLayout, source: DesignSource) => Effect.Effect<unknown, { readonly message: string }>
}

const worstOf = (report: DiffReport) => Math.max(0, ...report.breakpoints.map((entry) => entry.percent))

/** The live page's rendered DOM as a static page served from the copy's root. */
export const staticSnapshot = (dom: string, origin: string) =>
  withScrollFallback(dom.replace(/<script\b[^>]*>[\s\S]*?<\/script\s*>/gi, "").split(`${origin}/`).join("/"))

export const makeSelfCorrection = ({ capture, files, path, restage, steps }: SelfCorrectDeps) => {
  const renderedDom = (layout: DesignLayout, source: DesignSource) =>
    Effect.gen(function*() {
      const first = source.breakpoints[0]?.id ?? ""
      const domFile = path.join(yield* steps.dirOf(layout, "context", source), first, "dom.html")
      const dom = yield* steps.readInput(layout, domFile, "diff", "extract")
      const page = staticSnapshot(dom, new URL(source.url).origin)
      const dir = yield* steps.dirOf(layout, "reference", source)
      yield* Effect.forEach(pageFilesOf(path, dir, source), (file) => files.writeAtomic(file, page, { durable: false }))
    })

  const strategies = [
    { name: "restage", apply: restage },
    { name: "rendered-dom", apply: renderedDom }
  ] as const

  return (browser: Browser, layout: DesignLayout, settings: DesignSettings, source: DesignSource, first: { readonly report: DiffReport; readonly file: string }) =>
    Effect.gen(function*() {
      let current = first
      const iterations: Array<SelfCorrectionIteration> = []
      const dir = yield* steps.dirOf(layout, "reference", source)
      const backup = path.join(path.dirname(dir), `.${source.dir}.self-correction-backup`)
      for (const [index, strategy] of strategies.slice(0, settings.selfCorrectionIterations).entries()) {
        if (current.report.status === "passed") break
        const before = worstOf(current.report)
        yield* files.removeTree(backup)
        yield* files.copyTree(dir, backup)
        const applied = yield* Effect.either(strategy.apply(layout, source))
        const next = applied._tag === "Right" ? yield* capture.diffSource(browser, layout, settings, source) : undefined
        const after = next === undefined ? null : worstOf(next.report)
        const kept = next !== undefined && after !== null && after < before
        if (kept) {
          yield* files.removeTree(backup)
          current = next
        } else {
          yield* files.removeTree(dir)
          yield* files.rename(backup, dir)
          // The report and images on disk must describe the copy that stays.
          if (next !== undefined) current = yield* capture.diffSource(browser, layout, settings, source)
        }
        const error = applied._tag === "Left" ? applied.left.message : null
        iterations.push({ iteration: index + 1, strategy: strategy.name, error_rate_before: before, error_rate_after: after, kept, error })
        yield* Console.error(
          `[design:diff] ${source.dir}: self-correction ${index + 1} (${strategy.name}): ${before.toFixed(3)}% -> ` +
            `${after === null ? `failed (${error ?? ""})` : `${after.toFixed(3)}%`}, ${kept ? "kept" : "discarded"}`
        )
      }
      const record = path.join(yield* steps.dirOf(layout, "diffs", source), "self-correction.json")
      const text = yield* Effect.orDie(encodeRecord({ version: 1, slug: source.dir, threshold_percent: settings.maxDiffPercent, status: current.report.status, iterations }))
      yield* files.writeAtomic(record, `${text}\n`, { durable: false })
      const corrected: CorrectedDiff = { ...current, iterations, record: layout.relative(record) }
      return corrected
    })
}
