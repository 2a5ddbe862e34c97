/** GRD-4: the agent-facing Markdown of the repository, scanned for references that do not exist (see domain/DocsCheck.ts). */
import type { Path } from "@effect/platform"
import { Effect, Schema } from "effect"
import { type DocsContext, docFolders, excludedFolders, rootDocs, scanDoc, sortFindings } from "../../domain/DocsCheck.js"
import { decodeJsonFile, type FileAccessError } from "../../domain/FileErrors.js"
import type { Files } from "../../services/Files.js"
import type { PipelineCatalog } from "../../services/PipelineCatalog.js"

/** Only the scripts of package.json matter here; the rest of the file is not ours to check. */
const PackageScripts = Schema.Struct({ scripts: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown })) })

export const scanDocs = (
  files: typeof Files.Service,
  path: Path.Path,
  catalog: typeof PipelineCatalog.Service,
  root: string
) => {
  /** Markdown files under `dir` (repo-relative), excluded folders skipped. */
  const markdownUnder = (dir: string): Effect.Effect<ReadonlyArray<string>, FileAccessError> =>
    Effect.gen(function*() {
      const found: Array<string> = []
      for (const name of yield* files.list(path.join(root, dir))) {
        const relative = `${dir}/${name}`
        const stat = yield* files.info(path.join(root, relative))
        if (stat?.type === "directory" && !excludedFolders.has(name)) found.push(...(yield* markdownUnder(relative)))
        else if (stat?.type === "file" && name.toLowerCase().endsWith(".md")) found.push(relative)
      }
      return found
    })

  const docsContext = Effect.gen(function*() {
    const packageText = yield* files.readText(path.join(root, "package.json"))
    const scripts = packageText === undefined
      ? {}
      : (yield* decodeJsonFile(PackageScripts, "package.json")(packageText)).scripts ?? {}
    const data = yield* catalog.load
    return {
      scripts: new Set(Object.keys(scripts)),
      pipelines: new Set([...data.user, ...data.builtins].map((p) => p.id)),
      rootEntries: new Set(yield* files.list(root))
    } satisfies DocsContext
  })

  const docs = Effect.gen(function*() {
    const ctx = yield* docsContext
    const docFiles = [...rootDocs.filter((name) => ctx.rootEntries.has(name))]
    for (const dir of docFolders) docFiles.push(...(yield* markdownUnder(dir)))
    const findings = []
    for (const file of docFiles.sort()) {
      const text = (yield* files.readText(path.join(root, file))) ?? ""
      const scanned = scanDoc(file, text, ctx)
      findings.push(...scanned.findings)
      for (const ref of scanned.paths) {
        if ((yield* files.info(path.join(root, ref.path))) === undefined) {
          findings.push({ file: ref.file, line: ref.line, rule: "backticked-path-missing" as const, reference: ref.path })
        }
      }
    }
    return sortFindings(findings)
  }).pipe(Effect.withSpan("Guards.docs"))
  return docs
}
