/**
 * `npm run bench -- --compare <path-to-cli.js>`: the start workloads and `status` run by this CLI and
 * by another (the published original, installed into a scratch folder), in alternating order within
 * each round so that drift in the machine's speed hits both alike, and their ratios. Each CLI's runs
 * go to a task of their own; `status` reads a run each CLI made itself.
 */
import { Command, FileSystem, Path } from "@effect/platform"
import { Console, Effect } from "effect"
import { type Arm, measureArms, type Measure } from "./Measure.js"
import { mib, ms, summarize, type Summary } from "./Report.js"
import * as Workloads from "./Workloads.js"

export interface CompareContext {
  readonly repo: string
  readonly ours: string
  readonly theirs: string
  readonly env: Record<string, string>
  readonly quick: boolean
}

const table = (rows: ReadonlyArray<ReadonlyArray<string>>) =>
  [
    "| workload | this CLI (median wall; peak RSS) | other CLI | wall ratio (this / other) | RSS ratio |",
    "| --- | --- | --- | --- | --- |",
    ...rows.map((cells) => `| ${cells.join(" | ")} |`)
  ].join("\n")

export const compare = (measure: Measure, context: CompareContext) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const cli = (script: string, task: string, ...args: Array<string>) =>
      Command.make("node", script, ...args).pipe(
        Command.workingDirectory(context.repo),
        // The original reads the task from the environment only; ours honours it too (D-3).
        Command.env({ ...context.env, MCP_RUNNER_TASK_ID: task })
      )
    const sides = [{ name: "this CLI", script: context.ours, task: "compare-ours" }, {
      name: "other CLI",
      script: context.theirs,
      task: "compare-other"
    }]
    const keepDir = (side: number) => path.join(context.repo, ".bench-kept", `compare-${side}`)
    const startArm = (workload: Workloads.Workload, side: number, keep: boolean): Arm => {
      const { name, script, task } = sides[side] ?? { name: "", script: "", task: "" }
      return {
        name: `${name}: start ${workload.id}`,
        run: measure.startRun(
          `${name}: start ${workload.id}`,
          cli(script, task, "start", workload.id, "--task", task, "--format", "json"),
          context.repo,
          keep ? keepDir(side) : undefined
        )
      }
    }
    const rows: Array<ReadonlyArray<string>> = []
    const pair = (label: string, arms: ReadonlyArray<Summary>) => {
      const [a, b] = arms
      if (a === undefined || b === undefined) return
      const rss = a.peakRssKiB !== undefined && b.peakRssKiB !== undefined ? `${(a.peakRssKiB / b.peakRssKiB).toFixed(2)}×` : ""
      rows.push([
        label,
        `${ms(a.medianMs)}; ${mib(a.peakRssKiB)}`,
        `${ms(b.medianMs)}; ${mib(b.peakRssKiB)}`,
        `${(a.medianMs / b.medianMs).toFixed(2)}×`,
        rss
      ])
    }
    // --quick keeps the short ones: the 200/800 MiB runs take minutes a side.
    const quickSet: ReadonlyArray<Workloads.Workload> = [Workloads.trivial1, Workloads.trivial20, Workloads.lines100k, Workloads.output20]
    const workloads = Workloads.all.filter((w) =>
      w !== Workloads.idle && w !== Workloads.watched && (context.quick ? quickSet.includes(w) : w.runs.full > 0)
    )
    for (const workload of workloads) {
      const keep = workload === Workloads.trivial1
      const results = yield* measureArms(`compare ${workload.id}`, [startArm(workload, 0, keep), startArm(workload, 1, keep)], {
        runs: context.quick ? 3 : workload.runs.full,
        warmup: !workload.heavyOutput
      })
      pair(workload.label, results.map(summarize))
    }
    // `status` of a trivial run, each CLI on a run of its own.
    const statusArms = yield* Effect.forEach([0, 1], (side) =>
      Effect.gen(function*() {
        const { name, script, task } = sides[side] ?? { name: "", script: "", task: "" }
        const [runId] = yield* fs.readDirectory(keepDir(side))
        const runsDir = path.join(context.repo, ".runs", task, "cli")
        yield* fs.makeDirectory(runsDir, { recursive: true })
        yield* fs.rename(path.join(keepDir(side), runId ?? ""), path.join(runsDir, runId ?? ""))
        return { name: `${name}: status`, run: measure.sample(`${name}: status`, cli(script, task, "status", "--run", runId ?? ""), true) }
      }))
    const statuses = yield* measureArms("compare status", statusArms, { runs: context.quick ? 5 : 15, warmup: true })
    pair("`status`, run of 1 × `true`", statuses.map(summarize))
    yield* Console.log(`## codex-orchestrator benchmark: this CLI against ${context.theirs}\n`)
    yield* Console.log(table(rows))
    yield* Console.log(
      "\nMedians of wall time over alternating runs (this CLI, then the other, in every round); peak RSS is the CLI " +
        "process's VmHWM, the highest over the runs. A ratio below 1 means this CLI is faster or smaller."
    )
  })
