/**
 * `plan` (text, CLI-5): a stage's command, cwd, env, summary hint and the pipeline's description are
 * printed as the config holds them, but a line break in one continues under its field (indented) and
 * control characters are escaped: a multi-line command never prints a line of its own at the left
 * margin, nor sends escape codes to the terminal.
 */
import { assert, describe, it } from "@effect/vitest"
import { planJson, planText } from "../src/cli/planOutput.js"
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

  it("shows what a stage does besides its command: approval, retry, skip code, where it runs, its cache (text and JSON)", () => {
    // What the stage says, which the JSON gives back as it is.
    const behaviour = {
      approvalRequired: true,
      approvalKey: "prod",
      retry: { attempts: 3, initialDelayMs: 100, onExitCodes: [75] },
      skipExitCode: 78,
      executionMode: "cloud",
      runsOn: ["gpu"],
      cache: { inputs: ["src/**"], env: ["NODE_ENV"], outputs: ["dist"] }
    } as const
    const view: PlanView = {
      taskId: "t",
      pipeline: pipeline("p", [
        commandStage("deploy", "./deploy", behaviour),
        commandStage("plain", "true")
      ]),
      source: "user",
      plan: { items: [], targetId: null }
    }
    assert.deepStrictEqual(planText(view).split("\n").slice(3, 10), [
      "     command: ./deploy",
      "     skipExitCode: 78",
      "     retry: 3 attempts, first wait 100 ms, doubling, on exit codes 75",
      "     approval: required (key prod)",
      "     runs: cloud, on runners labelled gpu",
      "     cache: inputs src/**; env NODE_ENV; outputs dist",
      "  2. [command] plain (plain)"
    ])
    const [deploy, plain] = planJson(view).stages
    assert.deepInclude(deploy, behaviour)
    assert.deepInclude(plain, { approvalRequired: false, approvalKey: null, retry: null, skipExitCode: null, executionMode: null, runsOn: null, cache: null })
  })
})
