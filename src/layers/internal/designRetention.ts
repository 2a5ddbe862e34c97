/**
 * Retention at `design write` (SPEC DES-1 `retention`): the task's earlier runs whose design
 * artifacts passed `retention.days` or fall beyond the newest `retention.maxRuns` lose their
 * `<runs>/<task>/<run>/artifacts/design-toolkit/` folder and their out record. Only that folder is
 * deleted, and only when its real path is exactly where it should be (no symlink anywhere on the
 * way), so retention can never reach outside the toolkit's artifact folders.
 */
import type { Path } from "@effect/platform"
import { Console, DateTime, Effect } from "effect"
import type { DesignSettings } from "../../domain/DesignConfig.js"
import { type DesignLayout, segmentProblem } from "../../domain/DesignPaths.js"
import type { RetentionPurge, RetentionReport } from "../../domain/DesignRecord.js"
import { type RetentionCandidate, runsToPurge } from "../../domain/DesignRetention.js"
import { runStartedMs } from "../../domain/Ids.js"
import type { Roots } from "../../domain/RunLayout.js"
import type { Files } from "../../services/Files.js"

interface Found extends RetentionCandidate {
  readonly dir: string
}

type Refused = RetentionReport["refused"][number]

export const makeRetention = (files: Files["Type"], path: Path.Path, roots: Roots) => {
  const artifactsDirOf = (taskDir: string, runId: string) => path.join(taskDir, runId, "artifacts", "design-toolkit")

  /** One entry of the task folder: a run with a design artifacts folder that is safe to delete, or a refusal. */
  const inspect = (layout: DesignLayout, taskDir: string, realTask: string, name: string) =>
    Effect.gen(function*() {
      const none: ReadonlyArray<Found | Refused> = []
      if (name === layout.runId || segmentProblem(name) !== undefined) return none
      // Files beside the run folders (metrics.json, after any finished run): not runs, and asking
      // for a folder under one fails (ENOTDIR).
      if ((yield* files.info(path.join(taskDir, name)))?.type !== "directory") return none
      const dir = artifactsDirOf(taskDir, name)
      if ((yield* files.info(dir))?.type !== "directory") return none
      const real = yield* files.realPath(dir)
      if (real !== artifactsDirOf(realTask, name)) {
        const refused: Refused = { path: layout.relative(dir), reason: `it resolves to ${real ?? "nothing"}, not to the run's own folder` }
        return [refused]
      }
      const found: Found = { runId: name, startedMs: runStartedMs(name) ?? (yield* files.modifiedAt(dir)) ?? 0, dir }
      return [found]
    })

  /** Deletes the run's design artifacts, then its `artifacts/` and run folders if nothing else is left, and its out record. */
  const purge = (layout: DesignLayout, taskDir: string, runId: string) =>
    Effect.gen(function*() {
      yield* files.removeTree(artifactsDirOf(taskDir, runId))
      for (const parent of [path.join(taskDir, runId, "artifacts"), path.join(taskDir, runId)]) {
        if ((yield* files.list(parent)).length === 0) yield* files.removeTree(parent)
      }
      yield* files.remove(path.join(roots.outRoot, layout.taskId, "design", "runs", `${runId}.json`))
    })

  const describe = (verdict: RetentionPurge, settings: DesignSettings) =>
    verdict.reason === "expired"
      ? `expired: ${verdict.age_days.toFixed(1)} days old, retention.days is ${settings.retentionDays}`
      : `beyond the newest ${settings.retentionMaxRuns ?? 0} runs (retention.maxRuns)`

  return (layout: DesignLayout, settings: DesignSettings) =>
    Effect.gen(function*() {
      const nowMs = DateTime.toEpochMillis(yield* DateTime.now)
      const taskDir = path.join(roots.runsRoot, layout.taskId)
      const realRuns = yield* files.realPath(roots.runsRoot)
      const realTask = yield* files.realPath(taskDir)
      const report = { days: settings.retentionDays, max_runs: settings.retentionMaxRuns ?? null, auto_purge: settings.retentionAutoPurge }
      if (realRuns === undefined || realTask !== path.join(realRuns, layout.taskId)) {
        const refused = realTask === undefined ? [] : [{ path: layout.relative(taskDir), reason: `it resolves to ${realTask}, outside ${realRuns}` }]
        yield* Effect.forEach(refused, (r) => Console.error(`[design:retention] not touching ${r.path}: ${r.reason}`))
        return { ...report, purged: [], refused } satisfies RetentionReport
      }
      const entries = (yield* Effect.forEach(yield* files.list(taskDir), (name) => inspect(layout, taskDir, realTask, name))).flat()
      const refused = entries.filter((entry): entry is Refused => "reason" in entry)
      const found = entries.filter((entry): entry is Found => "dir" in entry)
      const verdicts = runsToPurge(found, { nowMs, days: settings.retentionDays, maxRuns: settings.retentionMaxRuns, currentRunId: layout.runId })
      const purged = yield* Effect.forEach(verdicts, (verdict) =>
        Effect.gen(function*() {
          const entry: RetentionPurge = {
            run_id: verdict.runId,
            reason: verdict.reason,
            path: layout.relative(artifactsDirOf(taskDir, verdict.runId)),
            age_days: Math.round(verdict.ageDays * 10) / 10,
            deleted: settings.retentionAutoPurge
          }
          if (settings.retentionAutoPurge) yield* purge(layout, taskDir, verdict.runId)
          const verb = settings.retentionAutoPurge ? "deleted" : "would delete (retention.autoPurge is false)"
          yield* Console.error(`[design:retention] ${verb} ${entry.path} (${describe(entry, settings)})`)
          return entry
        }))
      yield* Effect.forEach(refused, (r) => Console.error(`[design:retention] not touching ${r.path}: ${r.reason}`))
      return { ...report, purged, refused } satisfies RetentionReport
    })
}
