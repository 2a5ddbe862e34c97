/**
 * The one judgement of whether a recorded process still runs (a run's owner, a runner's hold on its
 * --workspaces): another machine cannot be checked; here the pid must live with the start time
 * recorded, when both are known.
 */
import { assert, describe, it } from "@effect/vitest"
import { judgeLiveness, mayBeAlive } from "../../src/layers/internal/holderLiveness.js"

const here = { host: "box", alive: true, startTime: "100" }

describe("judgeLiveness", () => {
  it("elsewhere, alive, gone, reused", () => {
    const cases = [
      [{ pid: 7, host: "other", started: "1" }, { ...here, alive: false }, "elsewhere"],
      [{ pid: 7, host: "box", started: "100" }, here, "alive"],
      [{ pid: 7, host: "box" }, here, "alive"],
      [{ pid: 7, host: "box", started: "100" }, { ...here, startTime: undefined }, "alive"],
      [{ pid: 7, host: "box", started: "100" }, { ...here, alive: false }, "gone"],
      [{ pid: 7, host: "box", started: "99" }, here, "reused"]
    ] as const
    assert.deepStrictEqual(cases.map(([mark, facts]) => judgeLiveness(mark, facts)), cases.map(([, , expected]) => expected))
    assert.deepStrictEqual((["elsewhere", "alive", "gone", "reused"] as const).map(mayBeAlive), [true, true, false, false])
  })
})
