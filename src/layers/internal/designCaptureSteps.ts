/**
 * The design steps that drive the browser: `extract` (per source and breakpoint: full-page
 * screenshot with masks, rendered DOM, computed-style census), `motion` (a scripted scroll as
 * frames, encoded by FFmpeg, key frames kept) and `diff` (the reference copy, served offline,
 * captured the same way and compared pixel by pixel with the live capture).
 */
import type { Path } from "@effect/platform"
import { Console, DateTime, Duration, Effect, Schema } from "effect"
import type { Browser } from "playwright-core"
import type { Breakpoint, DesignSettings, DesignSource } from "../../domain/DesignConfig.js"
import type { DesignLayout } from "../../domain/DesignPaths.js"
import { type DiffEntry, DiffReport } from "../../domain/DesignRecord.js"
import { Census } from "../../domain/DesignTokens.js"
import type { Files } from "../../services/Files.js"
import type { MirrorServer } from "../../services/MirrorServer.js"
import { domAndCensus, fullPageScreenshot, openPage, scrollFrames } from "./designBrowser.js"
import type { makeFileSteps } from "./designFileSteps.js"
import { comparePngs } from "./designImages.js"

const encodeCensus = Schema.encode(Schema.parseJson(Census, { space: 2 }))
const encodeReport = Schema.encode(Schema.parseJson(DiffReport, { space: 2 }))

type FileSteps = ReturnType<typeof makeFileSteps>

export interface CaptureDeps {
  readonly files: Files["Type"]
  readonly path: Path.Path
  readonly steps: FileSteps
  readonly server: MirrorServer["Type"]
}

/** The path and query of a source's page, where the reference copy serves it too. */
export const pagePathOf = (url: string) => {
  const parsed = new URL(url)
  return `${parsed.pathname}${parsed.search}`
}

export const makeCaptureSteps = ({ files, path, server, steps }: CaptureDeps) => {
  /** One breakpoint of one source: screenshot.png, dom.html, census.json under context/<slug>/<breakpoint>/. */
  const extractBreakpoint = (browser: Browser, layout: DesignLayout, settings: DesignSettings, source: DesignSource, breakpoint: Breakpoint) =>
    Effect.gen(function*() {
      const dir = path.join(yield* steps.dirOf(layout, "context", source), breakpoint.id)
      const page = yield* openPage(browser, source.url, breakpoint, settings)
      const screenshot = yield* fullPageScreenshot(page, settings.masks)
      const { census, dom, masked } = yield* domAndCensus(page, settings.masks)
      yield* files.makeDirectory(dir)
      yield* files.writeBytes(path.join(dir, "screenshot.png"), screenshot)
      yield* files.writeAtomic(path.join(dir, "dom.html"), dom, { durable: false })
      yield* files.writeAtomic(path.join(dir, "census.json"), `${yield* Effect.orDie(encodeCensus(census))}\n`, { durable: false })
      yield* Console.error(
        `[design:extract] ${source.dir} @ ${breakpoint.id} (${breakpoint.width}x${breakpoint.height}), ${masked} masked element${masked === 1 ? "" : "s"} emptied in dom.html`
      )
      return ["screenshot.png", "dom.html", "census.json"].map((name) => layout.relative(path.join(dir, name)))
    }).pipe(Effect.scoped)

  const extractSource = (browser: Browser, layout: DesignLayout, settings: DesignSettings, source: DesignSource, verdict: string) =>
    Effect.gen(function*() {
      const written = yield* Effect.forEach(source.breakpoints, (bp) => extractBreakpoint(browser, layout, settings, source, bp))
      const dir = yield* steps.dirOf(layout, "context", source)
      const record = path.join(dir, "source.json")
      const capturedAt = DateTime.formatIso(yield* DateTime.now)
      yield* files.writeAtomic(record, `${JSON.stringify({ ...source, permit: verdict, masks: settings.masks, captured_at: capturedAt }, null, 2)}\n`, { durable: false })
      return {
        line: `${source.dir}: ${source.breakpoints.map((bp) => bp.id).join(", ")} captured from ${source.url}`,
        artifacts: [...written.flat(), layout.relative(record)]
      }
    })

  /** Frames of a scripted scroll at one breakpoint; the caller encodes them. Returns the frame files. */
  const motionFrames = (browser: Browser, settings: DesignSettings, source: DesignSource, breakpoint: Breakpoint, framesDir: string) =>
    Effect.gen(function*() {
      const page = yield* openPage(browser, source.url, breakpoint, { ...settings, masks: [] })
      const frames = yield* scrollFrames(page, settings.scrollSteps, Duration.millis(settings.frameIntervalMs))
      yield* files.removeTree(framesDir)
      yield* files.makeDirectory(framesDir)
      return yield* Effect.forEach(frames, (bytes, i) => {
        const file = path.join(framesDir, `frame-${String(i).padStart(3, "0")}.png`)
        return Effect.as(files.writeBytes(file, bytes), file)
      })
    }).pipe(Effect.scoped)

  /** One breakpoint of the reference copy, captured as the live page was, compared with the live capture. */
  const diffBreakpoint = (browser: Browser, layout: DesignLayout, settings: DesignSettings, source: DesignSource, breakpoint: Breakpoint, base: string) =>
    Effect.gen(function*() {
      const live = path.join(yield* steps.dirOf(layout, "context", source), breakpoint.id, "screenshot.png")
      const liveBytes = yield* Effect.flatMap(files.readAllBytes(live), (bytes) =>
        bytes === undefined ? steps.missing(layout, live, "diff", "extract") : Effect.succeed(bytes))
      const page = yield* openPage(browser, `${base}${pagePathOf(source.url)}`, breakpoint, { ...settings, onlyHost: new URL(base).host })
      const referenceBytes = yield* fullPageScreenshot(page, settings.masks)
      const dir = yield* steps.dirOf(layout, "diffs", source)
      yield* files.makeDirectory(dir)
      const reference = path.join(dir, `${breakpoint.id}-reference.png`)
      const diffImage = path.join(dir, `${breakpoint.id}-diff.png`)
      const compared = comparePngs(liveBytes, referenceBytes)
      yield* files.writeBytes(reference, referenceBytes)
      yield* files.writeBytes(diffImage, compared.image)
      const entry: DiffEntry = {
        breakpoint: breakpoint.id,
        width: compared.width,
        height: compared.height,
        differing_pixels: compared.differing,
        percent: Math.round(compared.percent * 1000) / 1000,
        passed: compared.percent <= settings.maxDiffPercent,
        live: layout.relative(live),
        reference: layout.relative(reference),
        diff: layout.relative(diffImage)
      }
      return entry
    }).pipe(Effect.scoped)

  /** Every breakpoint of one source against its reference copy, served offline; report.json beside the images. */
  const diffSource = (browser: Browser, layout: DesignLayout, settings: DesignSettings, source: DesignSource) =>
    Effect.gen(function*() {
      const root = yield* steps.dirOf(layout, "reference", source)
      if ((yield* files.info(root))?.type !== "directory") return yield* steps.missing(layout, root, "diff", "reference")
      const serving = yield* server.serveFolder({ root, port: 0 })
      const entries = yield* Effect.forEach(source.breakpoints, (bp) => diffBreakpoint(browser, layout, settings, source, bp, serving.url))
      const report: DiffReport = {
        version: 1,
        slug: source.dir,
        threshold_percent: settings.maxDiffPercent,
        status: entries.every((entry) => entry.passed) ? "passed" : "failed",
        breakpoints: entries
      }
      const file = path.join(yield* steps.dirOf(layout, "diffs", source), "report.json")
      yield* files.writeAtomic(file, `${yield* Effect.orDie(encodeReport(report))}\n`, { durable: false })
      return { report, file: layout.relative(file) }
    }).pipe(Effect.scoped)

  return { extractSource, motionFrames, diffSource }
}
