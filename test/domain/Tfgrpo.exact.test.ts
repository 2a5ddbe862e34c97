/**
 * TF-GRPO's pure rules at their edges (TFG-1, TFG-3, TFG-4; mutation testing, issue 16): the group id
 * trimmed and a blank one falling back, each variable alone turning the context on, the stdout
 * observer's whitespace bytes and its head across chunks and past its byte limit, a pack without a
 * stamp, and the top experiences' order.
 */
import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import {
  type Experience,
  experiencePackOf,
  insertTop,
  makeStdoutObserver,
  stdoutHeadLimitBytes,
  type TfgrpoSection,
  tfgrpoContextOf
} from "../../src/domain/Tfgrpo.js"

const none = { epoch: undefined, groupId: undefined, groupSize: undefined }
const recorded: TfgrpoSection = {
  epoch: 4,
  group_id: "recorded",
  group_size: 3,
  tool_metrics: { tool_calls: 0, token_total: 0, cost_usd: 0, latency_ms: 0, per_tool: [] },
  experiences: null
}

describe("tfgrpoContextOf (TFG-1)", () => {
  it("trims the group id; a blank one is not given, so it neither turns the context on nor hides the recorded one", () => {
    assert.deepStrictEqual(tfgrpoContextOf({ ...none, groupId: "  g-1  " }), Either.right({ epoch: null, groupId: "g-1", groupSize: null }))
    assert.deepStrictEqual(tfgrpoContextOf({ ...none, groupId: "   " }), Either.right(undefined))
    assert.deepStrictEqual(
      tfgrpoContextOf({ ...none, groupId: " ", groupSize: 2 }, recorded),
      Either.right({ epoch: 4, groupId: "recorded", groupSize: 2 })
    )
  })

  it("a group size alone turns it on; with nothing set and a null recorded section it stays off", () => {
    assert.deepStrictEqual(tfgrpoContextOf({ ...none, groupSize: 5 }), Either.right({ epoch: null, groupId: null, groupSize: 5 }))
    assert.deepStrictEqual(tfgrpoContextOf(none, null), Either.right(undefined))
  })
})

const bytes = (text: string) => new TextEncoder().encode(text)

describe("makeStdoutObserver (TFG-2, TFG-3)", () => {
  it("counts words between the whitespace bytes 9-13 and 32 only; other control bytes are part of a word", () => {
    const observer = makeStdoutObserver()
    observer.push(bytes("a\rb\u000bc\u0001d\u0008e f"))
    assert.strictEqual(observer.tokens(), 4)
  })

  it("keeps the first two lines when the second ends in a later chunk", () => {
    const observer = makeStdoutObserver()
    observer.push(bytes("one\ntw"))
    observer.push(bytes("o\nthree\n"))
    assert.deepStrictEqual(observer.head(), ["one", "two"])
  })

  it("keeps at most its byte limit of a first line that never ends, and stops there", () => {
    const observer = makeStdoutObserver()
    observer.push(bytes("x".repeat(stdoutHeadLimitBytes - 1)))
    observer.push(bytes("yz\nsecond\n"))
    assert.deepStrictEqual(observer.head(), [`${"x".repeat(stdoutHeadLimitBytes - 1)}y`])
  })

  it("a blank line does not count as one of the two", () => {
    const observer = makeStdoutObserver()
    observer.push(bytes("\n  \nfirst\n"))
    observer.push(bytes("second\nthird\n"))
    assert.deepStrictEqual(observer.head(), ["first", "second"])
  })
})

describe("experiencePackOf (TFG-3)", () => {
  it("needs both a domain and a stamp", () => {
    assert.strictEqual(experiencePackOf([{ domain: "implementation", stamp: "" }]), undefined)
    assert.strictEqual(experiencePackOf([{ domain: "", stamp: "s" }]), undefined)
    assert.deepStrictEqual(experiencePackOf([{ domain: "implementation", stamp: "s" }]), { domain: "implementation", stamp: "s" })
  })
})

const experience = (id: string, score: number, createdAt: string): Experience => ({
  id,
  runId: `run-${id}`,
  taskId: "t",
  epoch: 1,
  groupId: "g1",
  summary32: id,
  reward: { gtScore: score, relativeRank: 0 },
  toolStats: [],
  stampSignature: "a".repeat(64),
  domain: "implementation",
  createdAt,
  manifestPath: `.runs/t/cli/run-${id}/manifest.json`
})

describe("insertTop (TFG-4)", () => {
  const query = { taskId: "t", domain: "implementation", limit: 5 }
  const high = experience("high", 3, "2026-01-01T00:00:00.000Z")
  const low = experience("low", 1, "2026-01-01T00:00:00.000Z")

  it("puts an experience between a better and a worse one, each once", () => {
    const middle = experience("middle", 2, "2026-01-01T00:00:00.000Z")
    assert.deepStrictEqual(insertTop([high, low], middle, query).map((e) => e.id), ["high", "middle", "low"])
  })

  it("a lower score goes after, however new it is", () => {
    const newerLow = experience("newer-low", 1, "2026-06-01T00:00:00.000Z")
    assert.deepStrictEqual(insertTop([high], newerLow, query).map((e) => e.id), ["high", "newer-low"])
  })

  it("a limit of 0 keeps what it has and adds nothing", () => {
    assert.deepStrictEqual(insertTop([high], low, { ...query, limit: 0 }).map((e) => e.id), ["high"])
  })
})
