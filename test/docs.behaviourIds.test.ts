/**
 * Every behaviour id the code cites resolves to a definition in docs/behaviour.md, so a maintainer
 * with only this repository can look any of them up. An id is cited by appearing in a source, test
 * or script file or in the README; a range such as `MET-1..5` (or `D-1..D-4`) cites each id in it.
 */
import { FileSystem, Path } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"

/** Words of the id shape that are not behaviour ids: standards and encodings. */
const notBehaviourIds: ReadonlySet<string> = new Set(["UTF-8", "UTF-16", "SHA-1", "SHA-256", "SHA-512", "ISO-8601"])

/** `PREFIX-n`, with an optional `..m` or `..PREFIX-m` range; single-letter prefixes are only D, B and S. */
const citation = /\b([A-Z]{2,5}|[DBS])-(\d+)(?:\.\.(?:\1-)?(\d+))?\b/g

/** An entry of docs/behaviour.md: `<a id="RUN-8"></a>`. */
const definition = /<a id="([A-Z]+-\d+)"><\/a>/g

const scannedFolders = ["src", "test", "scripts"] as const
const scannedFiles = ["README.md"] as const
const scannedExtensions = [".ts", ".mts", ".cts", ".js", ".mjs", ".cjs", ".json", ".md", ".sh"]

/** The ids a text cites, each with the 1-based line of its first citation. */
const citedIds = (text: string): ReadonlyMap<string, number> => {
  const cited = new Map<string, number>()
  text.split("\n").forEach((line, index) => {
    for (const match of line.matchAll(citation)) {
      const [, prefix, from, to] = match
      const first = Number(from)
      const last = to === undefined ? first : Number(to)
      for (let n = first; n <= Math.max(first, last); n++) {
        const id = `${prefix}-${n}`
        if (!notBehaviourIds.has(id) && !cited.has(id)) cited.set(id, index + 1)
      }
    }
  })
  return cited
}

/** The ids docs/behaviour.md defines, with how often each is defined. */
const definedIds = (text: string): ReadonlyMap<string, number> => {
  const defined = new Map<string, number>()
  for (const match of text.matchAll(definition)) {
    const id = match[1]
    if (id !== undefined) defined.set(id, (defined.get(id) ?? 0) + 1)
  }
  return defined
}

const readRepository = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const root = yield* path.fromFileUrl(new URL("../", import.meta.url))
  const inFolders = yield* Effect.forEach(scannedFolders, (folder) =>
    fs.readDirectory(path.join(root, folder), { recursive: true }).pipe(
      Effect.map((names) =>
        names
          .filter((name) => scannedExtensions.some((extension) => name.endsWith(extension)))
          .map((name) => path.join(folder, name))
      )
    ))
  const files = [...inFolders.flat(), ...scannedFiles].sort()
  const texts = yield* Effect.forEach(files, (file) =>
    fs.readFileString(path.join(root, file)).pipe(Effect.map((text) => ({ file, text }))))
  const reference = yield* fs.readFileString(path.join(root, "docs", "behaviour.md"))
  return { texts, reference }
})

describe("docs/behaviour.md", () => {
  it("reads citations, ranges included, and leaves standards alone", () => {
    const cited = citedIds("see RUN-8 and MET-1..3; D-1..D-2 apply\nUTF-8, SHA-256, ISO-8601, T-1 and ES2022 are not ids")
    assert.deepStrictEqual([...cited.keys()], ["RUN-8", "MET-1", "MET-2", "MET-3", "D-1", "D-2"])
    assert.strictEqual(cited.get("RUN-8"), 1)
  })

  it.effect("defines every behaviour id cited in src/, test/, scripts/ and README.md", () =>
    Effect.gen(function*() {
      const { reference, texts } = yield* readRepository
      const defined = definedIds(reference)
      const firstCitation = new Map<string, string>()
      for (const { file, text } of texts) {
        for (const [id, line] of citedIds(text)) if (!firstCitation.has(id)) firstCitation.set(id, `${file}:${line}`)
      }
      // Guards the scan itself: a broken pattern or folder list would find nothing and pass.
      assert.isAbove(firstCitation.size, 100, "the scan should find the ids the code cites")
      const undefinedIds = [...firstCitation]
        .filter(([id]) => !defined.has(id))
        .map(([id, where]) =>
          `${id} is cited at ${where} but not defined: define ${id} in docs/behaviour.md (an entry starting <a id="${id}"></a>), or stop citing it`
        )
      assert.deepStrictEqual(undefinedIds, [])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("defines each id once", () =>
    Effect.gen(function*() {
      const { reference } = yield* readRepository
      const repeated = [...definedIds(reference)].filter(([, count]) => count > 1).map(([id]) => `${id} is defined more than once`)
      assert.deepStrictEqual(repeated, [])
    }).pipe(Effect.provide(NodeContext.layer)))
})
