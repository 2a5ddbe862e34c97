/**
 * `plan --format mermaid` (B-2): a stage's title is shown as written whatever it holds. Mermaid reads
 * `#name;` and `#35;` in a label as character entities, so a title that contains one must come out
 * as that text, not as the character it names.
 */
import { assert, describe, it } from "@effect/vitest"
import { planMermaid } from "../src/cli/planOutput.js"
import type { PlanView } from "../src/services/RunEngine.js"
import { commandStage, pipeline } from "./support/pipelines.js"

const viewOf = (titles: ReadonlyArray<string>): PlanView => ({
  taskId: "t",
  pipeline: pipeline("p", titles.map((title, i) => commandStage(`s${i}`, "true", { title }))),
  source: "user",
  plan: { items: [], targetId: null }
})

describe("planMermaid", () => {
  it("escapes quotes, brackets and entity-looking text, so the label reads as the title", () => {
    const lines = planMermaid(viewOf(["Build \"all\" <fast>", "Issue #35; and #quot; & co"])).split("\n")
    assert.deepStrictEqual(lines, [
      "flowchart TD",
      "  s1[\"s0: Build #quot;all#quot; #lt;fast#gt;\"]",
      "  s2[\"s1: Issue #35;35; and #35;quot; #amp; co\"]",
      "  s1 --> s2"
    ])
  })
})
