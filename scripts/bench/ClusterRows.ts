/**
 * The cluster's rows (issue 18), on loopback: a database from `cluster db` and two `runner`s of
 * capacity 4, started here and stopped with the scope. The bench folder is made a git repository,
 * so each remote stage pays for what a real one does (the workspace snapshot, a worktree a stage).
 * - the warm cost per remote stage: `start --cloud` of 20 trivial stages against 1 (each `start` is a
 *   new client, cold: the difference leaves its start-up out), beside the same figure run locally;
 * - 8 × `sleep 1` as a graph at concurrency 8 on the two runners, after one such run outside the
 *   figures: the stages' span, from the first stage's start to the last one's end in the manifest
 *   (the run's wall, a cold client's start-up included, is shown beside it).
 */
import { Command, FileSystem, Path } from "@effect/platform"
import { Duration, Effect, Schedule, Schema } from "effect"
import { type Arm, BenchFailed, type Measure } from "./Measure.js"
import { ms, type Row, type Summary, verdict } from "./Report.js"
import * as Workloads from "./Workloads.js"

/** The targets: under 50 ms a remote stage, warm; the eight sleeps within 1.5 s. */
const perStageTargetMs = 50
const sleepsTargetMs = 1500

export interface ClusterBench {
  readonly group: (name: string, arms: ReadonlyArray<Arm>, runs: number, warmup: boolean) => Effect.Effect<ReadonlyArray<Summary>, BenchFailed>
  readonly measure: Measure
  readonly cli: (...args: Array<string>) => Command.Command
  readonly start: (workload: Workloads.Workload) => Arm
  readonly repo: string
  readonly task: string
  readonly runsOf: (workload: Workloads.Workload) => number
}

const Entries = Schema.Struct({
  commands: Schema.Array(Schema.Struct({
    started_at: Schema.NullOr(Schema.String),
    completed_at: Schema.NullOr(Schema.String),
    remote: Schema.optional(Schema.NullOr(Schema.Struct({ runner: Schema.String })))
  }))
})

/**
 * From the first stage's start to the last stage's end, in a kept run's manifest, and how the stages
 * split over the runners (e.g. `4/4`: placement spreads them by free capacity).
 */
const stagesSpan = (manifestText: string) =>
  Effect.map(Schema.decodeUnknown(Schema.parseJson(Entries))(manifestText), ({ commands }) => {
    const starts = commands.flatMap((c) => (c.started_at === null ? [] : [Date.parse(c.started_at)]))
    const ends = commands.flatMap((c) => (c.completed_at === null ? [] : [Date.parse(c.completed_at)]))
    const perRunner = new Map<string, number>()
    for (const c of commands) {
      const runner = c.remote?.runner ?? "local"
      perRunner.set(runner, (perRunner.get(runner) ?? 0) + 1)
    }
    const split = Array.from(perRunner.values()).sort((a, b) => b - a).join("/")
    return { spanMs: Math.max(...ends) - Math.min(...starts), split }
  })

const git = (repo: string, ...args: Array<string>) =>
  Command.make("git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", ...args).pipe(Command.workingDirectory(repo), Command.exitCode)

export const clusterRows = ({ cli, group, measure, repo, runsOf, start, task }: ClusterBench) =>
  Effect.scoped(Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const failed = (message: string) => (cause: unknown) => new BenchFailed({ message, cause })
    yield* git(repo, "init", "-q").pipe(Effect.mapError(failed("git could not make the bench folder a repository")))
    // The runs the bench keeps (moved into .bench-kept/ after they end) are its own bookkeeping, not
    // changes of the repository: left in, each kept run changed the next runs' uncommitted diff, so
    // the measured runs never met the same workspace twice.
    yield* fs.writeFileString(path.join(repo, ".git", "info", "exclude"), ".bench-kept/\n").pipe(
      Effect.mapError(failed("could not write the bench repository's .git/info/exclude"))
    )
    yield* Effect.forEach([["add", "-A"], ["commit", "-q", "-m", "bench"]], (args) => git(repo, ...args)).pipe(
      Effect.mapError(failed("git could not make the bench folder a repository"))
    )
    // Under root PostgreSQL runs as its own user, which must reach the folder (a temp folder is 0700).
    const dataParent = yield* fs.makeTempDirectoryScoped({ prefix: "codex-orchestrator-bench-db-" })
    yield* fs.chmod(dataParent, 0o755)
    const data = path.join(dataParent, "data")
    const database = yield* measure.background("cluster db", cli("cluster", "db", "--data", data, "--port", "54391"))
    const url = yield* database.lines.pipe(
      Effect.flatMap((lines) => {
        const line = lines.find((l) => l.text.startsWith("postgres://"))
        return line === undefined ? Effect.fail("not yet") : Effect.succeed(line.text.trim())
      }),
      Effect.retry(Schedule.spaced(Duration.millis(200)).pipe(Schedule.upTo(Duration.seconds(60)))),
      Effect.mapError(failed("cluster db printed no URL within 60 s"))
    )
    const clusterEnv = { CODEX_CLUSTER_DATABASE_URL: url }
    yield* Effect.forEach([34441, 34442], (port) =>
      measure.background(`runner ${port}`, cli(
        "runner", "--listen", `127.0.0.1:${port}`, "--capacity", "4", "--workspaces", path.join(repo, ".bench-ws", String(port))
      ).pipe(Command.env(clusterEnv))))
    const cloud = (workload: Workloads.Workload, keepIn?: string): Arm => ({
      name: `start --cloud ${workload.id}`,
      run: measure.startRun(
        `start --cloud ${workload.id}`,
        cli("start", workload.id, "--cloud", "--task", task, "--format", "json").pipe(Command.env(clusterEnv)),
        repo,
        keepIn
      )
    })
    // The runners register and take their shards (a client started while they do was seen not to
    // exit after its run), then a warm-up run outside the figures.
    yield* Effect.sleep(Duration.seconds(8))
    yield* cloud(Workloads.trivial1).run

    const medianOf = (summaries: ReadonlyArray<Summary>, i: number) => summaries[i]?.medianMs ?? Number.NaN
    const runs = runsOf(Workloads.trivial20)
    const remote = yield* group("cloud: 1 vs 20 × true", [cloud(Workloads.trivial1), cloud(Workloads.trivial20)], runs, false)
    const local = yield* group("local: 1 vs 20 × true", [start(Workloads.trivial1), start(Workloads.trivial20)], runs, false)
    const perStage = (summaries: ReadonlyArray<Summary>) => (medianOf(summaries, 1) - medianOf(summaries, 0)) / 19
    const kept = path.join(repo, ".bench-kept", "cluster-sleeps")
    // After a warm-up run outside the figures: runners in steady use hold a ready worktree a slot,
    // and the runs measured meet that (a `--quick` run's only run of the sleeps met runners holding
    // one each, and made the rest of its eight worktrees on the way).
    const sleeps = yield* group("cloud: graph 8 × sleep 1", [cloud(Workloads.graphSleeps, kept)], runsOf(Workloads.graphSleeps), true)
    const { spanMs: span, split } = yield* measure.keptManifest(kept).pipe(
      Effect.flatMap(stagesSpan),
      Effect.mapError(failed("the kept run's manifest could not be read"))
    )
    const rows: ReadonlyArray<Row> = [{
      workload: "`start --cloud`, warm cost per remote stage (20 × `true` against 1, 2 runners on loopback)",
      orchestrator: `${ms(perStage(remote))} (1: ${ms(medianOf(remote, 0))}, 20: ${ms(medianOf(remote, 1))})`,
      floor: `local: ${ms(perStage(local))} per stage`,
      overhead: `+${ms(perStage(remote) - perStage(local))} per stage`,
      target: `< ${ms(perStageTargetMs)}`,
      result: verdict(perStage(remote) < perStageTargetMs)
    }, {
      workload: "`start --cloud`, 8 × `sleep 1` as a graph on 2 runners of capacity 4: the stages' span",
      orchestrator: `${ms(span)}, split ${split} (run's wall, cold client included: ${ms(medianOf(sleeps, 0))})`,
      floor: "1 × sleep 1: 1000.0 ms",
      overhead: `+${ms(span - 1000)}`,
      target: `< ${ms(sleepsTargetMs)}`,
      result: verdict(span < sleepsTargetMs)
    }]
    return rows
  }))
