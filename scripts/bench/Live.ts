/**
 * Workloads on a run in progress (the idle targets): the orchestrator's CPU while a stage
 * sleeps and its heartbeats, and how soon `status --watch` reports a change and what it costs
 * between ticks. Each run lives in a scope: leaving it (done, failed or interrupted) kills the
 * processes still running; the task's runs are removed afterwards.
 */
import { type Command, FileSystem, Path } from "@effect/platform"
import { Duration, Effect, Fiber, Option, Schema } from "effect"
import { BenchFailed, type Measure, nowMs, waitFor } from "./Measure.js"
import type { Workload } from "./Workloads.js"

/** The manifest fields the live workloads read. */
const Manifest = Schema.parseJson(Schema.Struct({
  run_id: Schema.String,
  status: Schema.String,
  heartbeat_at: Schema.String,
  commands: Schema.Array(Schema.Struct({ status: Schema.String }))
}))
type Manifest = typeof Manifest.Type

/** `.owner.json`: the orchestrator records the stage's process (group) once it has spawned it. */
const Owner = Schema.parseJson(Schema.Struct({ stage_pid: Schema.optional(Schema.Number) }))

/** One document of `status --watch --format json`. */
const WatchDocument = Schema.parseJson(Schema.Struct({ run_id: Schema.String, status: Schema.String }))

const isTerminal = (status: string) => status === "succeeded" || status === "failed" || status === "cancelled"
const stageRunning = (manifest: Manifest) =>
  manifest.status === "in_progress" && manifest.commands.some((entry) => entry.status === "running")

/** `values` plus `value`, unless it repeats the last one. */
const appendChange = (values: ReadonlyArray<string>, value: string) =>
  values[values.length - 1] === value ? values : [...values, value]

export interface LiveContext {
  readonly repo: string
  /** The task the live runs go to (its runs are removed after each run). */
  readonly task: string
  /** The built CLI with these arguments, run in the repository. */
  readonly cli: (...args: Array<string>) => Command.Command
}

export interface CpuWindow {
  /** CPU time (user + system) the process used in the window. */
  readonly cpuMs: number
  readonly windowMs: number
}

export interface IdleResult extends CpuWindow {
  /**
   * Each content `.heartbeat` had while the stage ran, in order (polled every 250 ms): the first is
   * the one written as the run began, each further one a heartbeat write.
   */
  readonly heartbeatFile: ReadonlyArray<string>
  /** The same for the manifest's heartbeat_at. */
  readonly manifestHeartbeat: ReadonlyArray<string>
}

export interface WatchResult extends CpuWindow {
  /** From the manifest showing the run finished (polled every 20 ms) to the watch printing it. */
  readonly delayMs: number
  /** Documents the watch printed. */
  readonly documents: number
  /** The run finished before the CPU window ended: the window then includes the final print. */
  readonly finishedInWindow: boolean
}

export const makeLive = (measure: Measure, context: LiveContext) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const ticksPerSecond = yield* measure.clockTicksPerSecond
    const taskDir = path.join(context.repo, ".runs", context.task)
    const cliDir = path.join(taskDir, "cli")

    const readManifest = (runDir: string) =>
      fs.readFileString(path.join(runDir, "manifest.json")).pipe(
        Effect.flatMap(Schema.decodeUnknown(Manifest)),
        Effect.option
      )

    const start = (workload: Workload) =>
      measure.background(
        `start ${workload.id}`,
        context.cli("start", workload.id, "--task", context.task, "--format", "json")
      )

    /** The stage's process recorded in `.owner.json`: the orchestrator has spawned it. */
    const stageSpawned = (runDir: string) =>
      fs.readFileString(path.join(runDir, ".owner.json")).pipe(
        Effect.flatMap(Schema.decodeUnknown(Owner)),
        Effect.map((owner) => owner.stage_pid !== undefined),
        Effect.orElseSucceed(() => false)
      )

    /** The run `start` is making, once its manifest shows a stage running and the stage is spawned. */
    const runningRun = (workload: Workload) =>
      waitFor(
        `${workload.id}: a stage running`,
        Effect.gen(function*() {
          const [runId] = yield* fs.readDirectory(cliDir).pipe(Effect.orElseSucceed((): Array<string> => []))
          if (runId === undefined) return Option.none()
          const runDir = path.join(cliDir, runId)
          const manifest = Option.filter(yield* readManifest(runDir), stageRunning)
          if (Option.isNone(manifest) || !(yield* stageSpawned(runDir))) return Option.none()
          return Option.some({ runDir, runId: manifest.value.run_id })
        }),
        "20 millis",
        "30 seconds"
      )

    /** CPU time `pid` uses over `window` from now. */
    const cpuOver = (pid: number, window: Duration.DurationInput) =>
      Effect.gen(function*() {
        const ticksBefore = yield* measure.cpuTicks(pid)
        const before = yield* nowMs
        yield* Effect.sleep(window)
        const ticksAfter = yield* measure.cpuTicks(pid)
        const after = yield* nowMs
        return { cpuMs: ((ticksAfter - ticksBefore) * 1000) / ticksPerSecond, windowMs: after - before } satisfies CpuWindow
      })

    /**
     * `.heartbeat` and the manifest's heartbeat_at while the stage runs. `.heartbeat` is read first:
     * the run's last write goes to the manifest before `.heartbeat`, so a poll that could see that
     * write in `.heartbeat` sees the run finished too, and is dropped.
     */
    const followHeartbeats = (runDir: string) =>
      Effect.iterate(
        { file: [] as ReadonlyArray<string>, manifest: [] as ReadonlyArray<string>, running: true },
        {
          while: (seen) => seen.running,
          body: (seen) =>
            Effect.gen(function*() {
              const file = yield* fs.readFileString(path.join(runDir, ".heartbeat")).pipe(Effect.option)
              const manifest = yield* readManifest(runDir)
              if (Option.exists(manifest, (m) => !stageRunning(m))) return { ...seen, running: false }
              yield* Effect.sleep("250 millis")
              return {
                file: Option.match(file, { onNone: () => seen.file, onSome: (text) => appendChange(seen.file, text.trim()) }),
                manifest: Option.match(manifest, {
                  onNone: () => seen.manifest,
                  onSome: (m) => appendChange(seen.manifest, m.heartbeat_at)
                }),
                running: true
              }
            })
        }
      )

    const removeRuns = fs.remove(taskDir, { recursive: true, force: true }).pipe(Effect.ignore)

    /**
     * A run of one sleeping stage: the orchestrator's CPU over `window`, from `settle` after the
     * stage was spawned (the rest of the spawn, setting up its pipes, is not idle time), and its
     * heartbeats while the stage runs.
     */
    const idle = (workload: Workload, settle: Duration.DurationInput, window: Duration.DurationInput) =>
      Effect.scoped(Effect.gen(function*() {
        const orchestrator = yield* start(workload)
        const run = yield* runningRun(workload)
        const heartbeats = yield* Effect.forkScoped(followHeartbeats(run.runDir))
        yield* Effect.sleep(settle)
        const cpu = yield* cpuOver(orchestrator.pid, window)
        yield* orchestrator.exit
        const seen = yield* Fiber.join(heartbeats)
        return { ...cpu, heartbeatFile: seen.file, manifestHeartbeat: seen.manifest } satisfies IdleResult
      })).pipe(Effect.ensuring(removeRuns))

    /**
     * `status --watch --format json` on a run in progress: its CPU over `window` once it has printed
     * the first document, and the delay between the run finishing and the watch printing it.
     */
    const watch = (workload: Workload, interval: Duration.Duration, window: Duration.DurationInput) =>
      Effect.scoped(Effect.gen(function*() {
        const orchestrator = yield* start(workload)
        const run = yield* runningRun(workload)
        const watcher = yield* measure.background(
          "status --watch",
          context.cli(
            "status",
            "--run",
            run.runId,
            "--task",
            context.task,
            "--watch",
            "--interval",
            String(Duration.toSeconds(interval)),
            "--format",
            "json"
          )
        )
        const finished = yield* Effect.forkScoped(waitFor(
          `${workload.id}: the run finished`,
          Effect.flatMap(
            readManifest(run.runDir),
            (manifest) => Option.exists(manifest, (m) => isTerminal(m.status)) ? Effect.asSome(nowMs) : Effect.succeedNone
          ),
          "20 millis",
          "60 seconds"
        ))
        const firstLine = Effect.map(watcher.lines, (lines) => Option.fromNullable(lines[0]))
        yield* waitFor("status --watch: the first document", firstLine, "10 millis", "30 seconds")
        const cpu = yield* cpuOver(watcher.pid, window)
        const finishedInWindow = Option.isSome(yield* Fiber.poll(finished))
        yield* watcher.exit
        yield* orchestrator.exit
        const finishedAt = yield* Fiber.join(finished)
        const lines = yield* watcher.lines
        const last = lines[lines.length - 1]
        const document = yield* Schema.decodeUnknown(WatchDocument)(last?.text ?? "").pipe(
          Effect.mapError((cause) =>
            new BenchFailed({ message: `status --watch did not end on a JSON document: ${last?.text}`, cause })
          )
        )
        if (last === undefined || !isTerminal(document.status)) {
          return yield* new BenchFailed({ message: `status --watch ended on status ${document.status}` })
        }
        return { ...cpu, delayMs: last.atMs - finishedAt, documents: lines.length, finishedInWindow } satisfies WatchResult
      })).pipe(Effect.ensuring(removeRuns))

    return { ticksPerSecond, idle, watch }
  })
