/**
 * The stage graph's rows (B-2): eight `sleep 1` side by side against the 1 s floor, and the cost per
 * stage of 64 trivial stages at concurrency 8 against the same 64 run one after another.
 */
import { Effect } from "effect"
import type { Arm, BenchFailed } from "./Measure.js"
import { ms, type Row, type Summary, verdict } from "./Report.js"
import * as Workloads from "./Workloads.js"

/** The target: eight 1 s stages at concurrency 8 end within 1.25 s. */
const graphSleepsWallMs = 1250

export interface GraphBench {
  readonly group: (name: string, arms: ReadonlyArray<Arm>, runs: number, warmup: boolean) => Effect.Effect<ReadonlyArray<Summary>, BenchFailed>
  readonly start: (workload: Workloads.Workload) => Arm
  readonly runsOf: (workload: Workloads.Workload) => number
  /** The median of `start` with one trivial stage, the fixed cost the per-stage figures leave out. */
  readonly oneStageMs: number
}

export const graphRows = ({ group, oneStageMs, runsOf, start }: GraphBench) =>
  Effect.gen(function*() {
    const medianOf = (summaries: ReadonlyArray<Summary>, i: number) => summaries[i]?.medianMs ?? Number.NaN
    const sleeps = yield* group("graph 8 × sleep 1", [start(Workloads.graphSleeps)], runsOf(Workloads.graphSleeps), false)
    const wall = medianOf(sleeps, 0)
    const trivial = yield* group(
      "64 × true, graph vs serial",
      [start(Workloads.graphTrivial64), start(Workloads.trivial64)],
      runsOf(Workloads.graphTrivial64),
      true
    )
    const perStage = (total: number) => (total - oneStageMs) / 63
    const [graph, serial] = [perStage(medianOf(trivial, 0)), perStage(medianOf(trivial, 1))]
    const rows: ReadonlyArray<Row> = [{
      workload: Workloads.graphSleeps.label,
      orchestrator: ms(wall),
      floor: "1 × sleep 1: 1000.0 ms (serial: 8000 ms)",
      overhead: `+${ms(wall - 1000)}`,
      target: `≤ ${ms(graphSleepsWallMs)}`,
      result: verdict(wall <= graphSleepsWallMs)
    }, {
      workload: Workloads.graphTrivial64.label,
      orchestrator: `${ms(medianOf(trivial, 0))} (${perStage(medianOf(trivial, 0)).toFixed(2)} ms per extra stage)`,
      floor: `serial: ${ms(medianOf(trivial, 1))} (${serial.toFixed(2)} ms per extra stage)`,
      overhead: `${(graph / serial).toFixed(2)}× the serial cost per stage`,
      target: "≤ serial per stage",
      result: verdict(graph <= serial)
    }]
    return rows
  })
