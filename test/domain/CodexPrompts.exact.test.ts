/** `prompts install`'s outcomes to the exact value (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { type PromptOutcome, renderPromptOutcome, writesFile } from "../../src/domain/CodexPrompts.js"

describe("prompt outcomes, exactly", () => {
  it("written, updated and overwritten write the file; unchanged and kept do not", () => {
    const outcomes: ReadonlyArray<PromptOutcome> = ["written", "updated", "overwritten", "unchanged", "kept"]
    assert.deepStrictEqual(outcomes.map(writesFile), [true, true, true, false, false])
  })

  it("a kept file's line says why", () => {
    assert.strictEqual(renderPromptOutcome("kept", "p.md"), "kept        p.md (changed since it was installed; --force replaces it)")
    assert.strictEqual(renderPromptOutcome("updated", "p.md"), "updated     p.md")
  })
})
