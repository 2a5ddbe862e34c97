/** The rows of the history workload (History.ts): the 20,000th run against the 2nd, wall and CPU. */
import { Console, Effect } from "effect"
import { historyRuns, type HistorySample, makeHistory, type HistoryContext } from "./History.js"
import { type BenchFailed, measureArms, type Measure } from "./Measure.js"
import { median, ms, type Row, verdict } from "./Report.js"

/** "Within 10 %" of the 2nd run. */
const historyRatio = 1.1

export const historyRows = (measure: Measure, context: HistoryContext, quick: boolean) =>
  Effect.gen(function*() {
    yield* Console.error(`[bench] history: synthesizing a task with ${historyRuns} runs`)
    const history = yield* makeHistory(measure, context)
    const rounds = quick ? 3 : 7
    const cpu = new Map<string, Array<number>>()
    const arm = (name: string, run: Effect.Effect<HistorySample, BenchFailed>) => ({
      name,
      run: Effect.tap(run, (sample) => Effect.sync(() => cpu.set(name, [...(cpu.get(name) ?? []), sample.cpuMs])))
    })
    const names = {
      second: "start, 2nd run of a task",
      long: `start, run ${historyRuns}+ of a task`,
      statusFresh: "status, 2 run folders",
      statusLong: `status, ${historyRuns} run folders`
    }
    const results = yield* measureArms("history", [
      arm(names.second, history.second),
      arm(names.long, history.longRun),
      arm(names.statusFresh, history.status("fresh")),
      arm(names.statusLong, history.status("long"))
    ], { runs: rounds, warmup: false })
    const wall = (i: number) => median(results[i]?.samples.map((sample) => sample.wallMs) ?? [])
    const cpuOf = (name: string) => median(cpu.get(name) ?? [])
    const row = (workload: string, i: number, j: number, a: string, b: string): Row => {
      const wallRatio = wall(j) / wall(i)
      const cpuRatio = cpuOf(b) / cpuOf(a)
      return {
        workload,
        orchestrator: `wall ${ms(wall(j))}, CPU ${ms(cpuOf(b))}`,
        floor: `wall ${ms(wall(i))}, CPU ${ms(cpuOf(a))}`,
        overhead: `${wallRatio.toFixed(3)}× wall, ${cpuRatio.toFixed(3)}× CPU`,
        target: `≤ ${historyRatio}× (within 10 %)`,
        result: verdict(wallRatio <= historyRatio && cpuRatio <= historyRatio)
      }
    }
    return [
      row(`\`start\`, 1 × \`true\`: run ${historyRuns} of a task (floor: its 2nd run)`, 0, 1, names.second, names.long),
      row(`\`status\` with ${historyRuns} run folders in the task (floor: 2)`, 2, 3, names.statusFresh, names.statusLong)
    ]
  })
