/** CLI-8: when the HUD is drawn, and the reason given when it is not. */
import { assert, describe, it } from "@effect/vitest"
import { hudGate, type HudGateInput } from "../../src/cli/hud.js"

const terminal: HudGateInput = {
  requested: true,
  flaggedOff: false,
  format: "text",
  stdoutTty: true,
  stderrTty: true,
  term: "xterm-256color",
  ci: undefined
}

const reasonOf = (input: Partial<HudGateInput>) => {
  const gate = hudGate({ ...terminal, ...input })
  return gate.show ? "shown" : `${gate.reason}${gate.quiet ? " (quiet)" : ""}`
}

describe("hudGate", () => {
  it("shown on a terminal when asked for", () => {
    assert.strictEqual(reasonOf({}), "shown")
    assert.strictEqual(reasonOf({ ci: "" }), "shown")
    assert.strictEqual(reasonOf({ ci: "false" }), "shown")
    assert.strictEqual(reasonOf({ term: undefined }), "shown")
  })

  it("refused, with the reason, in the order CLI-8 checks them", () => {
    assert.strictEqual(reasonOf({ requested: false }), "not requested (quiet)")
    assert.strictEqual(reasonOf({ flaggedOff: true }), "flagged off (quiet)")
    assert.strictEqual(reasonOf({ format: "json", stdoutTty: false }), "json format requested")
    assert.strictEqual(reasonOf({ stdoutTty: false }), "not a terminal (stdout and stderr must both be one)")
    assert.strictEqual(reasonOf({ stderrTty: false }), "not a terminal (stdout and stderr must both be one)")
    assert.strictEqual(reasonOf({ term: "DUMB" }), "TERM=dumb")
    assert.strictEqual(reasonOf({ ci: "true" }), "CI detected")
    assert.strictEqual(reasonOf({ ci: "1" }), "CI detected")
  })
})
