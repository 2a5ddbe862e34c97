/**
 * MET-3 `metrics/per-epoch.json`'s TF-GRPO columns: what the runs of one epoch cost in tool calls,
 * tokens, dollars and time (the tool metrics of TFG-2, summed per epoch and per tool). Pure.
 */
import { Schema } from "effect"

const round = (value: number, digits: number) => Number(value.toFixed(digits))

/**
 * A tool metric as a metrics line holds it: ours name the fields in camel case (TFG-2), the
 * original's lines in snake case; both count.
 */
const RecordedToolStat = Schema.Struct({
  tool: Schema.NonEmptyString,
  tokens: Schema.optional(Schema.Number),
  costUsd: Schema.optional(Schema.Number),
  cost_usd: Schema.optional(Schema.Number),
  latencyMs: Schema.optional(Schema.Number),
  latency_ms: Schema.optional(Schema.Number)
})
const decodeToolStat = Schema.decodeUnknownOption(RecordedToolStat)

/** What per-epoch.json reads of a metrics line (MET-1's TF-GRPO columns). */
export interface EpochLine {
  readonly tfgrpo_group_size?: number | null | undefined
  readonly tool_calls?: number | null | undefined
  readonly token_total?: number | null | undefined
  readonly cost_usd?: number | null | undefined
  readonly latency_ms?: number | null | undefined
  readonly tool_stats?: ReadonlyArray<unknown> | null | undefined
}

const total = (lines: ReadonlyArray<EpochLine>, field: "tool_calls" | "token_total" | "cost_usd" | "latency_ms") =>
  lines.reduce((sum, line) => sum + (line[field] ?? 0), 0)

/**
 * MET-3 `per-epoch.json`: one epoch's tool totals over its runs. `group_size_avg` is the mean of the
 * runs that recorded a group size (null when none did); `tools` sums each tool's metrics in the order
 * the tools first appear, a run counting once per metric it holds (a metric without a tool is skipped).
 */
export const epochToolTotalsOf = (lines: ReadonlyArray<EpochLine>) => {
  const groupSizes = lines.map((line) => line.tfgrpo_group_size).filter((size): size is number => typeof size === "number")
  const tools = new Map<string, { runs: number; tokens: number; costUsd: number; latencyMs: number }>()
  for (const stat of lines.flatMap((line) => line.tool_stats ?? [])) {
    const decoded = decodeToolStat(stat)
    if (decoded._tag === "None") continue
    const { tool, tokens = 0, costUsd, cost_usd, latencyMs, latency_ms } = decoded.value
    const sums = tools.get(tool) ?? { runs: 0, tokens: 0, costUsd: 0, latencyMs: 0 }
    tools.set(tool, {
      runs: sums.runs + 1,
      tokens: sums.tokens + tokens,
      costUsd: sums.costUsd + (costUsd ?? cost_usd ?? 0),
      latencyMs: sums.latencyMs + (latencyMs ?? latency_ms ?? 0)
    })
  }
  return {
    tool_calls: total(lines, "tool_calls"),
    token_total: total(lines, "token_total"),
    cost_usd: round(total(lines, "cost_usd"), 6),
    latency_ms: total(lines, "latency_ms"),
    group_size_avg: groupSizes.length === 0 ? null : groupSizes.reduce((sum, size) => sum + size, 0) / groupSizes.length,
    tools: [...tools.entries()].map(([tool, sums]) => ({
      tool,
      runs: sums.runs,
      tokens: sums.tokens,
      cost_usd: round(sums.costUsd, 6),
      latency_ms: sums.latencyMs
    }))
  }
}
