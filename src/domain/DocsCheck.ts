/**
 * The docs check's rules (SPEC GRD-4), pure: what agent-facing Markdown refers to (npm scripts,
 * pipelines, repository paths) and how a finding reads. Which files exist is asked by the Guards layer.
 */

/** Folders scanned for `*.md`, recursively, besides the root files. */
export const docFolders: ReadonlyArray<string> = [".agent", ".ai-dev-tasks", "docs", "tasks"]
export const rootDocs: ReadonlyArray<string> = ["README.md", "AGENTS.md"]
/** Folder names never scanned: runs, outputs, archives, dependencies, builds. */
export const excludedFolders: ReadonlySet<string> = new Set([".runs", "out", "archives", "node_modules", "dist"])
const excludedPathPrefixes = [".runs/", "out/", "archives/", "node_modules/", "dist/"]

export type DocsRule = "npm-script-missing" | "pipeline-id-missing" | "backticked-path-missing"

export interface DocsFinding {
  readonly file: string
  readonly line: number
  readonly rule: DocsRule
  readonly reference: string
}

/** A backticked repository path to look up, with where it was written. */
export interface PathReference {
  readonly file: string
  readonly line: number
  readonly path: string
}

/** What the references are checked against. */
export interface DocsContext {
  readonly scripts: ReadonlySet<string>
  readonly pipelines: ReadonlySet<string>
  /** The names at the repository root: a path is checked only when its first segment is one. */
  readonly rootEntries: ReadonlySet<string>
}

const npmRun = /\bnpm run ([A-Za-z0-9:_-]+)/g
const startPipeline = /\bcodex-orch(?:estrator)? start ([A-Za-z0-9][A-Za-z0-9:._-]*)/g
const backticked = /`([^`\n]+)`/g

/** `file.md:12` or `file.md:12:3-14:2` hints point into a file; the file is what must exist. */
const lineHint = /^(.*?):\d+(?::\d+)?(?:-\d+(?::\d+)?)?$/

/**
 * The repository path a backticked span names, or undefined when it is not one to check: no slash,
 * spaces, absolute, home or parent paths, URLs, placeholders, ellipses, globs. Quotes, `./`, a
 * `#anchor` and a `:line` hint are dropped.
 */
export const backtickedPath = (raw: string): string | undefined => {
  const unquoted = raw.trim().replace(/^['"]|['"]$/g, "")
  const value = unquoted.startsWith("./") ? unquoted.slice(2) : unquoted
  if (!value.includes("/") || /\s/.test(value)) return undefined
  if (value.startsWith("/") || value.startsWith("~") || value.startsWith("../") || value.includes("/../")) return undefined
  if (value.includes("://") || /[<>]/.test(value) || value.includes("...") || value.includes("…")) return undefined
  if (/[*?[\]{}$]/.test(value)) return undefined
  const withoutAnchor = value.split("#")[0] ?? ""
  const path = (lineHint.exec(withoutAnchor)?.[1] ?? withoutAnchor).trim()
  if (path.length === 0 || excludedPathPrefixes.some((prefix) => path.startsWith(prefix))) return undefined
  return path
}

/**
 * Scans one Markdown file: findings for scripts and pipelines that do not exist, and the paths whose
 * existence the caller must check (those anchored at an entry of the repository root).
 */
export const scanDoc = (file: string, text: string, ctx: DocsContext) => {
  const findings: Array<DocsFinding> = []
  const paths: Array<PathReference> = []
  text.split("\n").forEach((content, i) => {
    const line = i + 1
    for (const match of content.matchAll(npmRun)) {
      const script = match[1] ?? ""
      if (!ctx.scripts.has(script)) findings.push({ file, line, rule: "npm-script-missing", reference: `npm run ${script}` })
    }
    for (const match of content.matchAll(startPipeline)) {
      const id = match[1] ?? ""
      if (!ctx.pipelines.has(id)) {
        findings.push({ file, line, rule: "pipeline-id-missing", reference: `codex-orchestrator start ${id}` })
      }
    }
    for (const match of content.matchAll(backticked)) {
      const path = backtickedPath(match[1] ?? "")
      if (path !== undefined && ctx.rootEntries.has(path.split("/")[0] ?? "")) paths.push({ file, line, path })
    }
  })
  return { findings, paths }
}

/** One finding per place and reference, in file and line order. */
export const sortFindings = (findings: ReadonlyArray<DocsFinding>): ReadonlyArray<DocsFinding> => {
  const seen = new Set<string>()
  return [...findings]
    .sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.reference.localeCompare(b.reference))
    .filter((f) => {
      const key = `${f.file}:${f.line}:${f.rule}:${f.reference}`
      if (seen.has(key)) return false
      seen.add(key)
      return true
    })
}

/** GRD-4's output: `<file>:<line>: <rule>: <ref>` per finding, then the verdict. */
export const renderDocsCheck = (findings: ReadonlyArray<DocsFinding>): ReadonlyArray<string> =>
  findings.length === 0
    ? ["✅ docs:check: OK"]
    : [
      ...findings.map((f) => `${f.file}:${f.line}: ${f.rule}: ${f.reference}`),
      `❌ docs:check: ${findings.length} error(s)`
    ]
