/**
 * The globs a stage cache names its inputs and outputs with (DECISIONS B-5): paths relative to the
 * stage's folder, `/`-separated. `*` and `?` stay within one segment, `**` spans any number of
 * segments, `{a,b}` is a choice and `[ab]` a character class. Pure: the walking is the cache layer's.
 */

const special = /[*?[{]/

/** Why a glob cannot name files inside the stage's folder, or undefined when it can. */
export const globProblem = (glob: string): string | undefined => {
  if (glob.trim().length === 0) return "must be a non-empty glob"
  if (glob.startsWith("/") || /^[A-Za-z]:[\\/]/.test(glob)) return "must be relative to the stage's folder (no leading /)"
  if (glob.includes("\\")) return "must use / between folders (no backslashes)"
  if (glob.split("/").some((segment) => segment === "..")) return "must stay inside the stage's folder (no .. segments)"
  if (glob.includes("\u0000")) return "must not contain a NUL byte"
  return undefined
}

/** The leading segments without a wildcard: the only folder a glob's files can be under ("" for the stage's folder). */
export const staticBase = (glob: string): string => {
  const segments = glob.split("/").filter((segment) => segment !== "." && segment.length > 0)
  const fixed: Array<string> = []
  for (const segment of segments.slice(0, -1)) {
    if (special.test(segment)) break
    fixed.push(segment)
  }
  // A glob without any wildcard names one file (or one folder, walked whole).
  return segments.length > 0 && !special.test(glob) ? segments.join("/") : fixed.join("/")
}

const escapeChar = (char: string) => (/[.+^$()|\\\]]/.test(char) ? `\\${char}` : char)

/** The regular expression of one glob, matched against a whole relative path. */
export const globToRegExp = (glob: string): RegExp => {
  const body = glob.split("/").filter((segment) => segment !== "." && segment.length > 0)
  let source = ""
  body.forEach((segment, index) => {
    const last = index === body.length - 1
    if (segment === "**") {
      // Any number of whole segments, none included.
      source += last ? "(?:[^/]+(?:/[^/]+)*)?" : "(?:[^/]+/)*"
      return
    }
    source += segmentSource(segment) + (last ? "" : "/")
  })
  return new RegExp(`^${source}$`)
}

const segmentSource = (segment: string): string => {
  let out = ""
  let inBraces = false
  for (let i = 0; i < segment.length; i++) {
    const char = segment.charAt(i)
    if (char === "*") out += "[^/]*"
    else if (char === "?") out += "[^/]"
    else if (char === "[") {
      const end = segment.indexOf("]", i + 1)
      if (end === -1) out += "\\["
      else {
        const inner = segment.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\")
        out += `[${inner}]`
        i = end
      }
    } else if (char === "{" && !inBraces) {
      inBraces = true
      out += "(?:"
    } else if (char === "}" && inBraces) {
      inBraces = false
      out += ")"
    } else if (char === "," && inBraces) out += "|"
    else out += escapeChar(char)
  }
  return inBraces ? out + ")" : out
}

/** Whether a folder met while walking may hold a match: `**` does not enter `.git` or `node_modules` unless named. */
export const skippedFolder = (name: string) => name === ".git" || name === "node_modules"
