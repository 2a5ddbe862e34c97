/**
 * `plan` (text, CLI-5): a stage's command, cwd, env, summary hint and the pipeline's description are
 * printed as the config holds them, but a line break in one continues under its field (indented) and
 * control characters are escaped: a multi-line command never prints a line of its own at the left
 * margin, nor sends escape codes to the terminal.
 */
import { assert, describe, it } from "@effect/vitest"
import { planText } from "../src/cli/planOutput.js"
import { hasControlCharacter } from "../src/domain/OneLine.js"
import type { PlanView } from "../src/services/RunEngine.js"
import { commandStage, pipeline } from "./support/pipelines.js"

describe("planText", () => {
  it("continues a multi-line value under its field and escapes control characters", () => {
    const view: PlanView = {
      taskId: "t",
      pipeline: {
        ...pipeline("p", [
          commandStage("build", "make all\r\nStages:\n  2. [command] Forged (forged)\u001b[31m", {
            cwd: "sub\u001b]0;title\u0007dir",
            env: { A: "1\nB=2" },
            summaryHint: "hint\nNotes: forged"
          })
        ]),
        description: "Line one\nLine two"
      },
      source: "user",
      plan: { items: [], targetId: null }
    }
    const lines = planText(view).split("\n")
    assert.isFalse(lines.some(hasControlCharacter), lines.join(" | "))
    assert.deepStrictEqual(lines, [
      "Pipeline: p — Pipeline p [user]",
      "Description: Line one",
      "             Line two",
      "Stages:",
      "  1. [command] build (build)",
      "     command: make all",
      "              Stages:",
      "                2. [command] Forged (forged)\\u001b[31m",
      "     cwd: sub\\u001b]0;title\\u0007dir",
      "     env: A=1",
      "          B=2",
      "     summaryHint: hint",
      "                  Notes: forged",
      "Notes: Line one",
      "       Line two"
    ])
  })
})
