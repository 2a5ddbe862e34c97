/**
 * Timed process runs: wall time from the Clock, peak RSS from /proc/<pid>/status, and the bytes a
 * `start` run left on disk.
 */
import { Command, CommandExecutor, FileSystem, Path } from "@effect/platform"
import { Clock, Console, Data, Effect, Fiber, Option, Ref, Schedule, Schema, Stream } from "effect"

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

export interface Timed {
  readonly wallMs: number
  readonly peakRssKiB: number | undefined
  readonly stdout: string
}

/** What `start --format json` prints; only the fields the benchmark reads. */
const StartResult = Schema.parseJson(Schema.Struct({
  run_id: Schema.String,
  status: Schema.String,
  artifact_root: Schema.String
}))

const hwmPattern = /^VmHWM:\s+(\d+) kB$/m

const keepTail = (limit: number) => (text: string, chunk: string) => {
  const all = text + chunk
  return all.length > limit ? all.slice(all.length - limit) : all
}

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
        stdout
      } satisfies Timed
    })).pipe(
      Effect.mapError((error) =>
        error instanceof BenchFailed ? error : new BenchFailed({ message: `${label}: ${error.message}`, cause: error })
      )
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
   * measured and `.runs` is removed, so every run starts from the same empty state.
   */
  const startRun = (label: string, command: Command.Command, repo: string) =>
    Effect.gen(function*() {
      const run = yield* timed(label, command, true)
      const result = yield* Schema.decodeUnknown(StartResult)(run.stdout).pipe(
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
      yield* fs.remove(path.join(repo, ".runs"), { recursive: true })
      return { wallMs: run.wallMs, peakRssKiB: run.peakRssKiB, diskBytes: sizes.reduce((a, b) => a + b, 0) } satisfies Sample
    }).pipe(
      Effect.mapError((error) =>
        error instanceof BenchFailed ? error : new BenchFailed({ message: `${label}: ${error.message}`, cause: error })
      )
    )

  return { timed, sample, shellFloor, printedBytes, startRun }
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
