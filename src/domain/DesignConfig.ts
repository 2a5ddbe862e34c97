/**
 * `design.config.yaml` (SPEC DES-1): what the hi-fi design toolkit captures and how. A schema for
 * the file as written, every bad field reported at once, and the settings with their defaults.
 * The YAML text is parsed by the caller (the `yaml` package); this module sees plain data.
 */
import { ParseResult, Predicate, Schema } from "effect"
import { idProblem } from "./Ids.js"

/** The design config's name at the repository root (DESIGN_CONFIG_PATH overrides it, CFG-10). */
export const designConfigFileName = "design.config.yaml"

const HttpUrl = Schema.String.pipe(
  Schema.filter((text) => {
    if (!URL.canParse(text)) return "must be an absolute URL such as https://example.com/"
    const protocol = new URL(text).protocol
    return protocol === "http:" || protocol === "https:" ? true : "must be an http:// or https:// URL"
  })
)

/** DES-3: a slug names a folder; it is one safe path segment (no `..`, no slashes). */
export const Slug = Schema.String.pipe(
  Schema.filter((text) => {
    const problem = idProblem(text)
    return problem === undefined ? true : `${problem.replace(/\.$/, "")} (a slug names a folder: letters, digits, '-', '_' or '.')`
  })
)

const Pixels = (what: string) =>
  Schema.Int.pipe(Schema.between(100, 8000, { message: () => `must be a whole number of pixels from 100 to 8000 (${what})` }))

/** The viewports the original offered by name; anything else is written `{id, width, height}`. */
export const breakpointPresets: Readonly<Record<string, { readonly width: number; readonly height: number }>> = {
  mobile: { width: 390, height: 844 },
  tablet: { width: 768, height: 1024 },
  desktop: { width: 1280, height: 800 },
  wide: { width: 1920, height: 1080 }
}

const presetProblem = `must be one of ${Object.keys(breakpointPresets).join(", ")}, or {id, width, height}`

const PresetName = Schema.String.pipe(Schema.filter((name) => name in breakpointPresets ? true : presetProblem))

const BreakpointSize = Schema.Struct({ id: Slug, width: Pixels("width"), height: Schema.optional(Pixels("height")) })

const BreakpointForms = Schema.Union(PresetName, BreakpointSize)

/**
 * A preset's name or a size, told apart by the value's type: a Union would report a bad entry once
 * per form ("phone" also got `Expected { readonly id: ...; readonly width: Int & between(100, 8000) ... }`).
 */
export const BreakpointEntry = Schema.transformOrFail(Schema.Unknown, Schema.typeSchema(BreakpointForms), {
  strict: true,
  decode: (entry, options, ast) =>
    typeof entry === "string"
      ? ParseResult.decodeUnknown(PresetName)(entry, options)
      : Predicate.isRecord(entry)
      ? ParseResult.decodeUnknown(BreakpointSize)(entry, options)
      : ParseResult.fail(new ParseResult.Type(ast, entry, presetProblem)),
  encode: ParseResult.succeed
})

const Source = Schema.Struct({
  url: HttpUrl,
  slug: Slug,
  title: Schema.optional(Schema.String),
  breakpoints: Schema.optional(Schema.Array(BreakpointEntry).pipe(Schema.minItems(1, { message: () => "must list at least one breakpoint" })))
})

const Selector = Schema.String.pipe(Schema.minLength(1, { message: () => "must be a non-empty CSS selector" }))

const Milliseconds = (max: number) =>
  Schema.Int.pipe(Schema.between(0, max, { message: () => `must be a whole number of milliseconds from 0 to ${max}` }))

/** Scripted interaction: how long to let a page settle, and how the motion capture scrolls. */
const Interactions = Schema.Struct({
  waitAfterLoadMs: Schema.optional(Milliseconds(30_000)),
  scrollSteps: Schema.optional(Schema.Int.pipe(Schema.between(1, 120, { message: () => "must be a whole number from 1 to 120" }))),
  frameIntervalMs: Schema.optional(Milliseconds(2_000))
})

/**
 * How long a task keeps its design runs' artifacts: a run whose age passes `days`, or beyond the
 * newest `maxRuns`, loses its `artifacts/design-toolkit/` folder when `design write` runs;
 * `autoPurge: false` only reports what would go.
 */
const Retention = Schema.Struct({
  days: Schema.optional(Schema.Int.pipe(Schema.between(1, 3650, { message: () => "must be a whole number of days from 1 to 3650" }))),
  maxRuns: Schema.optional(Schema.Int.pipe(Schema.between(1, 1000, { message: () => "must be a whole number of runs from 1 to 1000" }))),
  autoPurge: Schema.optional(Schema.Boolean)
})

const Diff = Schema.Struct({
  maxPercent: Schema.Number.pipe(Schema.between(0, 100, { message: () => "must be a percentage from 0 to 100" }))
})

/** A folder given relative to the repository root that cannot leave it (publish writes there). */
const RepoFolder = Schema.String.pipe(
  Schema.filter((text) => {
    if (text.trim().length === 0) return "must name a folder inside the repository"
    if (text.startsWith("/") || /^[A-Za-z]:/.test(text)) return "must be relative to the repository root, not absolute"
    return text.split(/[/\\]/).includes("..") ? "must stay inside the repository (no `..` segments)" : true
  })
)

/** `design publish`: copy each source's tokens into the repository, then run the given commands. */
const Publish = Schema.Struct({
  enabled: Schema.optional(Schema.Boolean),
  tokensDir: Schema.optional(RepoFolder),
  commands: Schema.optional(Schema.Array(Schema.String.pipe(Schema.minLength(1, { message: () => "must be a non-empty command line" }))))
})

/** `design diff`: when a breakpoint is over the threshold, try to correct the reference copy. */
const SelfCorrection = Schema.Struct({
  enabled: Schema.optional(Schema.Boolean),
  maxIterations: Schema.optional(Schema.Int.pipe(Schema.between(1, 2, { message: () => "must be 1 or 2 (one iteration per correction strategy)" })))
})

export const ToolkitSection = Schema.Struct({
  enabled: Schema.optional(Schema.Boolean),
  sources: Schema.optional(Schema.Array(Source)),
  breakpoints: Schema.optional(Schema.Array(BreakpointEntry)),
  masks: Schema.optional(Schema.Array(Selector)),
  retention: Schema.optional(Retention),
  interactions: Schema.optional(Interactions),
  diff: Schema.optional(Diff),
  publish: Schema.optional(Publish),
  selfCorrection: Schema.optional(SelfCorrection)
})

/** The file as written. Only `pipelines.hi_fi_design_toolkit` and `metadata.design.enabled` are read. */
export const DesignConfigFile = Schema.Struct({
  metadata: Schema.optional(Schema.Struct({ design: Schema.optional(Schema.Struct({ enabled: Schema.optional(Schema.Boolean) })) })),
  pipelines: Schema.optional(Schema.Struct({ hi_fi_design_toolkit: Schema.optional(ToolkitSection) }))
})
export type DesignConfigFile = typeof DesignConfigFile.Type

export interface Breakpoint {
  readonly id: string
  readonly width: number
  readonly height: number
}

export interface DesignSource {
  readonly url: string
  /** The configured slug. */
  readonly slug: string
  /** DES-3: the folder name, the slug suffixed `-1`, `-2`… when an earlier source has it. */
  readonly dir: string
  readonly title: string
  readonly breakpoints: ReadonlyArray<Breakpoint>
}

/** The configuration with every default applied: what the steps work from. */
export interface DesignSettings {
  readonly enabled: boolean
  readonly referenceEnabled: boolean
  readonly sources: ReadonlyArray<DesignSource>
  readonly masks: ReadonlyArray<string>
  readonly retentionDays: number
  /** Undefined: no bound on the number of runs, only on their age. */
  readonly retentionMaxRuns: number | undefined
  readonly retentionAutoPurge: boolean
  readonly waitAfterLoadMs: number
  readonly scrollSteps: number
  readonly frameIntervalMs: number
  readonly maxDiffPercent: number
  readonly publishEnabled: boolean
  /** Repository-relative. */
  readonly publishTokensDir: string
  readonly publishCommands: ReadonlyArray<string>
  /** 0 when self-correction is off. */
  readonly selfCorrectionIterations: number
}

/** Where `design publish` puts tokens unless `publish.tokensDir` says otherwise (the original's place). */
export const defaultPublishTokensDir = "packages/design-system/tokens/src/hi-fi"

export const defaultBreakpoints: ReadonlyArray<string> = ["desktop", "mobile"]

const breakpointOf = (entry: typeof BreakpointEntry.Type): Breakpoint => {
  if (typeof entry === "string") {
    const preset = breakpointPresets[entry] ?? { width: 1280, height: 800 }
    return { id: entry, ...preset }
  }
  return { id: entry.id, width: entry.width, height: entry.height ?? Math.round(entry.width * 0.625) }
}

/** DES-3: the first source keeps its slug; a later one with the same slug gets `-1`, `-2`… */
export const uniqueDirs = (slugs: ReadonlyArray<string>): ReadonlyArray<string> => {
  const taken = new Set<string>()
  return slugs.map((slug) => {
    let dir = slug
    for (let n = 1; taken.has(dir); n += 1) dir = `${slug}-${n}`
    taken.add(dir)
    return dir
  })
}

export const resolveDesignConfig = (file: DesignConfigFile): DesignSettings => {
  const toolkit = file.pipelines?.hi_fi_design_toolkit ?? {}
  const shared = toolkit.breakpoints ?? defaultBreakpoints
  const sources = toolkit.sources ?? []
  const dirs = uniqueDirs(sources.map((source) => source.slug))
  return {
    enabled: toolkit.enabled ?? false,
    referenceEnabled: file.metadata?.design?.enabled ?? false,
    sources: sources.map((source, index) => ({
      url: source.url,
      slug: source.slug,
      dir: dirs[index] ?? source.slug,
      title: source.title ?? source.slug,
      breakpoints: (source.breakpoints ?? shared).map(breakpointOf)
    })),
    masks: toolkit.masks ?? [],
    retentionDays: toolkit.retention?.days ?? 30,
    retentionMaxRuns: toolkit.retention?.maxRuns,
    retentionAutoPurge: toolkit.retention?.autoPurge ?? true,
    waitAfterLoadMs: toolkit.interactions?.waitAfterLoadMs ?? 300,
    scrollSteps: toolkit.interactions?.scrollSteps ?? 12,
    frameIntervalMs: toolkit.interactions?.frameIntervalMs ?? 100,
    maxDiffPercent: toolkit.diff?.maxPercent ?? 2,
    publishEnabled: toolkit.publish?.enabled ?? false,
    publishTokensDir: toolkit.publish?.tokensDir ?? defaultPublishTokensDir,
    publishCommands: toolkit.publish?.commands ?? [],
    selfCorrectionIterations: toolkit.selfCorrection?.enabled === true ? toolkit.selfCorrection.maxIterations ?? 2 : 0
  }
}

/** The breakpoint ids of one source must be unique: they name folders too. */
export const duplicateBreakpointIssues = (file: DesignConfigFile): ReadonlyArray<string> => {
  const sources = file.pipelines?.hi_fi_design_toolkit?.sources ?? []
  return sources.flatMap((source, index) => {
    const ids = (source.breakpoints ?? []).map((entry) => breakpointOf(entry).id)
    const duplicates = [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))]
    return duplicates.map((id) =>
      `pipelines.hi_fi_design_toolkit.sources.${index}.breakpoints: breakpoint "${id}" is listed twice; give each an id of its own`
    )
  })
}

/**
 * The smallest valid config on one line (YAML flow style), for an error line, which is one line
 * whatever it says: one source, two breakpoints.
 */
export const oneLineDesignConfig = (url: string, slug: string) =>
  `pipelines: {hi_fi_design_toolkit: {enabled: true, sources: [{url: "${url}", slug: ${slug}, title: ${slug}, ` +
  "breakpoints: [desktop, mobile]}]}}"
