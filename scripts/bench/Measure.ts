/**
 * Timed process runs: wall time from the Clock, peak RSS from /proc/<pid>/status, CPU time from
 * /proc/<pid>/stat, and the bytes a `start` run left on disk. Processes left running in the
 * background belong to a scope: closing it (or an interrupt) kills their process group.
 */
import { Command, CommandExecutor, FileSystem, Path } from "@effect/platform"
import { Clock, Console, Data, type Duration, Effect, Fiber, Option, Ref, Schedule, Schema, type Scope, Stream } from "effect"

/** The benchmark cannot go on: a command failed or printed something unexpected. */
export class BenchFailed extends Data.TaggedError("BenchFailed")<{
  readonly message: string
  readonly cause?: unknown
}> {}

export interface Sample {
  readonly wallMs: number
  /** VmHWM of the process itself (not its children), when tracked. */
  readonly peakRssKiB: number | undefined
  /** commands/*.ndjson plus manifest.json of the run, for `start` runs. */
  readonly diskBytes: number | undefined
}

/** A line a background process printed on stdout, and when it arrived (ms on the Clock). */
export interface Line {
  readonly atMs: number
  readonly text: string
}

/** A process running in the background of a scope. */
export interface Background {
  readonly pid: number
  /** Its stdout lines so far. */
  readonly lines: Effect.Effect<ReadonlyArray<Line>>
  /** Waits for it to exit (and its pipes to drain); fails on a non-zero exit. */
  readonly exit: Effect.Effect<void, BenchFailed>
}

export interface Timed {
  readonly wallMs: number
  readonly peakRssKiB: number | undefined
  readonly stdout: string
  /** The last 4,000 characters of stderr. */
  readonly stderr: string
}

/** What `start --format json` prints; only the fields the benchmark reads. */
const StartResult = Schema.parseJson(Schema.Struct({
  run_id: Schema.String,
  status: Schema.String,
  artifact_root: Schema.String
}))

/**
 * The JSON document a `start --format json` printed: all of stdout, or (another CLI under
 * `--compare` that logs to stdout first) from the first line that opens an object.
 */
export const jsonDocumentOf = (stdout: string) => {
  if (stdout.trimStart().startsWith("{")) return stdout
  const at = stdout.indexOf("\n{")
  return at === -1 ? stdout : stdout.slice(at + 1)
}

const hwmPattern = /^VmHWM:\s+(\d+) kB$/m

const keepTail = (limit: number) => (text: string, chunk: string) => {
  const all = text + chunk
  return all.length > limit ? all.slice(all.length - limit) : all
}

/** The Clock in milliseconds, with sub-millisecond precision. */
export const nowMs = Effect.map(Clock.currentTimeNanos, (nanos) => Number(nanos) / 1e6)

/** Runs `probe` every `every` until it yields a value; fails once `within` has passed. */
export const waitFor = <A, E, R>(
  what: string,
  probe: Effect.Effect<Option.Option<A>, E, R>,
  every: Duration.DurationInput,
  within: Duration.DurationInput
): Effect.Effect<A, E | BenchFailed, R> => {
  const loop: Effect.Effect<A, E, R> = Effect.flatMap(probe, Option.match({
    onNone: () => Effect.zipRight(Effect.sleep(every), Effect.suspend(() => loop)),
    onSome: Effect.succeed
  }))
  return loop.pipe(
    Effect.timeoutFail({ duration: within, onTimeout: () => new BenchFailed({ message: `timed out waiting for ${what}` }) })
  )
}

export const asBenchFailed = (label: string) => <E extends { readonly message: string }>(error: E | BenchFailed) =>
  error instanceof BenchFailed ? error : new BenchFailed({ message: `${label}: ${error.message}`, cause: error })

/** Wraps a stage command so the floor discards its output, as the issue's `sh -c '<cmd> > /dev/null'`. */
const discardOutput = (command: string) => `{ ${command}\n} > /dev/null 2>&1`

export const makeMeasure = Effect.gen(function*() {
  const executor = yield* CommandExecutor.CommandExecutor
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path

  /**
   * VmHWM is the process's high-water mark, so the last value read is its peak. A zombie's status
   * has no VmHWM (the value read before stands), and the file is gone once the process is reaped:
   * polling ends at the first read that fails.
   */
  const pollPeakRss = (pid: number, peak: Ref.Ref<number | undefined>) =>
    fs.readFileString(`/proc/${pid}/status`).pipe(
      Effect.map((status) => Option.fromNullable(hwmPattern.exec(status)?.[1])),
      Effect.flatMap(Option.match({
        onNone: () => Effect.void,
        onSome: (kib) => Ref.set(peak, Number(kib))
      })),
      Effect.repeat(Schedule.spaced("10 millis")),
      Effect.catchTag("SystemError", () => Effect.void)
    )

  /** Runs `command` to completion, draining both pipes; fails on a non-zero exit. */
  const timed = (label: string, command: Command.Command, trackRss: boolean) =>
    Effect.scoped(Effect.gen(function*() {
      const peak = yield* Ref.make<number | undefined>(undefined)
      const startedAt = yield* Clock.currentTimeNanos
      const proc = yield* executor.start(command.pipe(Command.stdin(Stream.empty)))
      const poller = trackRss ? yield* Effect.fork(pollPeakRss(proc.pid, peak)) : undefined
      const [stdout, stderr, exitCode] = yield* Effect.all([
        proc.stdout.pipe(Stream.decodeText(), Stream.runFold("", keepTail(1_000_000))),
        proc.stderr.pipe(Stream.decodeText(), Stream.runFold("", keepTail(4_000))),
        proc.exitCode
      ], { concurrency: "unbounded" })
      const endedAt = yield* Clock.currentTimeNanos
      if (poller !== undefined) yield* Fiber.interrupt(poller)
      if (exitCode !== 0) {
        return yield* new BenchFailed({ message: `${label} exited with code ${exitCode}:\n${stderr}` })
      }
      return {
        wallMs: Number(endedAt - startedAt) / 1e6,
        peakRssKiB: yield* Ref.get(peak),
        stdout,
        stderr
      } satisfies Timed
    })).pipe(Effect.mapError(asBenchFailed(label)))

  /**
   * Starts `command` in the background of the current scope, draining both pipes: stdout line by
   * line, each line stamped with the time it arrived.
   */
  const background = (label: string, command: Command.Command): Effect.Effect<Background, BenchFailed, Scope.Scope> =>
    Effect.gen(function*() {
      const proc = yield* executor.start(command.pipe(Command.stdin(Stream.empty)))
      const lines = yield* Ref.make<ReadonlyArray<Line>>([])
      const stdout = yield* proc.stdout.pipe(
        Stream.decodeText(),
        Stream.splitLines,
        Stream.runForEach((text) => Effect.flatMap(nowMs, (atMs) => Ref.update(lines, (all) => [...all, { atMs, text }]))),
        Effect.forkScoped
      )
      const stderr = yield* proc.stderr.pipe(Stream.decodeText(), Stream.runFold("", keepTail(4_000)), Effect.forkScoped)
      const exit = Effect.gen(function*() {
        const [exitCode, , errors] = yield* Effect.all([proc.exitCode, Fiber.join(stdout), Fiber.join(stderr)])
        if (exitCode !== 0) {
          return yield* new BenchFailed({ message: `${label} exited with code ${exitCode}:\n${errors}` })
        }
      }).pipe(Effect.mapError(asBenchFailed(label)))
      return { pid: proc.pid, lines: Ref.get(lines), exit } satisfies Background
    }).pipe(Effect.mapError(asBenchFailed(label)))

  /**
   * CPU time a process has used so far, all its threads but not its children: utime + stime, in
   * clock ticks (fields 14 and 15 of /proc/<pid>/stat; the fields are counted after the command
   * name, which is in parentheses and may hold spaces).
   */
  const cpuTicks = (pid: number) =>
    fs.readFileString(`/proc/${pid}/stat`).pipe(
      Effect.mapError(asBenchFailed(`/proc/${pid}/stat`)),
      Effect.flatMap((stat) => {
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
        const [utime, stime] = [Number(fields[11]), Number(fields[12])]
        return Number.isInteger(utime) && Number.isInteger(stime)
          ? Effect.succeed(utime + stime)
          : Effect.fail(new BenchFailed({ message: `unexpected /proc/${pid}/stat: ${stat}` }))
      })
    )

  /** Clock ticks per second (sysconf CLK_TCK), the unit of `cpuTicks`. */
  const clockTicksPerSecond = timed("getconf CLK_TCK", Command.make("getconf", "CLK_TCK"), false).pipe(
    Effect.flatMap(({ stdout }) => Schema.decodeUnknown(Schema.NumberFromString)(stdout.trim())),
    Effect.mapError(asBenchFailed("getconf CLK_TCK"))
  )

  /** A process's wall time and peak RSS, nothing else. */
  const sample = (label: string, command: Command.Command, trackRss: boolean) =>
    timed(label, command, trackRss).pipe(
      Effect.map(({ peakRssKiB, wallMs }): Sample => ({ wallMs, peakRssKiB, diskBytes: undefined }))
    )

  /** The floor of a pipeline: each stage command by `sh -c` in sequence, output discarded. */
  const shellFloor = (label: string, commands: ReadonlyArray<string>, cwd: string) =>
    Effect.reduce(commands, 0, (total, command) =>
      timed(label, Command.make("sh", "-c", discardOutput(command)).pipe(Command.workingDirectory(cwd)), false).pipe(
        Effect.map((run) => total + run.wallMs)
      )).pipe(Effect.map((wallMs): Sample => ({ wallMs, peakRssKiB: undefined, diskBytes: undefined })))

  /** Bytes a stage command prints on stdout and stderr together, counted by `wc -c`. */
  const printedBytes = (command: string, cwd: string) =>
    timed(
      "wc -c",
      Command.make("sh", "-c", `{ ${command}\n} 2>&1 | wc -c`).pipe(Command.workingDirectory(cwd)),
      false
    ).pipe(
      Effect.flatMap(({ stdout }) => Schema.decodeUnknown(Schema.NumberFromString)(stdout.trim())),
      Effect.mapError((cause) => new BenchFailed({ message: `could not count the bytes of ${command}`, cause }))
    )

  const sizeOf = (file: string) => fs.stat(file).pipe(Effect.map((info) => Number(info.size)))

  /**
   * One `start` run through the CLI. It must succeed; afterwards its logs and manifest are
   * measured and `.runs` is removed, so every run starts from the same empty state. With `keepIn`,
   * the run's folder is moved there first (replacing the run kept before), for `restoreRun`.
   */
  const startRun = (label: string, command: Command.Command, repo: string, keepIn?: string) =>
    Effect.gen(function*() {
      const run = yield* timed(label, command, true)
      const result = yield* Schema.decodeUnknown(StartResult)(jsonDocumentOf(run.stdout)).pipe(
        Effect.mapError((cause) => new BenchFailed({ message: `${label} printed no start result:\n${run.stdout}`, cause }))
      )
      if (result.status !== "succeeded") {
        return yield* new BenchFailed({ message: `${label}: run ${result.run_id} ended ${result.status}` })
      }
      const runDir = path.join(repo, result.artifact_root)
      const commandsDir = path.join(runDir, "commands")
      const logs = (yield* fs.readDirectory(commandsDir)).filter((name) => name.endsWith(".ndjson"))
      const sizes = yield* Effect.forEach(
        [...logs.map((name) => path.join(commandsDir, name)), path.join(runDir, "manifest.json")],
        sizeOf
      )
      if (keepIn !== undefined) {
        yield* fs.remove(keepIn, { recursive: true, force: true })
        yield* fs.makeDirectory(keepIn, { recursive: true })
        yield* fs.rename(runDir, path.join(keepIn, result.run_id))
      }
      yield* fs.remove(path.join(repo, ".runs"), { recursive: true })
      return { wallMs: run.wallMs, peakRssKiB: run.peakRssKiB, diskBytes: sizes.reduce((a, b) => a + b, 0) } satisfies Sample
    }).pipe(Effect.mapError(asBenchFailed(label)))

  /** Moves the run kept in `keepIn` by `startRun` back into `runsDir` (.runs/<task>/cli). */
  const restoreRun = (keepIn: string, runsDir: string) =>
    Effect.gen(function*() {
      const [runId] = yield* fs.readDirectory(keepIn)
      if (runId === undefined) return yield* new BenchFailed({ message: `no run was kept in ${keepIn}` })
      const runDir = path.join(runsDir, runId)
      yield* fs.makeDirectory(runsDir, { recursive: true })
      yield* fs.rename(path.join(keepIn, runId), runDir)
      return { runId, manifestBytes: yield* sizeOf(path.join(runDir, "manifest.json")) }
    }).pipe(Effect.mapError(asBenchFailed(`restoring the run kept in ${keepIn}`)))

  /** The manifest of the run kept in `keepIn` by `startRun`, as text. */
  const keptManifest = (keepIn: string) =>
    Effect.gen(function*() {
      const [runId] = yield* fs.readDirectory(keepIn)
      if (runId === undefined) return yield* new BenchFailed({ message: `no run was kept in ${keepIn}` })
      return yield* fs.readFileString(path.join(keepIn, runId, "manifest.json"))
    }).pipe(Effect.mapError(asBenchFailed(`reading the manifest of the run kept in ${keepIn}`)))

  return { timed, sample, background, cpuTicks, clockTicksPerSecond, shellFloor, printedBytes, startRun, restoreRun, keptManifest }
})

export type Measure = Effect.Effect.Success<typeof makeMeasure>

export interface Arm {
  readonly name: string
  readonly run: Effect.Effect<Sample, BenchFailed>
}

const describe = (sample: Sample) =>
  [
    `${sample.wallMs.toFixed(1)} ms`,
    ...(sample.peakRssKiB === undefined ? [] : [`rss ${(sample.peakRssKiB / 1024).toFixed(1)} MiB`])
  ].join(", ")

/**
 * Runs the arms round-robin, `runs` times each, so that drift in the machine's speed hits every
 * arm alike. An optional first round warms caches and is not recorded.
 */
export const measureArms = (
  group: string,
  arms: ReadonlyArray<Arm>,
  options: { readonly runs: number; readonly warmup: boolean }
) =>
  Effect.gen(function*() {
    const samples = arms.map(() => new Array<Sample>())
    if (options.warmup) {
      yield* Console.error(`[bench] ${group}: warm-up`)
      yield* Effect.forEach(arms, (arm) => arm.run, { discard: true })
    }
    for (let round = 1; round <= options.runs; round++) {
      yield* Effect.forEach(arms, (arm, i) =>
        arm.run.pipe(
          Effect.tap((sample) => {
            samples[i]?.push(sample)
            return Console.error(`[bench] ${group} ${round}/${options.runs}: ${arm.name}: ${describe(sample)}`)
          })
        ), { discard: true })
    }
    return arms.map((arm, i) => ({ name: arm.name, samples: samples[i] ?? [] }))
  })
