/**
 * The stage graph's rows (B-2): eight `sleep 1` side by side against the 1 s floor, and the cost per
 * stage of 64 trivial stages at concurrency 8 against the same 64 run one after another.
 *
 * The eight sleeps are judged by the run's wall as its manifest records it (`started_at`, written when
 * the run is created, to `completed_at`): planning, the eight spawns, their logs and every manifest
 * write are inside it; the CLI's start-up before the run exists and its exit after are not, since the
 * target's floor is the one second of `sleep 1` and start-up has targets of its own. The process's
 * wall is shown beside it.
 */
import { Path } from "@effect/platform"
import { Effect, Ref, Schema } from "effect"
import { type Arm, asBenchFailed, type BenchFailed } from "./Measure.js"
import { median, ms, type Row, type Summary, verdict } from "./Report.js"
import * as Workloads from "./Workloads.js"

/** The target: eight 1 s stages at concurrency 8 end within 1.25 s. */
const graphSleepsWallMs = 1250

export interface GraphBench {
  readonly group: (name: string, arms: ReadonlyArray<Arm>, runs: number, warmup: boolean) => Effect.Effect<ReadonlyArray<Summary>, BenchFailed>
  /** A `start` of the workload; with `keepIn`, its run folder is moved there afterwards. */
  readonly start: (workload: Workloads.Workload, keepIn?: string) => Arm
  readonly runsOf: (workload: Workloads.Workload) => number
  /** The median of `start` with one trivial stage, the fixed cost the per-stage figures leave out. */
  readonly oneStageMs: number
  readonly repo: string
  /** The manifest of the run kept in a folder by `start(workload, keepIn)`. */
  readonly keptManifest: (keepIn: string) => Effect.Effect<string, BenchFailed>
}

const RunTimes = Schema.parseJson(Schema.Struct({ started_at: Schema.String, completed_at: Schema.String }))

/** The run's wall in a manifest. */
const runWallMs = (manifestText: string) =>
  Effect.map(Schema.decodeUnknown(RunTimes)(manifestText), (times) => Date.parse(times.completed_at) - Date.parse(times.started_at))

export const graphRows = ({ group, keptManifest, oneStageMs, repo, runsOf, start }: GraphBench) =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const medianOf = (summaries: ReadonlyArray<Summary>, i: number) => summaries[i]?.medianMs ?? Number.NaN
    const kept = path.join(repo, ".bench-kept", "graph-sleeps")
    const runWalls = yield* Ref.make<ReadonlyArray<number>>([])
    const sleepsArm = start(Workloads.graphSleeps, kept)
    const recorded: Arm = {
      name: sleepsArm.name,
      run: Effect.tap(sleepsArm.run, () =>
        keptManifest(kept).pipe(
          Effect.flatMap(runWallMs),
          Effect.mapError(asBenchFailed(`reading the run's wall from the manifest kept in ${kept}`)),
          Effect.flatMap((wall) => Ref.update(runWalls, (walls) => [...walls, wall]))
        ))
    }
    const sleeps = yield* group("graph 8 × sleep 1", [recorded], runsOf(Workloads.graphSleeps), false)
    const runWall = median(yield* Ref.get(runWalls))
    const trivial = yield* group(
      "64 × true, graph vs serial",
      [start(Workloads.graphTrivial64), start(Workloads.trivial64)],
      runsOf(Workloads.graphTrivial64),
      true
    )
    const perStage = (total: number) => (total - oneStageMs) / 63
    const [graph, serial] = [perStage(medianOf(trivial, 0)), perStage(medianOf(trivial, 1))]
    const rows: ReadonlyArray<Row> = [{
      workload: `${Workloads.graphSleeps.label}: the run's wall in its manifest`,
      orchestrator: `${ms(runWall)} (process: ${ms(medianOf(sleeps, 0))}, a 1-stage start: ${ms(oneStageMs)})`,
      floor: "1 × sleep 1: 1000.0 ms (serial: 8000 ms)",
      overhead: `+${ms(runWall - 1000)}`,
      target: `≤ ${ms(graphSleepsWallMs)}`,
      result: verdict(runWall <= graphSleepsWallMs)
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
