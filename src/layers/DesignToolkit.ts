import { HttpClient, Path } from "@effect/platform"
import { Console, Effect, Layer } from "effect"
import type { Browser } from "playwright-core"
import type { DesignSettings, DesignSource } from "../domain/DesignConfig.js"
import type { DesignLayout } from "../domain/DesignPaths.js"
import type { DesignSummary, RetentionReport } from "../domain/DesignRecord.js"
import { makeRunLayout } from "../domain/RunLayout.js"
import { decodeSettings, designSection } from "../domain/Settings.js"
import { BaseConfig } from "../services/BaseConfig.js"
import {
  DesignDiffExceeded,
  DesignToolFailed,
  DesignToolkit,
  type DesignStepRequest,
  type DesignStepResult,
  type SetupCheck
} from "../services/DesignToolkit.js"
import { Files } from "../services/Files.js"
import { MirrorServer } from "../services/MirrorServer.js"
import { ProcessRunner } from "../services/ProcessRunner.js"
import { findChromium, launchChromium } from "./internal/chromium.js"
import { makeCaptureSteps } from "./internal/designCaptureSteps.js"
import { makeDesignContext } from "./internal/designContext.js"
import { makeFileSteps } from "./internal/designFileSteps.js"
import { makeTools } from "./internal/designMotion.js"
import { makeRecords } from "./internal/designRecords.js"
import { makePublishStep } from "./internal/designPublish.js"
import { makeReferenceStep } from "./internal/designReference.js"
import { type CorrectedDiff, diffParts, makeSelfCorrection } from "./internal/designSelfCorrect.js"

const result = (step: string, parts: ReadonlyArray<{ readonly line: string; readonly artifacts: ReadonlyArray<string> }>): DesignStepResult => ({
  step,
  lines: parts.map((part) => part.line),
  artifacts: parts.flatMap((part) => part.artifacts)
})

/** `design setup`: the browser (required) and FFmpeg (for the optional motion step), and how to get them. */
const setupChecks = (files: Files["Type"], tools: ReturnType<typeof makeTools>) =>
  Effect.gen(function*() {
    const chromium = yield* findChromium(files).pipe(
      Effect.flatMap(tools.browserVersion),
      Effect.catchAll((error) => Effect.succeed({ ok: false, detail: error.message }))
    )
    const ffmpeg = yield* tools.ffmpegVersion
    const checks: ReadonlyArray<SetupCheck> = [
      {
        name: "chromium",
        ok: chromium.ok,
        detail: chromium.detail,
        fix: "apt-get install -y chromium (or set CHROMIUM_PATH to a Chromium or Chrome executable)",
        required: true
      },
      {
        name: "ffmpeg",
        ok: ffmpeg !== undefined,
        detail: ffmpeg ?? "no ffmpeg on the PATH; the motion step (allowFailure) will fail, the rest runs",
        fix: "apt-get install -y ffmpeg",
        required: false
      }
    ]
    return checks
  })

/** The write step's line about retention: what went, or the bounds nothing passed. */
const retentionLine = (r: RetentionReport) => {
  const bounds = `${r.days} days${r.max_runs === null ? "" : `, ${r.max_runs} runs`}`
  if (r.purged.length === 0) return `retention (${bounds}): nothing to delete${r.refused.length === 0 ? "" : `, ${r.refused.length} refused`}`
  const verb = r.auto_purge ? "deleted" : "would delete (autoPurge: false)"
  return `retention (${bounds}): ${verb} the design artifacts of ${r.purged.map((p) => `${p.run_id} (${p.reason})`).join(", ")}` +
    (r.refused.length === 0 ? "" : `; ${r.refused.length} refused`)
}

/** The write step's lines: the artifacts by kind, the diff and motion, retention, where the records went. */
const writeParts = (written: {
  readonly summary: DesignSummary
  readonly retention: RetentionReport
  readonly outRecord: string
  readonly sections: string | undefined
}) => {
  const s = written.summary
  return [
    { line: `${s.artifacts} artifacts (${Object.entries(s.by_kind).map(([k, n]) => `${k} ${n}`).join(", ")})`, artifacts: [] },
    { line: `diff: ${s.diff.status}${s.diff.max_percent === null ? "" : `, worst ${s.diff.max_percent}%`}; motion: ${s.motion.videos} videos`, artifacts: [] },
    { line: retentionLine(written.retention), artifacts: [] },
    { line: `record: ${written.outRecord}`, artifacts: [written.outRecord] },
    ...(written.sections === undefined ? [] : [{ line: `manifest sections: ${written.sections}`, artifacts: [written.sections] }])
  ]
}

interface MotionDeps {
  readonly path: Path.Path
  readonly tools: ReturnType<typeof makeTools>
  readonly steps: ReturnType<typeof makeFileSteps>
  readonly capture: ReturnType<typeof makeCaptureSteps>
}

/** Per source and breakpoint: the scroll's frames, encoded; the key frames kept beside the video. */
const motionOf = ({ capture, path, steps, tools }: MotionDeps, browser: Browser, settings: DesignSettings, layout: DesignLayout) =>
  Effect.forEach(settings.sources, (source) =>
    Effect.gen(function*() {
      const contextDir = yield* steps.dirOf(layout, "context", source)
      const written = yield* Effect.forEach(source.breakpoints, (breakpoint) =>
        Effect.gen(function*() {
          const dir = path.join(contextDir, breakpoint.id, "motion")
          const frames = yield* capture.motionFrames(browser, settings, source, breakpoint, path.join(dir, "frames"))
          const video = path.join(dir, "motion.mp4")
          const keyframes = yield* tools.encode(frames, path.join(dir, "frames"), video, dir, settings.frameIntervalMs)
          yield* Console.error(`[design:motion] ${source.dir} @ ${breakpoint.id}: ${frames.length} frames`)
          return [video, ...keyframes].map(layout.relative)
        }))
      return { line: `${source.dir}: ${written.length} videos, ${written.flat().length - written.length} key frames`, artifacts: written.flat() }
    }))

/**
 * The design toolkit on the Files service, the mirror's server and fetching machinery (HttpClient),
 * Debian's Chromium (chromium.ts, as `mirror check`) and FFmpeg through the ProcessRunner.
 */
export const DesignToolkitLive = Layer.effect(
  DesignToolkit,
  Effect.gen(function*() {
    const files = yield* Files
    const path = yield* Path.Path
    const base = yield* BaseConfig
    const http = yield* HttpClient.HttpClient
    const server = yield* MirrorServer
    const env = yield* decodeSettings(designSection)
    const design = makeDesignContext(files, path, base, env)
    const steps = makeFileSteps(files, path)
    const capture = makeCaptureSteps({ files, path, server, steps })
    const records = makeRecords(files, path, base.roots)
    const runner = yield* ProcessRunner
    const tools = makeTools(runner, files, path, base.roots.repoRoot)
    const publishOf = makePublishStep({ files, path, runner, steps, repoRoot: base.roots.repoRoot })

    const withBrowser = <A, E, R>(use: (browser: Browser) => Effect.Effect<A, E, R>) =>
      Effect.gen(function*() {
        const executable = yield* findChromium(files)
        return yield* use(yield* launchChromium(executable, false))
      }).pipe(Effect.scoped)

    const config = Effect.fn("DesignToolkit.config")(function*(request: DesignStepRequest) {
      const { settings, shown } = yield* design.loadConfig(request)
      const permits = yield* design.permitOf(settings)
      return result("config", settings.sources.map((source, i) => ({
        line: `${source.dir}: ${source.url} at ${source.breakpoints.map((bp) => `${bp.id} ${bp.width}x${bp.height}`).join(", ")} ` +
          `(permit: ${permits[i]?.verdict ?? "unknown"}; config ${shown})`,
        artifacts: []
      })))
    })

    const extract = Effect.fn("DesignToolkit.extract")(function*(request: DesignStepRequest) {
      const context = yield* design.contextOf("extract", request)
      const permits = yield* design.permitOf(context.settings)
      const parts = yield* withBrowser((browser) =>
        Effect.forEach(context.settings.sources, (source, i) =>
          capture.extractSource(browser, context.layout, context.settings, source, permits[i]?.verdict ?? "unknown")))
      return result("extract", parts)
    })

    const tokens = Effect.fn("DesignToolkit.tokens")(function*(request: DesignStepRequest) {
      const context = yield* design.contextOf("tokens", request)
      return result("tokens", yield* Effect.forEach(context.settings.sources, (s) => steps.tokensOfSource(context.layout, s)))
    })

    const styleguide = Effect.fn("DesignToolkit.styleguide")(function*(request: DesignStepRequest) {
      const context = yield* design.contextOf("styleguide", request)
      return result("styleguide", yield* Effect.forEach(context.settings.sources, (s) => steps.styleguideOfSource(context.layout, s)))
    })

    /** The reference step of one source; downloads cached per task between runs. */
    const referenceOf = (layout: DesignLayout, source: DesignSource) =>
      makeReferenceStep({ files, path, http, steps, cacheRoot: path.join(base.roots.runsRoot, layout.taskId, "design", "cache") })(layout, source)
    const selfCorrect = makeSelfCorrection({ files, path, steps, capture, restage: referenceOf })

    const reference = Effect.fn("DesignToolkit.reference")(function*(request: DesignStepRequest) {
      const context = yield* design.contextOf("reference", request)
      return result("reference", yield* Effect.forEach(context.settings.sources, (s) => referenceOf(context.layout, s)))
    })

    const motion = Effect.fn("DesignToolkit.motion")(function*(request: DesignStepRequest) {
      const context = yield* design.contextOf("motion", request)
      if ((yield* tools.ffmpegVersion) === undefined) {
        return yield* new DesignToolFailed({ tool: "ffmpeg", detail: "not found on the PATH; install it (apt-get install -y ffmpeg) or see `codex-orchestrator design setup`" })
      }
      return result("motion", yield* withBrowser((browser) => motionOf({ path, tools, steps, capture }, browser, context.settings, context.layout)))
    })

    const diff = Effect.fn("DesignToolkit.diff")(function*(request: DesignStepRequest) {
      const context = yield* design.contextOf("diff", request)
      const { layout, settings } = context
      const reports = yield* withBrowser((browser) =>
        Effect.forEach(settings.sources, (source) =>
          Effect.flatMap(capture.diffSource(browser, layout, settings, source), (first) =>
            first.report.status === "failed" && settings.selfCorrectionIterations > 0
              ? selfCorrect(browser, layout, settings, source, first)
              : Effect.succeed<CorrectedDiff>({ ...first, iterations: [], record: undefined }))))
      const { parts, worst } = diffParts(reports)
      const outcome = result("diff", parts)
      if (worst !== undefined && !worst.entry.passed) {
        yield* Console.log(outcome.lines.join("\n"))
        return yield* new DesignDiffExceeded({ worst: `${worst.slug} @ ${worst.entry.breakpoint}`, percent: worst.entry.percent, threshold: context.settings.maxDiffPercent })
      }
      return outcome
    })

    const publish = Effect.fn("DesignToolkit.publish")(function*(request: DesignStepRequest) {
      const context = yield* design.contextOf("publish", request)
      return result("publish", yield* publishOf(context.layout, context.settings))
    })

    const write = Effect.fn("DesignToolkit.write")(function*(request: DesignStepRequest) {
      const context = yield* design.contextOf("write", request)
      const manifestPath = env.stageManifestPath ?? makeRunLayout(path, base.roots, context.layout.taskId, context.layout.runId).manifest
      const written = yield* records.write(context.layout, context.settings, context.shown, manifestPath)
      return result("write", writeParts(written))
    })

    return DesignToolkit.of({ setup: setupChecks(files, tools), config, extract, tokens, styleguide, reference, motion, diff, publish, write })
  })
)
