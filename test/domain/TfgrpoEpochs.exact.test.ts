/** MET-3's per-epoch TF-GRPO columns to the exact value (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { epochToolTotalsOf } from "../../src/domain/TfgrpoEpochs.js"

describe("epochToolTotalsOf, exactly", () => {
  it("no lines: zeros, no group size, no tools", () => {
    assert.deepStrictEqual(epochToolTotalsOf([]), { tool_calls: 0, token_total: 0, cost_usd: 0, latency_ms: 0, group_size_avg: null, tools: [] })
  })

  it("sums the runs' columns and each tool's metrics in first-seen order, camel or snake case", () => {
    const totals = epochToolTotalsOf([
      {
        tfgrpo_group_size: 2,
        tool_calls: 3,
        token_total: 100,
        cost_usd: 0.1234564,
        latency_ms: 50,
        tool_stats: [
          { tool: "search", tokens: 10, costUsd: 0.001, latencyMs: 5 },
          { tool: "exec", cost_usd: 0.0000004, latency_ms: 7 },
          { tool: "", tokens: 99 },
          "not a metric"
        ]
      },
      { tfgrpo_group_size: null, tool_calls: null, token_total: 1, cost_usd: null, latency_ms: 2, tool_stats: null },
      {
        tfgrpo_group_size: 5,
        tool_stats: [{ tool: "exec", tokens: 4, costUsd: 0.002, cost_usd: 9, latencyMs: 1, latency_ms: 9 }]
      }
    ])
    assert.deepStrictEqual(totals, {
      tool_calls: 3,
      token_total: 101,
      cost_usd: 0.123456,
      latency_ms: 52,
      group_size_avg: 3.5,
      tools: [
        { tool: "search", runs: 1, tokens: 10, cost_usd: 0.001, latency_ms: 5 },
        { tool: "exec", runs: 2, tokens: 4, cost_usd: 0.002, latency_ms: 8 }
      ]
    })
  })
})
