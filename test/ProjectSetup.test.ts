/** ProjectSetupLive on in-memory files: what `prompts install` writes, keeps and replaces. */
import { Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, TestClock } from "effect"
import { codexPrompts, promptOutcome, renderPromptOutcome } from "../src/domain/CodexPrompts.js"
import { FilesMemory, InMemoryFiles } from "../src/layers/Files.js"
import { OrchestratorConfigTest } from "../src/layers/OrchestratorConfig.js"
import { ProjectSetupLive } from "../src/layers/ProjectSetup.js"
import { ProjectSetup } from "../src/services/ProjectSetup.js"

const setup = ProjectSetupLive.pipe(Layer.provideMerge(Layer.mergeAll(FilesMemory, Path.layer, OrchestratorConfigTest("/repo"))))
const outcomes = (installed: ReadonlyArray<{ readonly path: string; readonly outcome: string }>) =>
  installed.map(({ outcome, path }) => `${outcome} ${path}`)

describe("prompts install", () => {
  it("prompt texts: front matter Codex shows, and the seed README's argument conventions", () => {
    const [diagnostics, review] = codexPrompts
    assert.strictEqual(diagnostics?.name, "diagnostics.md")
    assert.strictEqual(review?.name, "review-handoff.md")
    assert.match(diagnostics?.text ?? "", /^---\ndescription: .+\nargument-hint: TASK=<task-id> MANIFEST=<path> \[NOTES=<free text>\]\n---\n/)
    assert.include(diagnostics?.text ?? "", "export MCP_RUNNER_TASK_ID=$TASK")
    assert.include(diagnostics?.text ?? "", "npx codex-orchestrator start diagnostics --format json")
    assert.notInclude(diagnostics?.text ?? "", "$NOTES", "NOTES is optional: a placeholder would make Codex require it")
    assert.match(review?.text ?? "", /\nargument-hint: TASK=<task-id> MANIFEST=<path> NOTES=<goal \+ summary \+ risks \+ optional questions>\n/)
    for (const step of ["guard spec --dry-run", "npm run lint", "npm run test", "npm run eval:test", "review --manifest $MANIFEST", "$NOTES"]) {
      assert.include(review?.text ?? "", step)
    }
  })

  it("outcomes: missing, same, shipped earlier, changed by the user (kept, or overwritten with force)", () => {
    assert.strictEqual(promptOutcome(undefined, "t", false, false), "written")
    assert.strictEqual(promptOutcome("t", "t", false, false), "unchanged")
    assert.strictEqual(promptOutcome("old", "t", true, false), "updated")
    assert.strictEqual(promptOutcome("mine", "t", false, false), "kept")
    assert.strictEqual(promptOutcome("mine", "t", false, true), "overwritten")
    assert.strictEqual(renderPromptOutcome("kept", "/p/a.md"), "kept        /p/a.md (changed since it was installed; --force replaces it)")
  })

  it.effect("writes both files, leaves them alone the second time, keeps a changed one unless forced", () =>
    Effect.gen(function*() {
      const setupService = yield* ProjectSetup
      const files = yield* InMemoryFiles
      const first = yield* setupService.installPrompts("/home/u/.codex/prompts", false)
      assert.deepStrictEqual(outcomes(first), ["written /home/u/.codex/prompts/diagnostics.md", "written /home/u/.codex/prompts/review-handoff.md"])
      assert.strictEqual(yield* files.read("/home/u/.codex/prompts/diagnostics.md"), codexPrompts[0]?.text)
      const again = yield* setupService.installPrompts("/home/u/.codex/prompts", false)
      assert.deepStrictEqual(again.map((i) => i.outcome), ["unchanged", "unchanged"])
      yield* files.write("/home/u/.codex/prompts/review-handoff.md", "my own review prompt\n")
      const kept = yield* setupService.installPrompts("/home/u/.codex/prompts", false)
      assert.deepStrictEqual(kept.map((i) => i.outcome), ["unchanged", "kept"])
      assert.strictEqual(yield* files.read("/home/u/.codex/prompts/review-handoff.md"), "my own review prompt\n")
      const forced = yield* setupService.installPrompts("/home/u/.codex/prompts", true)
      assert.deepStrictEqual(forced.map((i) => i.outcome), ["unchanged", "overwritten"])
      assert.strictEqual(yield* files.read("/home/u/.codex/prompts/review-handoff.md"), codexPrompts[1]?.text)
    }).pipe(Effect.provide(setup)))
})

describe("init", () => {
  it.effect("writes the scaffold for the task with today's date (UTC) as the spec's review date, and lists it", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2026, 4, 31, 23, 30))
      const written = yield* (yield* ProjectSetup).init("0042")
      assert.deepStrictEqual(written, [
        "codex.orchestrator.json",
        "tasks/index.json",
        "tasks/specs/0042-kickoff.md",
        "tasks/tasks-0042-kickoff.md",
        ".agent/task/0042-kickoff.md",
        ".agent/SOPs/review-gate.md",
        "docs/PRD.md",
        "docs/TECH_SPEC.md",
        "docs/ACTION_PLAN.md",
        "docs/TASKS.md",
        "AGENTS.md"
      ])
      const files = yield* InMemoryFiles
      assert.include(yield* files.read("/repo/tasks/specs/0042-kickoff.md"), "\nlast_review: 2026-05-31\n")
      assert.deepStrictEqual(JSON.parse((yield* files.read("/repo/tasks/index.json")) ?? ""), {
        items: [{ id: "0042", slug: "kickoff", title: "Project kickoff" }]
      })
      const config = JSON.parse((yield* files.read("/repo/codex.orchestrator.json")) ?? "")
      assert.strictEqual(config.defaultPipeline, "checks")
      assert.include(yield* files.read("/repo/docs/TASKS.md"), "<!-- docs-sync:begin 0042-kickoff -->")
    }).pipe(Effect.provide(setup)))

  it.effect("refuses when any file exists, naming them, and writes nothing", () =>
    Effect.gen(function*() {
      const files = yield* InMemoryFiles
      yield* files.write("/repo/AGENTS.md", "mine\n")
      yield* files.write("/repo/docs/PRD.md", "mine\n")
      const error = yield* Effect.flip((yield* ProjectSetup).init("0101"))
      assert.strictEqual(error._tag, "InitRefused")
      assert.include(error.message, "docs/PRD.md, AGENTS.md already exist in /repo")
      assert.deepStrictEqual(yield* files.list, ["/repo/AGENTS.md", "/repo/docs/PRD.md"])
    }).pipe(Effect.provide(setup)))
})
