/** ProjectSetupLive on in-memory files: what `prompts install` writes, keeps and replaces. */
import { Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { codexPrompts, promptOutcome, renderPromptOutcome } from "../src/domain/CodexPrompts.js"
import { FilesMemory, InMemoryFiles } from "../src/layers/Files.js"
import { ProjectSetupLive } from "../src/layers/ProjectSetup.js"
import { ProjectSetup } from "../src/services/ProjectSetup.js"

const setup = ProjectSetupLive.pipe(Layer.provideMerge(Layer.merge(FilesMemory, Path.layer)))
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
