/**
 * Issue 20: every TypeScript block of docs/embedding.md is a file of test/consumer/ word for word
 * (test/integration/consumer.test.ts compiles and runs those on the packed package), every file of
 * the consumer is shown, the install line pins the ranges the package is built and tested with, and
 * the README links the guide.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join, relative } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { packageRoot } from "./support/cli.js"

const guide = readFileSync(join(packageRoot, "docs", "embedding.md"), "utf8")
const consumer = join(packageRoot, "test", "consumer")

interface Snippet {
  readonly file: string | undefined
  readonly code: string
}

/** Every ```ts block, with the consumer file the comment before it names. */
const snippets: ReadonlyArray<Snippet> = [...guide.matchAll(/(?:<!-- consumer: (\S+) -->\n)?```ts\n([\s\S]*?)```/g)].map((match) => ({
  file: match[1],
  code: match[2] ?? ""
}))

const filesUnder = (dir: string): ReadonlyArray<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [relative(consumer, join(dir, entry.name))]
  )

type Ranges = Readonly<Record<string, string>>
const packageJson = (path: string): { readonly dependencies?: Ranges; readonly devDependencies?: Ranges; readonly peerDependencies?: Ranges } =>
  JSON.parse(readFileSync(path, "utf8"))

describe("docs/embedding.md", () => {
  it("shows only files of the consumer app, each exactly as it is", () => {
    assert.isAtLeast(snippets.length, 7)
    for (const [index, snippet] of snippets.entries()) {
      assert.isDefined(snippet.file, `the TypeScript block #${index + 1} names no consumer file (<!-- consumer: src/x.ts --> before it)`)
      const text = readFileSync(join(consumer, snippet.file ?? ""), "utf8")
      assert.strictEqual(snippet.code, text, `the block for ${snippet.file} differs from test/consumer/${snippet.file}`)
    }
  })

  it("shows every program and test of the consumer app", () => {
    const sources = [...filesUnder(join(consumer, "src")), ...filesUnder(join(consumer, "test"))].sort()
    assert.deepStrictEqual([...new Set(snippets.map((snippet) => snippet.file))].sort(), sources)
  })

  it("installs the ranges the package is built with, as the consumer app does", () => {
    const install = guide.match(/```bash\n([\s\S]*?)```/)?.[1] ?? assert.fail("no install block")
    const given = Object.fromEntries([...install.matchAll(/"((?:@[\w-]+\/)?[\w-]+)@([^"]+)"/g)].map((m) => [m[1] ?? "", m[2] ?? ""]))
    const own = packageJson(join(packageRoot, "package.json"))
    const app = packageJson(join(consumer, "package.json"))
    const appRanges = { ...app.dependencies, ...app.devDependencies }
    for (const name of ["effect", "@effect/platform", "@effect/platform-node", "@effect/cli"]) {
      assert.strictEqual(given[name], own.peerDependencies?.[name], `${name}: the guide's range is the package's peer range`)
      assert.strictEqual(appRanges[name], given[name], `${name}: the consumer app installs what the guide says`)
    }
    for (const name of ["@effect/vitest", "vitest", "typescript", "@types/node"]) {
      assert.strictEqual(given[name], own.devDependencies?.[name], `${name}: the guide's range is the one the package is tested with`)
      assert.strictEqual(appRanges[name], given[name], `${name}: the consumer app installs what the guide says`)
    }
    assert.match(given["effect"] ?? "", /^~3\.22\./)
    assert.match(given["@effect/vitest"] ?? "", /^\^0\.30\./)
    assert.match(given["vitest"] ?? "", /^~3\.2\./)
  })

  it("is linked from the README", () => {
    assert.include(readFileSync(join(packageRoot, "README.md"), "utf8"), "](docs/embedding.md)")
  })
})
