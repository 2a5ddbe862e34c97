/**
 * Decoding of the files we read (config, manifests) and the errors a user sees when one is wrong.
 * Every problem is reported with its field path, all of them at once (STYLE 4.8: `errors: "all"`).
 */
import { Effect, ParseResult, Schema } from "effect"
import { oneLine } from "./OneLine.js"

/** A file we read that does not match its schema. `message` is what the user sees. */
export class InvalidFile extends Schema.TaggedError<InvalidFile>()("InvalidFile", {
  path: Schema.String,
  issues: Schema.Array(Schema.String),
  hint: Schema.optional(Schema.String)
}) {
  override get message() {
    const hint = this.hint === undefined ? "" : ` ${this.hint}`
    const issues = this.issues.join("; ")
    return `${this.path} is not valid: ${issues}${issues.endsWith(".") ? "" : "."}${hint}`
  }
}

/** The system's words of a file error's cause (`EACCES: permission denied, open '…'`), which carry its code. */
export const systemReason = (error: { readonly cause: unknown }): string => error.cause instanceof Error ? error.cause.message : String(error.cause)

/** A file we could not read or write; `operation` says what we tried. */
export class FileAccessError extends Schema.TaggedError<FileAccessError>()("FileAccessError", {
  path: Schema.String,
  operation: Schema.String,
  cause: Schema.Defect
}) {
  override get message() {
    const reason = systemReason(this)
    // The ones a user can act on without reading the system's words come first, naming the file.
    if (reason.includes("ENOSPC")) return `No space left on device writing ${this.path} (${this.operation}); free some space and try again.`
    if (reason.includes("EROFS")) return `Read-only file system: could not ${this.operation} ${this.path}; make it writable or choose another folder.`
    if (reason.includes("EISDIR")) return `${this.path} is a folder, not a file: could not ${this.operation} it; remove the folder or point to the file.`
    if (reason.includes("ENOTDIR")) {
      return `Could not ${this.operation} ${this.path}: a folder on its way is a file (ENOTDIR); move that file aside or choose another path.`
    }
    if (reason.includes("EACCES") || reason.includes("EPERM")) {
      return `Permission denied: could not ${this.operation} ${this.path}; choose a path you have access to, or change its permissions.`
    }
    return `Could not ${this.operation} ${this.path}: ${reason}`
  }
}

/** The most of an item's id a path's naming shows. */
const shownIdLength = 40

/** An array item's `id`, as a path names it: one line, cut; none when it has no string id. */
const itemId = (item: unknown): string | undefined => {
  if (typeof item !== "object" || item === null || !("id" in item) || typeof item.id !== "string" || item.id === "") return undefined
  const id = oneLine(item.id)
  return id.length > shownIdLength ? `${id.slice(0, shownIdLength)}…` : id
}

/**
 * The items with an `id` that an issue's path goes through, named (`pipeline "deploy", stage
 * "notify"`): in a config of many pipelines, `pipelines.7.stages.12` alone has the user count.
 */
const namedItems = (document: unknown, path: ReadonlyArray<PropertyKey>): string => {
  const names: Array<string> = []
  let at = document
  let key = "item"
  for (const segment of path) {
    const inArray = Array.isArray(at)
    at = typeof at === "object" && at !== null ? (at as Record<PropertyKey, unknown>)[segment] : undefined
    const id = inArray ? itemId(at) : undefined
    if (id !== undefined) names.push(`${key.endsWith("s") ? key.slice(0, -1) : key} "${id}"`)
    key = typeof segment === "string" ? segment : "item"
  }
  return names.length === 0 ? "" : ` (${names.join(", ")})`
}

/** The longest expected type or actual value an issue quotes; past it, a schema's whole type is no help. */
const quotedMax = 80

const plurals: Readonly<Record<string, string>> = { string: "strings", number: "numbers", boolean: "booleans" }

/**
 * A structure's type (as ParseResult prints it) in words: `an array of strings`, `an array`,
 * `an object`; a refinement (`{ string | filter }`) as its base type. Undefined for any other type.
 */
const typeInWords = (type: string): string | undefined => {
  const refined = /^\{ (.*) \| filter \}$/s.exec(type)?.[1]
  if (refined !== undefined) return typeInWords(refined) ?? refined
  const element = /^(?:ReadonlyArray|Array)<(.*)>$/s.exec(type)?.[1]
  if (element !== undefined) {
    const plural = plurals[typeInWords(element) ?? element]
    return plural === undefined ? "an array" : `an array of ${plural}`
  }
  if (type.startsWith("readonly [") || type.startsWith("[")) return "an array"
  if (type.startsWith("{")) return "an object"
  return undefined
}

/** What a schema's type expects: a structure in words, any other type as printed when short, else cut. */
const expectedText = (type: string) => typeInWords(type) ?? (type.length <= quotedMax ? type : `${type.slice(0, quotedMax)}…`)

const expectedShape = /^Expected (.*), actual (.*)$/s

/**
 * One short issue a path: a long expected type is named by its kind (`Expected an array, actual 5`, not
 * the element schema's whole type), and a union's alternatives, reported one issue each with the same
 * actual value, are joined (`Expected "queued" | "failed", actual 7`).
 */
const shortIssues = <I extends { readonly path: string; readonly message: string }>(issues: ReadonlyArray<I>): ReadonlyArray<I> => {
  const merged: Array<{ issue: I; expected: Array<string>; actual: string | undefined }> = []
  for (const issue of issues) {
    const [, expected, actual] = expectedShape.exec(issue.message) ?? []
    if (expected === undefined || actual === undefined) {
      merged.push({ issue, expected: [], actual: undefined })
      continue
    }
    const shown = actual.length <= quotedMax ? actual : `${actual.slice(0, quotedMax)}…`
    const text = expectedText(expected)
    const same = merged.find((m) => m.issue.path === issue.path && m.actual === shown)
    if (same === undefined) merged.push({ issue, expected: [text], actual: shown })
    else if (!same.expected.includes(text)) same.expected.push(text)
  }
  return merged.map(({ actual, expected, issue }) =>
    actual === undefined ? issue : { ...issue, message: `Expected ${expected.join(" | ")}, actual ${actual}` }
  )
}

/**
 * Formats a ParseError as `field.path: problem` lines; given the decoded document, a path through
 * array items that have an `id` names them after it.
 */
export const formatIssues = (error: ParseResult.ParseError, document?: unknown): ReadonlyArray<string> => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) => ({
    path: issue.path.length > 0 ? issue.path.join(".") : "(root)",
    names: namedItems(document, issue.path),
    message: issue.message
  }))
  // An optional field with a bad value also reports "Expected undefined"; the other issue says more.
  const informative = issues.filter((issue) =>
    !(issue.message.startsWith("Expected undefined") &&
      issues.some((other) => other !== issue && (other.path === issue.path || other.path.startsWith(`${issue.path}.`))))
  )
  return shortIssues(informative).map((issue) => `${issue.path}${issue.names}: ${issue.message}`)
}

/**
 * The deepest nesting of arrays and objects a file we read may have. Our own files stay under ten
 * levels; decoding and reporting recurse per level, so a hostile depth would overflow the stack.
 */
export const jsonDepthLimit = 64

/** Whether JSON text opens more than `limit` arrays or objects inside each other (strings skipped). */
export const nestsDeeperThan = (text: string, limit: number): boolean => {
  let depth = 0
  let inString = false
  let escaped = false
  for (let i = 0; i < text.length; i++) {
    const char = text[i]
    if (inString) {
      if (escaped) escaped = false
      else if (char === "\\") escaped = true
      else if (char === "\"") inString = false
    } else if (char === "\"") inString = true
    else if (char === "[" || char === "{") {
      depth += 1
      if (depth > limit) return true
    } else if (char === "]" || char === "}") depth -= 1
  }
  return false
}

/** The JSON document, for naming items in issues; none when the text is not JSON (that issue needs no names). */
const parsedOrUndefined = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** Decodes JSON text with `schema`; a ParseError becomes an InvalidFile listing every bad field. */
export const decodeJsonFile = <A, I>(schema: Schema.Schema<A, I>, path: string, hint?: string) => (text: string) => {
  const withHint = hint === undefined ? {} : { hint }
  if (nestsDeeperThan(text, jsonDepthLimit)) {
    return Effect.fail(new InvalidFile({ path, issues: [`(root): nested deeper than ${jsonDepthLimit} levels`], ...withHint }))
  }
  return Schema.decodeUnknown(Schema.parseJson(schema), { errors: "all", onExcessProperty: "ignore" })(text).pipe(
    Effect.mapError((error) => new InvalidFile({ path, issues: formatIssues(error, parsedOrUndefined(text)), ...withHint }))
  )
}
