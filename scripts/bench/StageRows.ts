/**
 * `--only stages`: the per-stage cost alone (issue 19's first target), the 20-stage run against the
 * 1-stage run, minus what `sh -c true` costs anyway, all arms alternating within each round. The
 * full bench computes the same row from its start-up groups.
 */
import { Effect } from "effect"
import type { Arm, BenchFailed } from "./Measure.js"
import { ms, type Row, type Summary, verdict } from "./Report.js"
import * as Workloads from "./Workloads.js"

export interface StageBench {
  readonly group: (name: string, arms: ReadonlyArray<Arm>, runs: number, warmup: boolean) => Effect.Effect<ReadonlyArray<Summary>, BenchFailed>
  readonly start: (workload: Workloads.Workload) => Arm
  readonly shellFloor: (workload: Workloads.Workload) => Arm
  readonly runs: number
  readonly targetMs: number
}

export const stageRows = ({ group, runs, shellFloor, start, targetMs }: StageBench) =>
  Effect.gen(function*() {
    const arms = yield* group(
      "1 and 20 × true",
      [start(Workloads.trivial1), start(Workloads.trivial20), shellFloor(Workloads.trivial20)],
      runs,
      true
    )
    const [start1, start20, sh20] = arms.map((arm) => arm.medianMs)
    const perStage = ((start20 ?? Number.NaN) - (start1 ?? Number.NaN)) / 19 - (sh20 ?? Number.NaN) / 20
    const row: Row = {
      workload: Workloads.trivial20.label,
      orchestrator: ms(start20 ?? Number.NaN),
      floor: `20 × sh -c true: ${ms(sh20 ?? Number.NaN)}; 1 × true: ${ms(start1 ?? Number.NaN)}`,
      overhead: `${perStage.toFixed(2)} ms per extra stage`,
      target: `≤ ${targetMs} ms per extra stage`,
      result: verdict(perStage <= targetMs)
    }
    return [row]
  })
