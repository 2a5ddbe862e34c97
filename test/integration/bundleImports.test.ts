/**
 * scripts/deepImports.mjs, the bundle's rewrite of index imports (`import { Effect } from "effect"`)
 * into imports of the modules themselves, so that a start initialises only the modules it uses.
 * Each case bundles a small source with the plugin, in a child Node (the plugin is an ES module
 * script of the build, not part of the typed sources), and reads back what esbuild made of it.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { packageRoot } from "../support/cli.js"

const scratch = mkdtempSync(join(tmpdir(), "codex-orchestrator-deep-imports-"))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/** Bundles `source` (as src/<name>.ts) with the plugin; the bundle's text, or esbuild's error lines. */
const bundle = (name: string, source: string) => {
  const dir = join(scratch, name, "src")
  mkdirSync(dir, { recursive: true })
  const entry = join(dir, `${name}.ts`)
  writeFileSync(entry, source)
  const outfile = join(scratch, name, "out.cjs")
  const script = [
    `import { build } from "esbuild"`,
    `import { deepImports } from "./scripts/deepImports.mjs"`,
    `await build({ entryPoints: [${JSON.stringify(entry)}], outfile: ${JSON.stringify(outfile)}, bundle: true,`,
    `  platform: "node", format: "cjs", logLevel: "silent", plugins: [deepImports] })`
      .concat(`.catch((e) => { console.log(e.errors.map((x) => x.text).join("\\n")); process.exit(3) })`)
  ].join("\n")
  try {
    execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: packageRoot, encoding: "utf8" })
    return { ok: true as const, outfile }
  } catch (error) {
    const failed = error as { status: number; stdout: string }
    return { ok: false as const, status: failed.status, errors: failed.stdout }
  }
}

describe("the bundle's deep imports", () => {
  it("bundles the modules a source names, not the packages' index modules, and they work", () => {
    const result = bundle("uses", [
      `import { Effect, pipe, type Scope } from "effect"`,
      `import { Path } from "@effect/platform"`,
      `export type S = Scope.Scope`,
      `export const two = pipe(1, (n) => n + 1)`,
      `export const answer = Effect.runSync(Effect.succeed(two * 21))`,
      `export const pathTag = Path.Path.key`
    ].join("\n"))
    assert.isTrue(result.ok, result.ok ? "" : result.errors)
    if (!result.ok) return
    const text = execFileSync(process.execPath, ["-e", `const m = require(${JSON.stringify(result.outfile)}); console.log(JSON.stringify([m.two, m.answer, m.pathTag]))`], { encoding: "utf8" })
    assert.deepStrictEqual(JSON.parse(text), [2, 42, "@effect/platform/Path"])
    const output = execFileSync("cat", [result.outfile], { encoding: "utf8" })
    assert.include(output, "// node_modules/effect/dist/esm/Effect.js")
    assert.include(output, "// node_modules/@effect/platform/dist/esm/Path.js")
    // The index modules (and what only they pull in: FastCheck through effect's, MsgPack through the platform's) are left out.
    assert.notInclude(output, "// node_modules/effect/dist/esm/index.js")
    assert.notInclude(output, "// node_modules/@effect/platform/dist/esm/index.js")
    assert.notInclude(output, "// node_modules/effect/dist/esm/FastCheck.js")
    assert.notInclude(output, "// node_modules/@effect/platform/dist/esm/MsgPack.js")
  })

  it("fails the build, naming the file and the name, for a name the index does not re-export", () => {
    const result = bundle("unknown", `import { Effect, Nope } from "effect"\nexport const x = [Effect, Nope]\n`)
    assert.isFalse(result.ok)
    if (result.ok) return
    assert.strictEqual(result.status, 3)
    assert.include(result.errors, join("unknown", "src", "unknown.ts"))
    assert.include(result.errors, `"Nope" is not re-exported by effect's index`)
  })
})
