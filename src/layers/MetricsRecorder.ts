import { Path } from "@effect/platform"
import { Clock, Duration, Effect, Either, Layer } from "effect"
import { isTerminal } from "../domain/Manifest.js"
import { metricsEntryOf, pendingFileName } from "../domain/Metrics.js"
import { aggregatesOf } from "../domain/MetricsTotals.js"
import type { Roots } from "../domain/RunLayout.js"
import { iso } from "../domain/Time.js"
import { Files } from "../services/Files.js"
import { Host } from "../services/Host.js"
import { MetricsRecorder } from "../services/MetricsRecorder.js"
import { OrchestratorConfig } from "../services/OrchestratorConfig.js"
import { Entropy } from "../services/Entropy.js"
import { singleAttempt, withFileLock } from "./internal/fileLock.js"
import { jsonText } from "./internal/jsonText.js"
import { appendLines } from "./internal/lineAppend.js"
import { foldMetricsFile, readTotals, totalsText } from "./internal/metricsTotals.js"
import { filesForPrivacy } from "./internal/runFiles.js"

/** MET-2: 4 attempts, waiting 50, 100, 200 ms. */
const metricsLockPolicy = { attempts: 4, initialDelayMs: 50, factor: 2, maxDelayMs: 200 }
/** MET-2: a lock (or a temp file) older than this was left by a crashed process. */
const abandonedAfter = Duration.toMillis(Duration.minutes(5))

/** A task's metrics files under the roots (MET-1..5, D-5). */
const taskPathsOf = (path: Path.Path, { outRoot, runsRoot }: Roots) => (taskId: string) => {
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
type TaskPaths = ReturnType<ReturnType<typeof taskPathsOf>>

/** MET-2: moves queued lines into metrics.json, oldest first; returns how many files it merged. */
const mergePending = (files: Files["Type"], path: Path.Path) => (paths: TaskPaths, nowMs: number) =>
  Effect.gen(function*() {
    let merged = 0
    for (const name of yield* files.list(paths.pendingDir)) {
      const file = path.join(paths.pendingDir, name)
      if (name.endsWith(".jsonl")) {
        const text = yield* files.readText(file)
        if (text !== undefined && text.length > 0) yield* appendLines(files, paths.metrics, text)
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
 * MET-3, MET-5: every aggregate, from running totals kept beside them (`running-totals.json`)
 * and the lines appended to metrics.json since, so a run's cost does not grow with the task's
 * history; the values are those of a recompute from all lines (a damaged line is skipped with a
 * warning). Aggregates and totals are written atomically but not fsynced (D-6): they are derived
 * from metrics.json, and totals that are lost, stale or do not match the file are recomputed.
 */
const aggregate = (files: Files["Type"], path: Path.Path) => (paths: TaskPaths, updatedAt: string) =>
  Effect.gen(function*() {
    const totalsPath = path.join(paths.aggregatesDir, "running-totals.json")
    const folded = yield* foldMetricsFile(files, paths.metrics, yield* readTotals(files, totalsPath))
    const totals = folded.reported
    if (totals.damaged > 0) {
      yield* Effect.logWarning(
        `${paths.metrics}: skipped ${totals.damaged} damaged line(s) (line ${totals.damaged_lines.join(", ")}) in the aggregates.`
      )
    }
    const out = aggregatesOf(totals, updatedAt)
    if (out === undefined) return
    yield* files.makeDirectory(paths.aggregatesDir)
    const baselinePath = path.join(paths.aggregatesDir, "baseline.json")
    // MET-3: the baseline is the first run ever recorded and is never rewritten.
    const derived = { durable: false }
    if ((yield* files.readText(baselinePath)) === undefined) yield* files.writeAtomic(baselinePath, jsonText(out.baseline))
    yield* files.writeAtomic(path.join(paths.aggregatesDir, "post-rollout.json"), jsonText(out.postRollout), derived)
    yield* files.writeAtomic(path.join(paths.aggregatesDir, "completeness.json"), jsonText(out.completeness), derived)
    if (out.perEpoch !== undefined) {
      yield* files.writeAtomic(path.join(paths.aggregatesDir, "per-epoch.json"), jsonText(out.perEpoch), derived)
    }
    yield* files.makeDirectory(paths.outMetricsDir)
    yield* files.writeAtomic(path.join(paths.outMetricsDir, "mttr-delta.json"), jsonText(out.mttrDelta), derived)
    yield* files.writeAtomic(paths.state, jsonText(out.taskState), derived)
    yield* files.writeAtomic(totalsPath, totalsText(folded.kept), derived)
  })

/** The queued lines of a task (temp files of a write in progress start with a dot). */
const queuedLines = (files: Files["Type"]) => (paths: TaskPaths) =>
  Effect.map(files.list(paths.pendingDir), (names) => names.filter((name) => name.endsWith(".jsonl") && !name.startsWith(".")))

/** Metrics under the configured roots (D-5), on the Files service. */
export const MetricsRecorderLive = Layer.effect(
  MetricsRecorder,
  Effect.gen(function*() {
    const entropy = yield* Entropy
    const path = yield* Path.Path
    const config = yield* OrchestratorConfig
    // D-13: in enforce mode nothing we write holds a secret, task-level records included.
    const files = filesForPrivacy(yield* Files, config.privacyMode)
    const host = yield* Host

    const owner = `${host.pid}@${host.hostname}`
    const taskPaths = taskPathsOf(path, config.roots)
    const merge = mergePending(files, path)
    const aggregateAll = aggregate(files, path)

    const queued = queuedLines(files)

    /**
     * After releasing the lock (or queuing), merges what was queued meanwhile, one attempt at a time,
     * as the task-state store does: whoever releases the lock last leaves nothing queued, and a busy
     * lock means its holder will look again once it releases it.
     */
    const mergeQueued = (paths: TaskPaths, nowMs: number) =>
      Effect.gen(function*() {
        while ((yield* queued(paths)).length > 0) {
          const merged = yield* withFileLock(files, paths.lock, singleAttempt, owner)(
            Effect.flatMap(merge(paths, nowMs), (count) => (count > 0 ? aggregateAll(paths, iso(nowMs)) : Effect.void))
          ).pipe(Effect.either)
          if (Either.isLeft(merged)) {
            if (merged.left._tag === "LockBusy") return
            return yield* merged.left
          }
        }
      })

    return MetricsRecorder.of({
      record: (run, extras) =>
        Effect.gen(function*() {
          const manifest = yield* run.manifest
          if (manifest.metrics_recorded || !isTerminal(manifest.status)) return { _tag: "Skipped" } as const
          const nowMs = yield* Clock.currentTimeMillis
          const now = iso(nowMs)
          const entry = metricsEntryOf(manifest, now, extras)
          const paths = taskPaths(manifest.task_id)
          yield* files.makeDirectory(paths.taskDir)
          const lockedAt = yield* files.modifiedAt(paths.lock)
          if (lockedAt !== undefined && nowMs - lockedAt > abandonedAfter) {
            yield* Effect.logWarning(`Removing ${paths.lock}: older than 5 minutes, left by a process that stopped.`)
            yield* files.remove(paths.lock)
          }
          const recorded = yield* withFileLock(files, paths.lock, metricsLockPolicy, owner)(
            Effect.gen(function*() {
              yield* merge(paths, nowMs)
              yield* appendLines(files, paths.metrics, JSON.stringify(entry))
              yield* aggregateAll(paths, now)
              // Lines queued while we aggregated are merged now rather than by the next run.
              if ((yield* merge(paths, nowMs)) > 0) yield* aggregateAll(paths, now)
            })
          ).pipe(Effect.either)
          if (Either.isLeft(recorded)) {
            if (recorded.left._tag !== "LockBusy") return yield* recorded.left
            yield* files.makeDirectory(paths.pendingDir)
            const pendingPath = path.join(paths.pendingDir, pendingFileName(manifest.run_id, nowMs, yield* entropy.uuid))
            yield* files.writeAtomic(pendingPath, `${JSON.stringify(entry)}\n`)
            yield* Effect.logWarning(`Metrics aggregation skipped for ${manifest.task_id}: queued metrics entry in ${pendingPath}.`)
            yield* mergeQueued(paths, nowMs)
            return { _tag: "Queued", entry, pendingPath } as const
          }
          yield* mergeQueued(paths, nowMs)
          yield* run.update((m) => ({ ...m, metrics_recorded: true }), { force: true })
          return { _tag: "Recorded", entry, metricsPath: paths.metrics } as const
        })
    })
  })
)
