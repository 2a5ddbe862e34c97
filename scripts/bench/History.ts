/**
 * "History does not slow a run" (issue 19, MET-3): a trivial `start` in a task with 20,000 earlier
 * runs against the same `start` as the task's 2nd run, and `status` with 20,000 run folders present
 * against 2. The long history is synthesized from one real run: its metrics line repeated under
 * other run ids, its manifest copied into 20,000 run folders; a real run then brings the running
 * totals up to date before anything is measured. The 2nd run is measured on a task restored, before
 * each round, to its state after one run. CPU is the CLI's (user + system, children included) as
 * `times` reports it.
 */
import { Command, FileSystem, Path } from "@effect/platform"
import { Effect, Schema } from "effect"
import { asBenchFailed, BenchFailed, type Measure, type Sample } from "./Measure.js"

/** Runs in the long task, the first real one included. */
export const historyRuns = 20_000

const StartResult = Schema.parseJson(Schema.Struct({ run_id: Schema.String, status: Schema.String }))
const MetricsLine = Schema.parseJson(Schema.Record({ key: Schema.String, value: Schema.Unknown }))

/** `times` in a POSIX shell: its second line is the children's user and system time. */
const timesPattern = /(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/g

const childCpuMs = (stderr: string) => {
  const last = [...stderr.matchAll(timesPattern)].pop()
  if (last === undefined) return Number.NaN
  const [, um, us, sm, ss] = last
  return (Number(um) * 60 + Number(us) + Number(sm) * 60 + Number(ss)) * 1000
}

export interface HistoryContext {
  readonly repo: string
  readonly cliPath: string
  readonly env: Record<string, string>
  /** A pipeline of one trivial stage. */
  readonly pipeline: string
}

export interface HistorySample extends Sample {
  readonly cpuMs: number
}

export const makeHistory = (measure: Measure, context: HistoryContext) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const fresh = "bench-history-fresh"
    const long = "bench-history-long"
    const runsDir = (task: string) => path.join(context.repo, ".runs", task)
    const outDir = (task: string) => path.join(context.repo, "out", task)
    const kept = path.join(context.repo, ".bench-kept", "history-fresh")

    /** `node <cli> <args>` with its CPU time: the shell reports its children's times on stderr. */
    const cliWithCpu = (...args: Array<string>) =>
      Command.make("sh", "-c", "\"$@\"; code=$?; times >&2; exit $code", "sh", "node", context.cliPath, ...args).pipe(
        Command.workingDirectory(context.repo),
        Command.env(context.env)
      )
    const timedCli = (label: string, ...args: Array<string>) =>
      measure.timed(label, cliWithCpu(...args), false).pipe(
        Effect.map((run): HistorySample & { readonly stdout: string } => ({
          wallMs: run.wallMs,
          peakRssKiB: run.peakRssKiB,
          diskBytes: undefined,
          cpuMs: childCpuMs(run.stderr),
          stdout: run.stdout
        }))
      )
    const start = (task: string) =>
      timedCli(`start (${task})`, "start", context.pipeline, "--task", task, "--format", "json").pipe(
        Effect.flatMap((run) =>
          Schema.decodeUnknown(StartResult)(run.stdout).pipe(
            Effect.filterOrFail((result) => result.status === "succeeded", () => new BenchFailed({ message: `a run in ${task} did not succeed` })),
            Effect.map((result) => ({ sample: run, runId: result.run_id }))
          )),
        Effect.mapError(asBenchFailed(`start in ${task}`))
      )

    const copyTree = (from: string, to: string) =>
      fs.remove(to, { recursive: true, force: true }).pipe(Effect.zipRight(fs.copy(from, to)))

    // The fresh task after one run, kept to be restored before each measured 2nd run.
    const first = yield* start(fresh)
    yield* copyTree(runsDir(fresh), path.join(kept, "runs"))
    yield* copyTree(outDir(fresh), path.join(kept, "out"))
    const restoreFresh = Effect.all([
      copyTree(path.join(kept, "runs"), runsDir(fresh)),
      copyTree(path.join(kept, "out"), outDir(fresh))
    ], { discard: true })

    // The long task: one real run, then its metrics line and manifest for 19,998 more.
    const seed = yield* start(long)
    const metricsFile = path.join(runsDir(long), "metrics.json")
    const line = yield* fs.readFileString(metricsFile).pipe(Effect.flatMap(Schema.decodeUnknown(MetricsLine)))
    const synthetic = Array.from({ length: historyRuns - 2 }, (_, i) => `synthetic-${String(i + 1).padStart(6, "0")}`)
    yield* fs.writeFileString(metricsFile, synthetic.map((runId) => `${JSON.stringify({ ...line, run_id: runId })}\n`).join(""), { flag: "a" })
    const manifest = path.join(runsDir(long), "cli", seed.runId, "manifest.json")
    yield* Effect.forEach(synthetic, (runId) => {
      const dir = path.join(runsDir(long), "cli", runId)
      return fs.makeDirectory(dir).pipe(Effect.zipRight(fs.copyFile(manifest, path.join(dir, "manifest.json"))))
    }, { concurrency: 16, discard: true })
    // The 20,000th run: brings the running totals up to date with the synthesized lines.
    yield* start(long)

    return {
      /** A `start` as the fresh task's 2nd run. */
      second: restoreFresh.pipe(Effect.zipRight(start(fresh)), Effect.map((run) => run.sample), Effect.mapError(asBenchFailed("restoring the fresh task"))),
      /** A `start` in the task with 20,000 runs or more. */
      longRun: Effect.map(start(long), (run) => run.sample),
      status: (task: "fresh" | "long") =>
        timedCli(`status (${task})`, "status", "--run", task === "fresh" ? first.runId : seed.runId, "--task", task === "fresh" ? fresh : long)
    }
  })
