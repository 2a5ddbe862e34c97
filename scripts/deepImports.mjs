// An esbuild plugin for the CLI bundles: our sources import from the packages' index modules
// (`import { Effect, Schema } from "effect"`), as Effect code does. In a bundle whose modules are
// initialised lazily (esbuild wraps them once any dynamic import exists), an index module's
// initialiser runs every module it re-exports: importing `Path` from "@effect/platform" ran HttpApi,
// OpenApi, Swagger and MsgPack (whose native-addon probe reads files) at every start, and "effect"
// ran FastCheck, STM, Micro and the rest. The plugin rewrites those imports in our sources to the
// modules themselves (`import * as Effect from ".../effect/dist/esm/Effect.js"`), the same files the
// index re-exports, so nothing changes but what is initialised. A name the index does not re-export
// from a module fails the build, so a new kind of export is never silently mis-rewritten.
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"

const require = createRequire(import.meta.url)

/** The packages whose index is rewritten: each re-exports modules only (`export * as X from`) plus, for effect, a few functions. */
const packages = ["effect", "@effect/platform", "@effect/cli"]

/** For one package: each name its ES module index exports, with the file it comes from and whether it is a namespace. */
const exportsOf = (pkg) => {
  const esm = join(dirname(require.resolve(pkg)), "..", "esm")
  // Doc comments sit between the names of an `export { ... }` list.
  const index = readFileSync(join(esm, "index.js"), "utf8").replace(/\/\*[\s\S]*?\*\//g, "")
  const names = new Map()
  for (const [, name, file] of index.matchAll(/^export \* as (\w+) from "(\.\/[^"]+)"/gm)) {
    names.set(name, { file: join(esm, file), namespace: true })
  }
  for (const [, list, file] of index.matchAll(/^export \{([^}]*)\} from "(\.\/[^"]+)"/gm)) {
    for (const name of list.split(",").map((n) => n.trim()).filter(Boolean)) {
      names.set(name, { file: join(esm, file), namespace: false })
    }
  }
  return names
}

const importPattern = new RegExp(
  String.raw`import\s+(type\s+)?\{([^}]*)\}\s+from\s+"(${packages.map((p) => p.replace("/", "\\/")).join("|")})"`,
  "g"
)

export const deepImports = {
  name: "deep-imports",
  setup(b) {
    const byPackage = new Map(packages.map((pkg) => [pkg, exportsOf(pkg)]))
    b.onLoad({ filter: /[\\/]src[\\/].*\.tsx?$/ }, (args) => {
      const source = readFileSync(args.path, "utf8")
      const errors = []
      const contents = source.replace(importPattern, (_, typeOnly, list, pkg) => {
        if (typeOnly !== undefined) return ""
        const names = byPackage.get(pkg)
        return list.split(",").map((s) => s.trim()).filter((s) => s !== "" && !s.startsWith("type ")).map((spec) => {
          const [name, alias = name] = spec.split(/\s+as\s+/)
          const found = names.get(name)
          if (found === undefined) {
            errors.push({ text: `${args.path}: "${name}" is not re-exported by ${pkg}'s index (scripts/deepImports.mjs)` })
            return ""
          }
          return found.namespace
            ? `import * as ${alias} from ${JSON.stringify(found.file)}`
            : `import { ${name} as ${alias} } from ${JSON.stringify(found.file)}`
        }).join(";\n")
      })
      return errors.length > 0 ? { errors } : { contents, loader: args.path.endsWith(".tsx") ? "tsx" : "ts" }
    })
  }
}
