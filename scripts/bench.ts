/**
 * `npm run bench`: runs the built CLI (dist/bin/codex-orchestrator.cjs) on the workloads of the
 * performance issue in a temporary repository, compares it with floors (`node -e 0`, the stage
 * commands by `sh -c`) and checks the targets. The Markdown results go to stdout, progress to
 * stderr. `--quick` runs fewer repetitions and skips the 800 MiB workload. Then `status` on a
 * finished run, and two runs in progress: the orchestrator while a stage sleeps, and `status --watch`.
 */
import { Command as Cli, Options } from "@effect/cli"
import { Command, FileSystem, Path } from "@effect/platform"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Duration, Effect, Option } from "effect"
import { type IdleResult, makeLive, type WatchResult } from "./bench/Live.js"
import { compare } from "./bench/Compare.js"
import { buildEffectFloor } from "./bench/EffectFloor.js"
import { cacheRows } from "./bench/CacheRows.js"
import { clusterRows } from "./bench/ClusterRows.js"
import { graphRows } from "./bench/GraphRows.js"
import { stageRows } from "./bench/StageRows.js"
import { historyRows } from "./bench/HistoryRows.js"
import { otelRows } from "./bench/OtelRows.js"
import { type Arm, BenchFailed, makeMeasure, measureArms } from "./bench/Measure.js"
import {
  detailsTable,
  median,
  megabytes,
  mib,
  ms,
  type Row,
  resultsTable,
  signedMs,
  summarize,
  type Summary,
  throughput,
  verdict
} from "./bench/Report.js"
import * as Workloads from "./bench/Workloads.js"

/** The targets from the issue. */
const targets = {
  startOverNodeMs: 80,
  perStageMs: 3,
  planOverNodeMs: 60,
  peakRssMiB: 110,
  throughputShare: 0.5,
  /** 100k interleaved short lines: at most this many times the floor's time. */
  linesFloorRatio: 4,
  diskRatio: 1.1,
  statusOverNodeMs: 60,
  /** `status` on a run that printed 200 MiB against one that printed nothing: "independent of output". */
  statusOutputDeltaMs: 10,
  /** "No measurable CPU": a couple of 10 ms clock ticks at most. */
  idleCpuMs: 20,
  heartbeatSeconds: 5,
  heartbeatToleranceSeconds: 0.5,
  watchInterval: Duration.seconds(1)
}

/** The task of the `start` runs; the runs in progress go to their own. */
const benchTask = "bench"
const liveTask = "bench-live"

/**
 * Windows over which CPU time is sampled: 4 s of a `sleep 6` stage, from a moment after the stage
 * was spawned (the window ends before the first heartbeat, 5 s after the stage began); ~2 s of a watch.
 */
const idleSettle = Duration.millis(250)
const idleWindow = Duration.seconds(4)
const watchWindow = Duration.seconds(2)

/** `status` runs are cheap and the deltas small: more rounds than the `start` workloads. */
const statusRuns: Workloads.Runs = { full: 15, quick: 8 }

/** Blank (= unset, D-3) every variable the CLI reads, so the caller's environment cannot steer the runs. */
const neutralEnv = {
  CODEX_ORCHESTRATOR_ROOT: "",
  CODEX_ORCHESTRATOR_RUNS_DIR: "",
  CODEX_ORCHESTRATOR_OUT_DIR: "",
  CODEX_ORCHESTRATOR_TARGET_STAGE: "",
  MCP_RUNNER_TASK_ID: "",
  CODEX_ORCHESTRATOR_WRITE_CODE_CACHE: ""
}

const bench = (quick: boolean, compareWith: Option.Option<string>, only: Option.Option<"cache" | "cluster" | "graph" | "otel" | "stages">) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const measure = yield* makeMeasure

    const projectRoot = yield* path.fromFileUrl(new URL("..", import.meta.url))
    const cliPath = path.join(projectRoot, "dist", "bin", "codex-orchestrator.cjs")
    if (!(yield* fs.exists(cliPath))) {
      return yield* new BenchFailed({ message: `${cliPath} is missing: run \`npm run build\` first` })
    }

    const runsOf = (workload: Workloads.Workload) => (quick ? workload.runs.quick : workload.runs.full)
    const workloads = Workloads.all.filter((workload) => runsOf(workload) > 0)
    const repo = yield* fs.makeTempDirectoryScoped({ prefix: "codex-orchestrator-bench-" })
    yield* fs.writeFileString(path.join(repo, "codex.orchestrator.json"), Workloads.configFile(workloads))
    // Other work on the machine skews every number: record the load the runs saw.
    const loadAverage = fs.readFileString("/proc/loadavg").pipe(
      Effect.map((text) => text.split(" ").slice(0, 3).join(" ")),
      Effect.orElseSucceed(() => "n/a")
    )
    const loadBefore = yield* loadAverage
    yield* Console.error(`[bench] ${quick ? "quick" : "full"} run in ${repo}, load average ${loadBefore}`)
    if (Option.isSome(compareWith)) {
      const theirs = path.resolve(compareWith.value)
      yield* compare(measure, { repo, ours: cliPath, theirs, env: neutralEnv, quick })
      return yield* Console.log(`\nLoad average (1, 5, 15 min) before: ${loadBefore}; after: ${yield* loadAverage}.`)
    }

    const inRepo = (command: Command.Command) => command.pipe(Command.workingDirectory(repo), Command.env(neutralEnv))
    const cli = (...args: Array<string>) => inRepo(Command.make("node", cliPath, ...args))
    const nodeFloor: Arm = { name: "node -e 0", run: measure.sample("node -e 0", inRepo(Command.make("node", "-e", "0")), true) }
    // One run of each of these is kept (moved aside) for `status`.
    const keptTrivial = path.join(repo, ".bench-kept", "trivial")
    const keptHeavy = path.join(repo, ".bench-kept", "heavy")
    const start = (workload: Workloads.Workload, keepIn?: string): Arm => ({
      name: `start ${workload.id}`,
      run: measure.startRun(
        `start ${workload.id}`,
        cli("start", workload.id, "--task", benchTask, "--format", "json"),
        repo,
        keepIn
      )
    })
    const shellFloor = (workload: Workloads.Workload): Arm => ({
      name: `${workload.stages.length} × sh -c`,
      run: measure.shellFloor(`sh -c (${workload.id})`, workload.stages, repo)
    })

    const rows: Array<Row> = []
    const details: Array<{ group: string; arms: ReadonlyArray<Summary> }> = []
    const group = (name: string, arms: ReadonlyArray<Arm>, runs: number, warmup: boolean) =>
      measureArms(name, arms, { runs, warmup }).pipe(
        Effect.map((results) => results.map(summarize)),
        Effect.tap((arms) => Effect.sync(() => details.push({ group: name, arms })))
      )
    const medianOf = (summaries: ReadonlyArray<Summary>, i: number) => summaries[i]?.medianMs ?? Number.NaN
    const cached = cacheRows({ group, measure, cli, repo, task: benchTask, runsOf })
    const otel = otelRows({ measure, cli, nodeFloor, repo, task: benchTask, runsOf })
    if (Option.isSome(only)) {
      yield* Console.log(`## codex-orchestrator benchmark: ${only.value} only (${quick ? "--quick" : "full"})\n`)
      const chosen = only.value === "cache"
        ? yield* cached
        : only.value === "otel"
        ? yield* otel
        : only.value === "cluster"
        ? yield* clusterRows({ group, measure, cli, start, repo, task: benchTask, runsOf })
        : only.value === "stages"
        ? yield* stageRows({ group, start, shellFloor, runs: quick ? 5 : 11, targetMs: targets.perStageMs })
        : yield* Effect.flatMap(
          group("1 × true", [start(Workloads.trivial1)], runsOf(Workloads.trivial1), true),
          (one) => graphRows({ group, start, runsOf, oneStageMs: medianOf(one, 0), repo, keptManifest: measure.keptManifest })
        )
      yield* Console.log(resultsTable(chosen))
      yield* Console.log(`\nLoad average (1, 5, 15 min) before: ${loadBefore}; after: ${yield* loadAverage}.\n`)
      return yield* Console.log(detailsTable(details))
    }

    // Start-up: one trivial stage against `node -e 0` and against one `sh -c true`.
    const one = yield* group("1 × true", [start(Workloads.trivial1, keptTrivial), nodeFloor, shellFloor(Workloads.trivial1)], runsOf(Workloads.trivial1), true)
    const [start1, node1, sh1] = [medianOf(one, 0), medianOf(one, 1), medianOf(one, 2)]
    rows.push({
      workload: Workloads.trivial1.label,
      orchestrator: ms(start1),
      floor: `node -e 0: ${ms(node1)}; sh -c true: ${ms(sh1)}`,
      overhead: `${signedMs(start1 - node1)} vs node`,
      target: `≤ +${targets.startOverNodeMs} ms vs node -e 0`,
      result: verdict(start1 - node1 <= targets.startOverNodeMs)
    })

    // Per-stage cost: the 20-stage run against the 1-stage run, minus what `sh -c true` costs anyway.
    const twenty = yield* group("20 × true", [start(Workloads.trivial20), shellFloor(Workloads.trivial20)], runsOf(Workloads.trivial20), true)
    const [start20, sh20] = [medianOf(twenty, 0), medianOf(twenty, 1)]
    const perStage = (start20 - start1) / 19 - sh20 / 20
    rows.push({
      workload: Workloads.trivial20.label,
      orchestrator: ms(start20),
      floor: `20 × sh -c true: ${ms(sh20)}`,
      overhead: `${perStage.toFixed(2)} ms per extra stage ((${ms(start20)} − ${ms(start1)})/19 − ${ms(sh20 / 20)})`,
      target: `≤ ${targets.perStageMs} ms per extra stage`,
      result: verdict(perStage <= targets.perStageMs)
    })

    const sleep = yield* group("5 × sleep 0.2", [start(Workloads.sleeps), shellFloor(Workloads.sleeps)], runsOf(Workloads.sleeps), false)
    rows.push({
      workload: Workloads.sleeps.label,
      orchestrator: ms(medianOf(sleep, 0)),
      floor: `5 × sh -c: ${ms(medianOf(sleep, 1))}`,
      overhead: signedMs(medianOf(sleep, 0) - medianOf(sleep, 1)),
      target: "—",
      result: "info"
    })

    // Commands that run no stage, against the start-up floor.
    const planPipeline = Workloads.trivial20.id
    const plan = yield* group("plan", [
      { name: `plan ${planPipeline}`, run: measure.sample(`plan ${planPipeline}`, cli("plan", planPipeline, "--format", "json"), true) },
      nodeFloor
    ], runsOf(Workloads.trivial1), true)
    rows.push({
      workload: `\`plan\` (${planPipeline})`,
      orchestrator: ms(medianOf(plan, 0)),
      floor: `node -e 0: ${ms(medianOf(plan, 1))}`,
      overhead: signedMs(medianOf(plan, 0) - medianOf(plan, 1)),
      target: `≤ +${targets.planOverNodeMs} ms vs node -e 0`,
      result: verdict(medianOf(plan, 0) - medianOf(plan, 1) <= targets.planOverNodeMs)
    })
    const version = yield* group("--version", [
      { name: "--version", run: measure.sample("--version", cli("--version"), true) },
      nodeFloor
    ], runsOf(Workloads.trivial1), true)
    rows.push({
      workload: "`--version`",
      orchestrator: ms(medianOf(version, 0)),
      floor: `node -e 0: ${ms(medianOf(version, 1))}`,
      overhead: signedMs(medianOf(version, 0) - medianOf(version, 1)),
      target: "—",
      result: "info"
    })

    // Output-heavy workloads: time against `sh -c '<cmd> > /dev/null'`, memory, and bytes on disk.
    const diskRow = (workload: Workloads.Workload, summary: Summary | undefined, printed: number): Row => {
      const disk = summary?.diskBytes ?? Number.NaN
      return {
        workload: `${workload.label}: bytes on disk`,
        orchestrator: `${megabytes(disk)} (commands/*.ndjson + manifest)`,
        floor: `printed: ${megabytes(printed)}`,
        overhead: `${(disk / printed).toFixed(3)}×`,
        target: `≤ ${targets.diskRatio}×`,
        result: verdict(disk / printed <= targets.diskRatio)
      }
    }
    const peaks: Array<{ workload: Workloads.Workload; peakRssKiB: number | undefined }> = []
    for (const workload of workloads.filter((w) => w.heavyOutput)) {
      const command = workload.stages[0] ?? "true"
      yield* Console.error(`[bench] ${workload.id}: counting printed bytes`)
      const printed = yield* measure.printedBytes(command, repo)
      const keepIn = workload === Workloads.output200 ? keptHeavy : undefined
      const arms = yield* group(workload.id, [start(workload, keepIn), shellFloor(workload)], runsOf(workload), false)
      const orchestrator = arms[0]
      const [orchestratorMs, floorMs] = [medianOf(arms, 0), medianOf(arms, 1)]
      if (workload === Workloads.lines100k) {
        rows.push({
          workload: workload.label,
          orchestrator: ms(orchestratorMs),
          floor: `sh -c '… > /dev/null': ${ms(floorMs)}`,
          overhead: `${(orchestratorMs / floorMs).toFixed(2)}× the floor's time`,
          target: `≤ ${targets.linesFloorRatio}× the floor's time`,
          result: verdict(orchestratorMs / floorMs <= targets.linesFloorRatio)
        })
        rows.push(diskRow(workload, orchestrator, printed))
        continue
      }
      const share = floorMs / orchestratorMs
      rows.push({
        workload: `${workload.label}: throughput`,
        orchestrator: throughput(printed, orchestratorMs),
        floor: `sh -c '… > /dev/null': ${throughput(printed, floorMs)}`,
        overhead: `${(share * 100).toFixed(1)}% of the floor`,
        target: `≥ ${targets.throughputShare * 100}% of the floor`,
        result: verdict(share >= targets.throughputShare)
      })
      const peak = orchestrator?.peakRssKiB
      peaks.push({ workload, peakRssKiB: peak })
      rows.push({
        workload: `${workload.label}: peak RSS`,
        orchestrator: mib(peak),
        floor: `node -e 0: ${mib(one[1]?.peakRssKiB)}`,
        overhead: "",
        target: `≤ ${targets.peakRssMiB} MiB`,
        result: verdict(peak !== undefined && peak <= targets.peakRssMiB * 1024)
      })
      rows.push(diskRow(workload, orchestrator, printed))
    }

    // Flat memory: the peak should not grow with the amount of output.
    const smallest = peaks[0]
    const largest = peaks[peaks.length - 1]
    if (smallest !== undefined && largest !== undefined && smallest !== largest) {
      const growth = (largest.peakRssKiB ?? Number.NaN) - (smallest.peakRssKiB ?? Number.NaN)
      rows.push({
        workload: `peak RSS growth, ${smallest.workload.label} → ${largest.workload.label}`,
        orchestrator: `${mib(smallest.peakRssKiB)} → ${mib(largest.peakRssKiB)}`,
        floor: "",
        overhead: `${growth >= 0 ? "+" : "−"}${mib(Math.abs(growth))}`,
        target: "—",
        result: "info"
      })
    }

    // `status` reads the manifest only: as fast on the run that printed 200 MiB as on a trivial one.
    const runsDir = path.join(repo, ".runs", benchTask, "cli")
    const trivialRun = yield* measure.restoreRun(keptTrivial, runsDir)
    const heavyRun = yield* measure.restoreRun(keptHeavy, runsDir)
    const statusArm = (name: string, runId: string, json: boolean): Arm => ({
      name,
      run: measure.sample(
        name,
        cli("status", "--run", runId, "--task", benchTask, ...(json ? ["--format", "json"] : [])),
        true
      )
    })
    // The least any Effect program doing status's work costs (read, decode, print): what is left of
    // `status` over it is ours. Same loader and code cache as the executable (bench/EffectFloor.ts).
    const floorDir = path.join(repo, ".bench-effect-floor")
    const floorArgs = ["status", "--run", trivialRun.runId, "--task", benchTask]
    const effectFloorCommand = inRepo(Command.make("node", path.join(floorDir, "codex-orchestrator.cjs"), ...floorArgs))
    yield* buildEffectFloor(projectRoot, floorDir, effectFloorCommand)
    const effectFloor: Arm = {
      name: "Effect floor (FileSystem read, Schema decode, print)",
      run: measure.sample("Effect floor", effectFloorCommand, true)
    }
    const statusResults = yield* measureArms("status", [
      statusArm("status, 1 × true run", trivialRun.runId, false),
      statusArm("status --format json, 1 × true run", trivialRun.runId, true),
      statusArm(`status, ${Workloads.output200.id} run`, heavyRun.runId, false),
      statusArm(`status --format json, ${Workloads.output200.id} run`, heavyRun.runId, true),
      nodeFloor,
      effectFloor
    ], { runs: quick ? statusRuns.quick : statusRuns.full, warmup: true })
    const statuses = statusResults.map(summarize)
    details.push({ group: "status", arms: statuses })
    yield* fs.remove(path.join(repo, ".runs"), { recursive: true })
    const statusNode = medianOf(statuses, 4)
    const statusEffect = medianOf(statuses, 5)
    const statusRow = (run: string, text: number, json: number, manifestBytes: number): Row => ({
      workload: `\`status\` (text; \`--format json\`), ${run}`,
      orchestrator: `${ms(text)}; ${ms(json)}`,
      floor: `node -e 0: ${ms(statusNode)}; Effect floor: ${ms(statusEffect)}`,
      overhead: `${signedMs(text - statusNode)}; ${signedMs(json - statusNode)} vs node, ` +
        `${signedMs(text - statusEffect)}; ${signedMs(json - statusEffect)} vs Effect floor (manifest: ${megabytes(manifestBytes)})`,
      target: `≤ +${targets.statusOverNodeMs} ms vs node -e 0`,
      result: verdict(Math.max(text, json) - statusNode <= targets.statusOverNodeMs)
    })
    const [smallText, smallJson] = [medianOf(statuses, 0), medianOf(statuses, 1)]
    const [largeText, largeJson] = [medianOf(statuses, 2), medianOf(statuses, 3)]
    rows.push(statusRow("run of 1 × `true`", smallText, smallJson, trivialRun.manifestBytes))
    rows.push(statusRow("run that printed 200 MiB", largeText, largeJson, heavyRun.manifestBytes))
    rows.push({
      workload: "Effect floor of `status`: FileSystem read, Schema decode, one line printed (scripts/bench/effectFloorMain.ts)",
      orchestrator: "",
      floor: ms(statusEffect),
      overhead: `${signedMs(statusEffect - statusNode)} vs node -e 0`,
      target: `the least any Effect program doing this costs; over +${targets.statusOverNodeMs} ms, no \`status\` can pass here`,
      result: "info"
    })
    // The two runs' arms are adjacent in every round: the median of the rounds' differences cancels
    // the drift of a shared machine better than the difference of the medians.
    const walls = (i: number) => statusResults[i]?.samples.map((sample) => sample.wallMs) ?? []
    const pairedDelta = (small: number, large: number) =>
      median(walls(large).map((wall, round) => wall - (walls(small)[round] ?? Number.NaN)))
    const [textDelta, jsonDelta] = [pairedDelta(0, 2), pairedDelta(1, 3)]
    rows.push({
      workload: "`status`: run that printed 200 MiB − run of 1 × `true` (median of the rounds' differences)",
      orchestrator: `${signedMs(textDelta)}; ${signedMs(jsonDelta)}`,
      floor: "",
      overhead: "",
      target: `≈ 0 (|Δ| ≤ ${targets.statusOutputDeltaMs} ms): reads only the manifest`,
      result: verdict(Math.max(Math.abs(textDelta), Math.abs(jsonDelta)) <= targets.statusOutputDeltaMs)
    })

    // OpenTelemetry off costs start-up nothing; on, what exporting the trace costs (issue 22).
    rows.push(...(yield* otel))

    // The stage graph (B-2): stages side by side, and the cost per stage at concurrency 8.
    rows.push(...(yield* graphRows({ group, start, runsOf, oneStageMs: start1, repo, keptManifest: measure.keptManifest })))

    // The stage cache (B-5): a 10-stage gate re-run with every stage cached, against its first run.
    rows.push(...(yield* cached))

    // History does not slow a run (MET-3): the 20,000th run of a task against its 2nd, and `status`.
    rows.push(...(yield* historyRows(measure, { repo, cliPath, env: neutralEnv, pipeline: Workloads.trivial1.id }, quick)))

    // Runs in progress: no CPU while a stage sleeps but the heartbeat; `status --watch` between ticks.
    const live = yield* makeLive(measure, { repo, task: liveTask, cli })
    const tickMs = 1000 / live.ticksPerSecond
    const rounds = (workload: Workloads.Workload) => Array.from({ length: runsOf(workload) }, (_, i) => i + 1)
    const list = (values: ReadonlyArray<number>, format: (value: number) => string) => values.map(format).join(", ")
    const cpu = (value: number) => `${value.toFixed(0)} ms`
    const seconds = (duration: Duration.Duration) => `${Duration.toSeconds(duration)} s`
    const heartbeatGaps = (result: IdleResult) =>
      result.heartbeatFile.slice(1).map((stamp, i) => (Date.parse(stamp) - Date.parse(result.heartbeatFile[i] ?? "")) / 1000)
    const describeIdle = (result: IdleResult) =>
      `CPU ${cpu(result.cpuMs)} in ${ms(result.windowMs)}; .heartbeat writes: ${result.heartbeatFile.length - 1} ` +
      `(gaps ${list(heartbeatGaps(result), (s) => `${s.toFixed(2)} s`) || "none"}); ` +
      `manifest heartbeat_at advances: ${Math.max(result.manifestHeartbeat.length - 1, 0)}`
    const idleRuns = yield* Effect.forEach(rounds(Workloads.idle), (round) =>
      live.idle(Workloads.idle, idleSettle, idleWindow).pipe(
        Effect.tap((result) => Console.error(`[bench] ${Workloads.idle.id} ${round}/${runsOf(Workloads.idle)}: ${describeIdle(result)}`))
      ))
    const idleCpu = idleRuns.map((result) => result.cpuMs)
    rows.push({
      workload: `orchestrator CPU while a stage sleeps (${Workloads.idle.label}), ${seconds(idleWindow)}`,
      orchestrator: `${list(idleCpu, cpu)} CPU`,
      floor: `1 clock tick: ${cpu(tickMs)}`,
      overhead: "",
      target: `≤ ${targets.idleCpuMs} ms (no measurable CPU)`,
      result: verdict(idleCpu.length > 0 && Math.max(...idleCpu) <= targets.idleCpuMs)
    })
    const heartbeatOk = (result: IdleResult) => {
      const gaps = heartbeatGaps(result)
      return gaps.length > 0 &&
        gaps.every((gap) => Math.abs(gap - targets.heartbeatSeconds) <= targets.heartbeatToleranceSeconds)
    }
    rows.push({
      workload: `heartbeat while a stage sleeps (${Workloads.idle.label})`,
      orchestrator: idleRuns.map((result) =>
        `.heartbeat: ${result.heartbeatFile.length - 1} write(s), ${list(heartbeatGaps(result), (s) => `${s.toFixed(2)} s`) || "—"} apart`
      ).join("; "),
      floor: `manifest heartbeat_at advanced: ${list(idleRuns.map((result) => Math.max(result.manifestHeartbeat.length - 1, 0)), String)}`,
      overhead: "",
      target: `every ${targets.heartbeatSeconds} s (± ${targets.heartbeatToleranceSeconds} s)`,
      result: verdict(idleRuns.length > 0 && idleRuns.every(heartbeatOk))
    })

    const intervalMs = Duration.toMillis(targets.watchInterval)
    const describeWatch = (result: WatchResult) =>
      `printed ${ms(result.delayMs)} after the run finished; CPU ${cpu(result.cpuMs)} in ${ms(result.windowMs)}` +
      `${result.finishedInWindow ? " (the run finished inside the window)" : ""}; ${result.documents} documents`
    const watchRuns = yield* Effect.forEach(rounds(Workloads.watched), (round) =>
      live.watch(Workloads.watched, targets.watchInterval, watchWindow).pipe(
        Effect.tap((result) => Console.error(`[bench] ${Workloads.watched.id} ${round}/${runsOf(Workloads.watched)}: ${describeWatch(result)}`))
      ))
    const delays = watchRuns.map((result) => result.delayMs)
    rows.push({
      workload: `${Workloads.watched.label}: run finished → final document printed`,
      orchestrator: list(delays, ms),
      floor: `interval: ${ms(intervalMs)}`,
      overhead: "",
      target: `≤ ${ms(intervalMs)} (the interval)`,
      result: verdict(delays.length > 0 && Math.max(...delays) <= intervalMs)
    })
    const watchCpu = watchRuns.map((result) => result.cpuMs)
    const overlapped = watchRuns.filter((result) => result.finishedInWindow).length
    rows.push({
      workload: `${Workloads.watched.label}: CPU between ticks, ${seconds(watchWindow)}`,
      orchestrator: `${list(watchCpu, cpu)} CPU`,
      floor: `1 clock tick: ${cpu(tickMs)}`,
      overhead: overlapped === 0 ? "" : `${overlapped} window(s) included the final print`,
      target: `≤ ${targets.idleCpuMs} ms (no measurable CPU)`,
      result: verdict(watchCpu.length > 0 && Math.max(...watchCpu) <= targets.idleCpuMs)
    })

    const failed = rows.filter((row) => row.result === "FAIL").length
    const checked = rows.filter((row) => row.result !== "info").length
    const loadAfter = yield* loadAverage
    yield* Console.log(`## codex-orchestrator benchmark (${quick ? "--quick" : "full"})\n`)
    yield* Console.log(`Load average (1, 5, 15 min) before: ${loadBefore}; after: ${loadAfter}.\n`)
    yield* Console.log(resultsTable(rows))
    yield* Console.log(`\n${checked - failed} of ${checked} targets met.\n`)
    yield* Console.log(
      "Times are medians of wall time, each process spawned by this script. Floors: `node -e 0`; each stage command by " +
        "`sh -c '<cmd> > /dev/null 2>&1'`, one after another. Throughput = bytes the stage prints (`wc -c`) / wall time. " +
        "Peak RSS is the CLI process's VmHWM (its children excluded), the highest over the runs. `status` runs on a " +
        "finished run. CPU is utime + stime from /proc/<pid>/stat (the process's threads, not its children), " +
        "one value per run; the watch delay runs from the manifest showing the run finished (polled every 20 ms) " +
        "to the watch's last line arriving.\n"
    )
    yield* Console.log("### Runs (wall time; peak RSS is the highest over the runs, disk the largest)\n")
    yield* Console.log(detailsTable(details))
  }).pipe(Effect.scoped)

const quick = Options.boolean("quick").pipe(
  Options.withDescription("Fewer repetitions, and skip the 800 MiB workload (a smoke test)")
)

const compareWith = Options.file("compare", { exists: "yes" }).pipe(
  Options.withDescription("Instead of the targets: run the start and status workloads by this CLI and by the given one (a cli.js), alternately, and print their ratios"),
  Options.optional
)

const only = Options.choice("only", ["cache", "cluster", "graph", "otel", "stages"]).pipe(
  Options.withDescription(
    "Measure only these rows: cache (a 10-stage gate re-run with every stage cached, against its first run), " +
      "graph (8 × sleep 1 side by side; 64 trivial stages at concurrency 8 against serial), " +
      "otel (start with OpenTelemetry off and with --otel-endpoint at a loopback collector), " +
      "stages (the cost per extra stage: 1 and 20 trivial stages and 20 × sh -c true, alternating), " +
      "cluster (cloud stages on a local database and 2 runners: the warm cost per remote stage, 8 × sleep 1 on 2 runners of capacity 4)"
  ),
  Options.optional
)

const command = Cli.make("bench", { quick, compare: compareWith, only }, ({ compare, only, quick }) => bench(quick, compare, only)).pipe(
  Cli.withDescription("Benchmark the built CLI against node -e 0 and sh -c floors")
)

Cli.run(command, { name: "bench", version: "0.1.0" })(process.argv).pipe(
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain
)
