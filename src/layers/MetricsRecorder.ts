import { Path } from "@effect/platform"
import { Clock, Duration, Effect, Either, Layer, Schema, Stream } from "effect"
import { isTerminal } from "../domain/Manifest.js"
import {
  AggregatedLine,
  baselineOf,
  completenessOf,
  metricsEntryOf,
  mttrDeltaOf,
  pendingFileName,
  perEpochOf,
  postRolloutOf,
  taskStateOf
} from "../domain/Metrics.js"
import { Files } from "../services/Files.js"
import { Host } from "../services/Host.js"
import { MetricsRecorder } from "../services/MetricsRecorder.js"
import { OrchestratorConfig } from "../services/OrchestratorConfig.js"
import { randomUuid } from "./internal/entropy.js"
import { withFileLock } from "./internal/fileLock.js"
import { filesForPrivacy } from "./internal/runFiles.js"

/** MET-2: 4 attempts, waiting 50, 100, 200 ms. */
const metricsLockPolicy = { attempts: 4, initialDelayMs: 50, factor: 2, maxDelayMs: 200 }
/** MET-2: a lock (or a temp file) older than this was left by a crashed process. */
const abandonedAfter = Duration.toMillis(Duration.minutes(5))

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`
const decodeLine = Schema.decodeUnknownEither(Schema.parseJson(AggregatedLine))

/** Metrics under the configured roots (D-5), on the Files service. */
export const MetricsRecorderLive = Layer.effect(
  MetricsRecorder,
  Effect.gen(function*() {
    const path = yield* Path.Path
    const config = yield* OrchestratorConfig
    // D-13: in enforce mode nothing we write holds a secret, task-level records included.
    const files = filesForPrivacy(yield* Files, config.privacyMode)
    const host = yield* Host
    const { outRoot, runsRoot } = config.roots

    const taskPaths = (taskId: string) => {
      const taskDir = path.join(runsRoot, taskId)
      return {
        taskDir,
        metrics: path.join(taskDir, "metrics.json"),
        lock: path.join(taskDir, "metrics.lock"),
        pendingDir: path.join(taskDir, "metrics.pending"),
        aggregatesDir: path.join(taskDir, "metrics"),
        outMetricsDir: path.join(outRoot, taskId, "metrics"),
        state: path.join(outRoot, taskId, "state.json")
      }
    }
    type TaskPaths = ReturnType<typeof taskPaths>

    /** MET-2: moves queued lines into metrics.json, oldest first; returns how many files it merged. */
    const mergePending = (paths: TaskPaths, nowMs: number) =>
      Effect.gen(function*() {
        let merged = 0
        for (const name of yield* files.list(paths.pendingDir)) {
          const file = path.join(paths.pendingDir, name)
          if (name.endsWith(".jsonl")) {
            const text = yield* files.readText(file)
            if (text !== undefined && text.length > 0) yield* files.append(paths.metrics, text.endsWith("\n") ? text : `${text}\n`)
            yield* files.remove(file)
            merged += 1
          } else if (name.endsWith(".tmp")) {
            const modified = yield* files.modifiedAt(file)
            if (modified !== undefined && nowMs - modified > abandonedAfter) yield* files.remove(file)
          }
        }
        return merged
      })

    /**
     * MET-3, MET-5: every aggregate, recomputed from all lines (a damaged line is skipped with a
     * warning). Aggregates are written atomically but not fsynced: they are derived from metrics.json
     * and rewritten by the next run, so a power loss costs nothing that is not recomputed.
     */
    const aggregate = (paths: TaskPaths, updatedAt: string) =>
      Effect.gen(function*() {
        const read = yield* files.readLines(paths.metrics).pipe(
          Stream.runFold({ lines: [] as Array<AggregatedLine>, damaged: [] as Array<number>, count: 0 }, (acc, text) => {
            acc.count += 1
            if (text.trim().length === 0) return acc
            const decoded = decodeLine(text)
            if (Either.isRight(decoded)) acc.lines.push(decoded.right)
            else acc.damaged.push(acc.count)
            return acc
          })
        )
        if (read.damaged.length > 0) {
          yield* Effect.logWarning(
            `${paths.metrics}: skipped ${read.damaged.length} damaged line(s) (line ${read.damaged.slice(0, 5).join(", ")}) in the aggregates.`
          )
        }
        const lines = read.lines
        const first = lines[0]
        if (first === undefined) return
        yield* files.makeDirectory(paths.aggregatesDir)
        const baselinePath = path.join(paths.aggregatesDir, "baseline.json")
        // MET-3: the baseline is the first run ever recorded and is never rewritten.
        const derived = { durable: false }
        if ((yield* files.readText(baselinePath)) === undefined) yield* files.writeAtomic(baselinePath, json(baselineOf(first)))
        yield* files.writeAtomic(path.join(paths.aggregatesDir, "post-rollout.json"), json(postRolloutOf(lines, updatedAt)), derived)
        yield* files.writeAtomic(path.join(paths.aggregatesDir, "completeness.json"), json(completenessOf(lines, updatedAt)), derived)
        const perEpoch = perEpochOf(lines, updatedAt)
        if (perEpoch !== undefined) {
          yield* files.writeAtomic(path.join(paths.aggregatesDir, "per-epoch.json"), json(perEpoch), derived)
        }
        yield* files.makeDirectory(paths.outMetricsDir)
        yield* files.writeAtomic(path.join(paths.outMetricsDir, "mttr-delta.json"), json(mttrDeltaOf(lines, updatedAt)), derived)
        yield* files.writeAtomic(paths.state, json(taskStateOf(lines, updatedAt)), derived)
      })

    return MetricsRecorder.of({
      record: (run, extras) =>
        Effect.gen(function*() {
          const manifest = yield* run.manifest
          if (manifest.metrics_recorded || !isTerminal(manifest.status)) return { _tag: "Skipped" } as const
          const nowMs = yield* Clock.currentTimeMillis
          const now = new Date(nowMs).toISOString()
          const entry = metricsEntryOf(manifest, now, extras)
          const paths = taskPaths(manifest.task_id)
          yield* files.makeDirectory(paths.taskDir)
          const lockedAt = yield* files.modifiedAt(paths.lock)
          if (lockedAt !== undefined && nowMs - lockedAt > abandonedAfter) {
            yield* Effect.logWarning(`Removing ${paths.lock}: older than 5 minutes, left by a process that stopped.`)
            yield* files.remove(paths.lock)
          }
          const recorded = yield* withFileLock(files, paths.lock, metricsLockPolicy, `${host.pid}@${host.hostname}`)(
            Effect.gen(function*() {
              yield* mergePending(paths, nowMs)
              yield* files.append(paths.metrics, `${JSON.stringify(entry)}\n`)
              yield* aggregate(paths, now)
              // Lines queued while we aggregated are merged now rather than by the next run.
              if ((yield* mergePending(paths, nowMs)) > 0) yield* aggregate(paths, now)
            })
          ).pipe(Effect.either)
          if (Either.isLeft(recorded)) {
            if (recorded.left._tag !== "LockBusy") return yield* recorded.left
            yield* files.makeDirectory(paths.pendingDir)
            const pendingPath = path.join(paths.pendingDir, pendingFileName(manifest.run_id, nowMs, yield* randomUuid))
            yield* files.writeAtomic(pendingPath, `${JSON.stringify(entry)}\n`)
            yield* Effect.logWarning(`Metrics aggregation skipped for ${manifest.task_id}: queued metrics entry in ${pendingPath}.`)
            return { _tag: "Queued", entry, pendingPath } as const
          }
          yield* run.update((m) => ({ ...m, metrics_recorded: true }), { force: true })
          return { _tag: "Recorded", entry, metricsPath: paths.metrics } as const
        })
    })
  })
)
