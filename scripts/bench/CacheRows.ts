/**
 * The stage cache's row (B-5): a 10-stage pipeline re-run with every stage cached against its first
 * run (an empty cache: every stage works, then is stored). The first run's cache is in `.runs`, which
 * the bench removes after every run; the re-runs use a cache folder of their own, filled by the
 * warm-up round and kept.
 */
import { Command, Path } from "@effect/platform"
import { Effect } from "effect"
import type { Arm, BenchFailed, Measure } from "./Measure.js"
import { ms, type Row, type Summary, verdict } from "./Report.js"
import * as Workloads from "./Workloads.js"

/** The target: the cached re-run takes at most a tenth of the first run. */
const cachedShare = 0.1

export interface CacheBench {
  readonly group: (name: string, arms: ReadonlyArray<Arm>, runs: number, warmup: boolean) => Effect.Effect<ReadonlyArray<Summary>, BenchFailed>
  readonly measure: Measure
  readonly cli: (...args: Array<string>) => Command.Command
  readonly repo: string
  readonly task: string
  readonly runsOf: (workload: Workloads.Workload) => number
}

export const cacheRows = ({ cli, group, measure, repo, runsOf, task }: CacheBench) =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const workload = Workloads.cached10
    const start = cli("start", workload.id, "--task", task, "--format", "json")
    const keptCache = path.join(repo, ".bench-cache")
    const arms: ReadonlyArray<Arm> = [
      { name: "first run (empty cache)", run: measure.startRun("cache: first run", start, repo) },
      {
        name: "re-run, every stage cached",
        run: measure.startRun("cache: re-run", start.pipe(Command.env({ CODEX_ORCHESTRATOR_CACHE_DIR: keptCache })), repo)
      }
    ]
    const [first, cached] = yield* group(workload.id, arms, runsOf(workload), true)
    const [firstMs, cachedMs] = [first?.medianMs ?? Number.NaN, cached?.medianMs ?? Number.NaN]
    const rows: ReadonlyArray<Row> = [{
      workload: `${workload.label}: re-run, all cached`,
      orchestrator: ms(cachedMs),
      floor: `first run: ${ms(firstMs)}`,
      overhead: `${(cachedMs / firstMs).toFixed(3)}× the first run`,
      target: `≤ ${cachedShare}× the first run`,
      result: verdict(cachedMs / firstMs <= cachedShare)
    }]
    return rows
  })
