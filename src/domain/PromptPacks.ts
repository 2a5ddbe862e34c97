/**
 * Prompt packs (SPEC INS-4, INS-5): the manifest format under `.agent/prompts/prompt-packs/<name>/`,
 * the order sources are hashed in, the text the stamp is the SHA-256 of, and the manifest entry a run
 * records. Reading files and hashing are effectful and live with the layer; everything here is pure.
 */
import { Schema } from "effect"

/** INS-4: where pack folders live, repo-relative; each one's `manifest.json` is a pack. */
export const promptPacksDir = ".agent/prompts/prompt-packs"

/** The manifest of the pack folder `name`, repo-relative. */
export const promptPackManifestPath = (name: string) => `${promptPacksDir}/${name}/manifest.json`

/** INS-4: the sections in the order their sources are hashed and recorded. `system` is required. */
export const promptPackSections = ["system", "inject", "summarize", "extract", "optimize"] as const
export type PromptPackSection = (typeof promptPackSections)[number]

/**
 * A repo-relative path without `.` and empty segments, or undefined when it is absolute or climbs
 * above the repository root. The stamp hashes this form, as the original did (`relative(root, join(root, p))`).
 */
export const normalizeSourcePath = (path: string): string | undefined => {
  if (path.startsWith("/") || /^[A-Za-z]:[\\/]/.test(path)) return undefined
  const segments: Array<string> = []
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue
    if (segment === "..") {
      if (segments.pop() === undefined) return undefined
    } else {
      segments.push(segment)
    }
  }
  return segments.length === 0 ? undefined : segments.join("/")
}

const badPath = (path: string) =>
  `must be a file path relative to the repository root, inside it (got ${JSON.stringify(path)})`

/** Every problem of a section's value, each at its own path (`inject.1: ...`), not one per union member. */
const sourceListIssues = (value: unknown): ReadonlyArray<Schema.FilterIssue> | string | undefined => {
  if (typeof value === "string") return normalizeSourcePath(value) === undefined ? badPath(value) : undefined
  if (!Array.isArray(value)) return "must be a file path or an array of file paths"
  return value.flatMap((item: unknown, i) =>
    typeof item !== "string"
      ? [{ path: [i], message: `must be a file path (got ${JSON.stringify(item)})` }]
      : normalizeSourcePath(item) === undefined
      ? [{ path: [i], message: badPath(item) }]
      : []
  )
}

/** A section's files: one path, or an array of paths (the original wrote `system` as a string, the others as arrays). */
const SourceList = Schema.Unknown.pipe(
  Schema.filter(sourceListIssues),
  // Only values the filter accepted get here, so this never adds an issue; it gives the type.
  Schema.compose(Schema.Union(Schema.String, Schema.Array(Schema.String)), { strict: false })
)

const NonEmptyText = Schema.String.pipe(Schema.minLength(1, { message: () => "must be a non-empty string" }))

/** INS-4: `.agent/prompts/prompt-packs/<name>/manifest.json` as written by hand or by the original's tools. */
export const PromptPackManifestFile = Schema.Struct({
  id: NonEmptyText,
  domain: NonEmptyText,
  /** Optional here so that a missing stamp is reported with the value to set (PromptPackStampMismatch). */
  stamp: Schema.optional(Schema.String),
  experienceSlots: Schema.optional(
    Schema.Int.pipe(Schema.nonNegative({ message: () => "must be a whole number, 0 or more" }))
  ),
  system: SourceList.pipe(
    Schema.filter((list) => typeof list === "string" || list.length > 0, { message: () => "must name at least one file" })
  ),
  inject: Schema.optional(SourceList),
  summarize: Schema.optional(SourceList),
  extract: Schema.optional(SourceList),
  optimize: Schema.optional(SourceList)
})
export type PromptPackManifestFile = typeof PromptPackManifestFile.Type

/** One file a pack names: its section, its normalized repo-relative path, and where it was named. */
export interface PromptPackSourceRef {
  readonly section: PromptPackSection
  readonly path: string
  /** The manifest field it came from, as issues name it: `system`, `inject.1`, ... */
  readonly field: string
}

/** The files of a decoded manifest in section order, then in the order the manifest lists them. */
export const sourceRefsOf = (manifest: PromptPackManifestFile): ReadonlyArray<PromptPackSourceRef> =>
  promptPackSections.flatMap((section) => {
    const list = manifest[section]
    if (list === undefined) return []
    const paths = typeof list === "string" ? [{ path: list, field: section }] : list.map((path, i) => ({ path, field: `${section}.${i}` }))
    // The schema accepted only paths that normalize, so the fallback never applies.
    return paths.map(({ field, path }) => ({ section, field, path: normalizeSourcePath(path) ?? path }))
  })

/** A source with its content, trimmed (INS-4: the stamp covers trimmed contents). */
export interface PromptPackSource {
  readonly section: PromptPackSection
  readonly path: string
  readonly content: string
}

const compareSources = (a: PromptPackSource, b: PromptPackSource): number => {
  const bySection = promptPackSections.indexOf(a.section) - promptPackSections.indexOf(b.section)
  if (bySection !== 0) return bySection
  // Code-unit order, so a stamp does not depend on the machine's locale.
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0
}

/**
 * INS-4: the text a pack's stamp is the SHA-256 of: the sources ordered by section, then path, each as
 * `<section>:<path>\n<trimmed content>\n`.
 */
export const promptPackStampText = (sources: ReadonlyArray<PromptPackSource>): string =>
  [...sources].sort(compareSources).map((s) => `${s.section}:${s.path}\n${s.content.trim()}\n`).join("")

/** INS-4 / MAN-3: what a run records about a pack. */
export const PromptPackEntry = Schema.Struct({
  id: Schema.String,
  domain: Schema.String,
  stamp: Schema.String,
  experience_slots: Schema.Int,
  /** Repo-relative, in section order, then in the order the manifest lists them. */
  sources: Schema.Array(Schema.String),
  /** TFG-4: up to `experience_slots` formatted top experiences of the pack's domain and the task; absent when none. */
  experiences: Schema.optional(Schema.Array(Schema.String))
})
export type PromptPackEntry = typeof PromptPackEntry.Type

/** INS-4: packs are recorded by domain, then id. */
export const sortPromptPacks = (packs: ReadonlyArray<PromptPackEntry>): ReadonlyArray<PromptPackEntry> =>
  [...packs].sort((a, b) =>
    a.domain !== b.domain ? (a.domain < b.domain ? -1 : 1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0
  )

/**
 * INS-4: a pack whose `stamp` is missing or is not the SHA-256 of its sources: a source changed after
 * the pack was stamped, or nobody stamped it. Bad input (exit 2): nothing runs under an unreviewed pack.
 */
export class PromptPackStampMismatch extends Schema.TaggedError<PromptPackStampMismatch>()("PromptPackStampMismatch", {
  /** Repo-relative path of the pack's manifest.json. */
  path: Schema.String,
  id: Schema.String,
  /** The stamp the manifest declares; absent when it has none. */
  declared: Schema.optional(Schema.String),
  /** The SHA-256 of the sources as they are now: the stamp to set. */
  expected: Schema.String
}) {
  override get message() {
    const what = this.declared === undefined
      ? `Prompt pack ${this.id} is not stamped: ${this.path} has no "stamp".`
      : `Prompt pack ${this.id} stamp mismatch: ${this.path} declares ${this.declared}, but its sources hash to ${this.expected}.`
    return `${what} Review the pack's sources, then set "stamp" to ${this.expected} in ${this.path}.`
  }
}

/** INS-5: the largest experience summary, in words, a pack may ask for. */
export const experienceWordLimit = 32

/**
 * INS-5: `TFGRPO_EXPERIENCE_MAX_WORDS` is not a whole number from 1 to 32. Bad input (exit 2). The
 * environment's value is checked when the settings are decoded (InvalidSetting, src/domain/Settings.ts);
 * this stays for the run engine's error union, which names it.
 */
export class ExperienceWordLimitInvalid extends Schema.TaggedError<ExperienceWordLimitInvalid>()("ExperienceWordLimitInvalid", {
  value: Schema.String
}) {
  override get message() {
    const fix = `Set TFGRPO_EXPERIENCE_MAX_WORDS to a whole number from 1 to ${experienceWordLimit}, or unset it (default ${experienceWordLimit}).`
    return /^\d+$/.test(this.value) && Number(this.value) > 0
      ? `TFGRPO_EXPERIENCE_MAX_WORDS ${Number(this.value)} exceeds the guardrail of ${experienceWordLimit}. ${fix}`
      : `TFGRPO_EXPERIENCE_MAX_WORDS must be a positive integer. Got ${JSON.stringify(this.value)}. ${fix}`
  }
}

/** Everything that makes prompt packs fail to load besides files that are missing, unreadable or malformed. */
export type PromptPackError = PromptPackStampMismatch | ExperienceWordLimitInvalid
