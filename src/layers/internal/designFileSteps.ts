/**
 * The design steps that only read and write files: `tokens` (censuses -> tokens.json, tokens.css)
 * and `styleguide` (tokens and screenshots -> a static page). Each reads what the step before it
 * left under the run's artifacts folder and says which step to run when that is missing.
 */
import type { Path } from "@effect/platform"
import { Effect, Schema } from "effect"
import type { DesignSource } from "../../domain/DesignConfig.js"
import { type ArtifactKind, type DesignLayout } from "../../domain/DesignPaths.js"
import { styleguideHtml } from "../../domain/DesignStyleguide.js"
import { Census, DesignTokens, tokensCss, tokensOf } from "../../domain/DesignTokens.js"
import { decodeJsonFile } from "../../domain/FileErrors.js"
import { DesignStepMissingInput } from "../../services/DesignToolkit.js"
import type { Files } from "../../services/Files.js"
import { pngSize } from "./designImages.js"

const encodeTokens = Schema.encode(Schema.parseJson(DesignTokens, { space: 2 }))

export const makeFileSteps = (files: Files["Type"], path: Path.Path) => {
  /** `<kind>/<slug>` of the run, or the refusal of an unsafe slug (DES-3). */
  const dirOf = (layout: DesignLayout, kind: ArtifactKind, source: DesignSource) => {
    const dir = layout.dir(kind, source.dir)
    return typeof dir === "string" ? Effect.succeed(dir) : Effect.fail(dir)
  }

  /** `step` needs `file`, which the step `needs` writes. */
  const missing = (layout: DesignLayout, file: string, step: string, needs: string) =>
    Effect.fail(new DesignStepMissingInput({ step, missing: layout.relative(file), needs }))

  const readInput = (layout: DesignLayout, file: string, step: string, needs: string) =>
    Effect.flatMap(files.readText(file), (text) => text === undefined ? missing(layout, file, step, needs) : Effect.succeed(text))

  const readBytesInput = (layout: DesignLayout, file: string, step: string, needs: string) =>
    Effect.flatMap(files.readAllBytes(file), (bytes) => bytes === undefined ? missing(layout, file, step, needs) : Effect.succeed(bytes))

  /** tokens.json and tokens.css of one source, from the census of each of its breakpoints. */
  const tokensOfSource = (layout: DesignLayout, source: DesignSource) =>
    Effect.gen(function*() {
      const context = yield* dirOf(layout, "context", source)
      const censuses = yield* Effect.forEach(source.breakpoints, (breakpoint) =>
        Effect.gen(function*() {
          const file = path.join(context, breakpoint.id, "census.json")
          const text = yield* readInput(layout, file, "tokens", "extract")
          return { breakpoint: breakpoint.id, census: yield* decodeJsonFile(Census, layout.relative(file))(text) }
        }))
      const tokens = tokensOf({ slug: source.dir, url: source.url, title: source.title }, censuses)
      const dir = yield* dirOf(layout, "tokens", source)
      yield* files.makeDirectory(dir)
      const json = path.join(dir, "tokens.json")
      const css = path.join(dir, "tokens.css")
      yield* files.writeAtomic(json, `${yield* Effect.orDie(encodeTokens(tokens))}\n`, { durable: false })
      yield* files.writeAtomic(css, tokensCss(tokens), { durable: false })
      const top = (values: ReadonlyArray<{ readonly value: string }>) => values.slice(0, 3).map((v) => v.value).join(", ")
      return {
        line: `${source.dir}: ${tokens.colors.length} colours (${top(tokens.colors)}), ${tokens.fontFamilies.length} font families ` +
          `(${top(tokens.fontFamilies)}), ${tokens.spacing.length} spacings, ${tokens.radii.length} radii`,
        artifacts: [layout.relative(json), layout.relative(css)]
      }
    })

  /** The style guide of one source: index.html, tokens.css and a PNG per breakpoint, side by side. */
  const styleguideOfSource = (layout: DesignLayout, source: DesignSource) =>
    Effect.gen(function*() {
      const tokensDir = yield* dirOf(layout, "tokens", source)
      const tokensFile = path.join(tokensDir, "tokens.json")
      const tokens = yield* Effect.flatMap(
        readInput(layout, tokensFile, "styleguide", "tokens"),
        decodeJsonFile(DesignTokens, layout.relative(tokensFile))
      )
      const context = yield* dirOf(layout, "context", source)
      const dir = yield* dirOf(layout, "styleguide", source)
      yield* files.makeDirectory(dir)
      const shots = yield* Effect.forEach(source.breakpoints, (breakpoint) =>
        Effect.gen(function*() {
          const bytes = yield* readBytesInput(layout, path.join(context, breakpoint.id, "screenshot.png"), "styleguide", "extract")
          yield* files.writeBytes(path.join(dir, `${breakpoint.id}.png`), bytes)
          return { breakpoint: breakpoint.id, width: yield* Effect.sync(() => pngSize(bytes).width), href: `${breakpoint.id}.png` }
        }))
      yield* files.writeAtomic(path.join(dir, "tokens.css"), tokensCss(tokens), { durable: false })
      const page = path.join(dir, "index.html")
      yield* files.writeAtomic(page, styleguideHtml(tokens, shots), { durable: false })
      return { line: `${source.dir}: ${layout.relative(page)}`, artifacts: [layout.relative(page)] }
    })

  return { dirOf, missing, readInput, tokensOfSource, styleguideOfSource }
}
