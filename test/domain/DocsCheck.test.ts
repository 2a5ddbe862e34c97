import { assert, describe, it } from "@effect/vitest"
import { backtickedPath, renderDocsCheck, scanDoc, sortFindings } from "../../src/domain/DocsCheck.js"
import { checklistOf, withManagedBlock } from "../../src/domain/DocsSync.js"

const ctx = { scripts: new Set(["build"]), pipelines: new Set(["diagnostics"]), rootEntries: new Set(["docs", "src"]) }

describe("GRD-4 docs check rules", () => {
  it("normalises backticked paths and skips what is not a repository path", () => {
    assert.strictEqual(backtickedPath("./docs/a.md#intro"), "docs/a.md")
    assert.strictEqual(backtickedPath("'src/a.ts:12:3-14'"), "src/a.ts")
    for (const raw of ["README.md", "a b/c", "/etc/x", "~/x/y", "../x/y", "https://x.y/z", "docs/<id>.md", "src/*.ts", "docs/.../x", ".runs/a/b", "$HOME/x"]) {
      assert.strictEqual(backtickedPath(raw), undefined, raw)
    }
  })

  it("finds missing scripts and pipelines with their line, and lists anchored paths to check", () => {
    const text = "intro\n`npm run build` and npm run test\n\ncodex-orchestrator start nightly, codex-orch start diagnostics\n`docs/x.md` `lib/y.ts`"
    const { findings, paths } = scanDoc("README.md", text, ctx)
    assert.deepStrictEqual(findings, [
      { file: "README.md", line: 2, rule: "npm-script-missing", reference: "npm run test" },
      { file: "README.md", line: 4, rule: "pipeline-id-missing", reference: "codex-orchestrator start nightly" }
    ])
    assert.deepStrictEqual(paths, [{ file: "README.md", line: 5, path: "docs/x.md" }])
  })

  it("sorts and deduplicates findings, then renders file:line lines and the verdict", () => {
    const f = { file: "b.md", line: 2, rule: "npm-script-missing", reference: "npm run x" } as const
    const sorted = sortFindings([f, { ...f, file: "a.md" }, f])
    assert.deepStrictEqual(renderDocsCheck(sorted), ["a.md:2: npm-script-missing: npm run x", "b.md:2: npm-script-missing: npm run x", "❌ docs:check: 2 error(s)"])
    assert.deepStrictEqual(renderDocsCheck([]), ["✅ docs:check: OK"])
  })

  it("replaces a task's managed block in place and refuses broken markers", () => {
    assert.strictEqual(checklistOf("# T\n## Checklist\n\n- [ ] a\n"), "- [ ] a")
    assert.strictEqual(checklistOf("# T\n"), undefined)
    const once = withManagedBlock("# Tasks\n", "1-a", "- [ ] a") ?? ""
    const twice = withManagedBlock(`${once}tail\n`, "1-a", "- [x] a") ?? ""
    assert.strictEqual(twice.split("docs-sync:begin 1-a").length, 2)
    assert.include(twice, "- [x] a\n<!-- docs-sync:end 1-a -->\ntail\n")
    assert.strictEqual(withManagedBlock("<!-- docs-sync:end 1-a -->\n<!-- docs-sync:begin 1-a -->", "1-a", "x"), undefined)
  })
})
