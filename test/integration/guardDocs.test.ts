/** `guard docs` (GRD-4) through the built CLI: each rule with file:line, what is skipped, and --sync. */
import { existsSync, readFileSync } from "node:fs"
import { assert, beforeAll, describe, it } from "vitest"
import { describeResult, requireBuiltCli } from "../support/cli.js"
import { withGitRepo } from "../support/gitRepo.js"

beforeAll(requireBuiltCli)

const packageJson = JSON.stringify({ name: "demo", scripts: { build: "tsc", "docs:check": "x" } })
const config = JSON.stringify({ pipelines: [{ id: "ci", title: "CI", stages: [{ kind: "command", id: "t", title: "T", command: "true" }] }] })

const readme = [
  "# Demo",
  "Run `npm run build`, then `npm run docs:check` and `npm run deploy`.",
  "`npx codex-orchestrator start ci` or `codex-orchestrator start diagnostics`; not `codex-orchestrator start nightly`.",
  "See `docs/guide.md#setup`, `docs/guide.md:12`, `src/missing.ts`, `./docs/gone.md` and `docs/`.",
  "Skipped: `https://example.com/a/b`, `docs/<task>/x.md`, `src/*.ts`, `../outside/x`, `.runs/t/cli/r/manifest.json`,",
  "`unknownroot/file.md`, `/abs/path`, `docs/…/x.md`, `out/t/state.json`."
].join("\n")

describe("guard docs", () => {
  it("reports each missing script, pipeline and path with file:line, and exits 1", () =>
    withGitRepo({ "package.json": packageJson, "codex.orchestrator.json": config, "README.md": readme, "docs/guide.md": "# Guide\n", "src/a.ts": "" }, async (repo) => {
      repo.write({ ".agent/SOPs/run.md": "x\n\nUse `npm run lint` and `tasks/specs/0001.md`.\n", "tasks/notes.md": "`src/a.ts` exists\n" })
      repo.write({ "node_modules/pkg/README.md": "`npm run nothing`\n", "docs/dist/skip.md": "`npm run nothing`\n" })
      const result = await repo.cli(["guard", "docs"])
      assert.strictEqual(result.code, 1, describeResult(result))
      assert.strictEqual(
        result.stdout,
        [
          ".agent/SOPs/run.md:3: npm-script-missing: npm run lint",
          ".agent/SOPs/run.md:3: backticked-path-missing: tasks/specs/0001.md",
          "README.md:2: npm-script-missing: npm run deploy",
          "README.md:3: pipeline-id-missing: codex-orchestrator start nightly",
          "README.md:4: backticked-path-missing: docs/gone.md",
          "README.md:4: backticked-path-missing: src/missing.ts",
          "❌ docs:check: 6 error(s)",
          ""
        ].join("\n")
      )
    }))

  it("passes a clean repository", () =>
    withGitRepo({ "package.json": packageJson, "README.md": "Run `npm run build` and see `docs/guide.md`.\n", "docs/guide.md": "ok\n" }, async (repo) => {
      const result = await repo.cli(["guard", "docs"])
      assert.strictEqual(result.code, 0, describeResult(result))
      assert.strictEqual(result.stdout, "✅ docs:check: OK\n")
    }))

  it("--sync --task mirrors the checklist into .agent/task/ and a managed block of docs/TASKS.md, once", () =>
    withGitRepo({
      "tasks/index.json": JSON.stringify({ items: [{ id: "0042", slug: "gate", title: "Gate" }] }),
      "tasks/tasks-0042-gate.md": "# Task 0042 — Review gate\n\n## Checklist\n\n### Guards\n- [x] spec guard\n- [ ] diff budget\n",
      "docs/TASKS.md": "# Tasks\n\nIntro.\n"
    }, async (repo) => {
      const first = await repo.cli(["guard", "docs", "--sync", "--task", "0042"])
      assert.strictEqual(first.code, 0, describeResult(first))
      assert.strictEqual(first.stdout, "docs:sync: wrote .agent/task/0042-gate.md\ndocs:sync: wrote docs/TASKS.md\n")
      const mirror = readFileSync(repo.path(".agent/task/0042-gate.md"), "utf8")
      assert.match(mirror, /^# Task Checklist — Review gate \(0042\)\n/)
      assert.include(mirror, "## Guards\n- [x] spec guard\n- [ ] diff budget\n")
      const tasks = readFileSync(repo.path("docs/TASKS.md"), "utf8")
      assert.include(tasks, "# Tasks\n\nIntro.\n\n<!-- docs-sync:begin 0042-gate -->\n## Checklist Mirror\n")
      assert.include(tasks, "### Guards\n- [x] spec guard\n- [ ] diff budget\n<!-- docs-sync:end 0042-gate -->\n")
      const again = await repo.cli(["guard", "docs", "--sync", "--task", "0042-gate"])
      assert.strictEqual(again.stdout, "docs:sync: up to date\n")
      const unknown = await repo.cli(["guard", "docs", "--sync", "--task", "9999"])
      assert.strictEqual(unknown.code, 2, describeResult(unknown))
      assert.include(unknown.stderr, "Task \"9999\" is not in tasks/index.json")
      const noTask = await repo.cli(["guard", "docs", "--sync"])
      assert.strictEqual(noTask.code, 2, describeResult(noTask))
      assert.isFalse(existsSync(repo.path(".agent/task/9999.md")))
    }))

  it("--sync refuses a task whose id or slug in tasks/index.json is a path, before reading or writing anything (exit 2)", () =>
    withGitRepo({
      // read as tasks/tasks-0042-x/../../escaped.md = escaped.md; its mirror would be .agent/escaped.md
      "tasks/index.json": JSON.stringify({ items: [{ id: "0042", slug: "x/../../escaped", title: "Gate" }] }),
      "escaped.md": "# Escaped\n\n## Checklist\n- [ ] out\n"
    }, async (repo) => {
      const result = await repo.cli(["guard", "docs", "--sync", "--task", "0042"])
      assert.strictEqual(result.code, 2, describeResult(result))
      assert.strictEqual(
        result.stderr,
        "error: tasks/index.json: task \"0042\" with slug \"x/../../escaped\" cannot name its checklist file: slashes are not allowed. " +
          "Use letters, digits, '-', '_' or '.', not starting with '.' or '-'.\n"
      )
      assert.isFalse(existsSync(repo.path(".agent")))
      assert.isFalse(existsSync(repo.path("docs/TASKS.md")))
    }))
})
