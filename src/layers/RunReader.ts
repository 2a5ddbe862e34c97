import { Path } from "@effect/platform"
import { Clock, Effect, Either, Layer, Option, Schedule, Schema, Stream } from "effect"
import { CloudSyncRecord } from "../domain/CloudSyncRecord.js"
import { decodeJsonFile } from "../domain/FileErrors.js"
import { parseRunId, resolveTaskId, runStartedMs } from "../domain/Ids.js"
import { isStale, isTerminal, StatusManifest } from "../domain/ManifestStatus.js"
import { makeRunLayout, type RunLayout } from "../domain/RunLayout.js"
import { Files } from "../services/Files.js"
import { BaseConfig } from "../services/BaseConfig.js"
import type { RunRequest, StatusView } from "../services/RunEngine.js"
import { RunReader } from "../services/RunReader.js"
import { readManifestAs, readOwner } from "./internal/runReading.js"

/** What tells a nested stage's child run (RUN-7) from a run of its own. */
const ChildLink = Schema.Struct({ parent_run_id: Schema.NullOr(Schema.String), parent_stage_id: Schema.optional(Schema.String) })

/** A parent's records of its child runs. */
const ChildRecords = Schema.Struct({
  commands: Schema.Array(Schema.Struct({ sub_run_id: Schema.NullOr(Schema.String) })),
  child_runs: Schema.Array(Schema.Struct({ run_id: Schema.String }))
})

/**
 * Reads the part of the manifest status shows (StatusManifest), the recorded owner and the cloud
 * sync record (SYNC) from the run folder, on whatever Files interpreter is provided.
 */
export const RunReaderLive = Layer.effect(
  RunReader,
  Effect.gen(function*() {
    const config = yield* BaseConfig
    const files = yield* Files
    const path = yield* Path.Path

    /** A damaged record is a warning: it must not hide the run's status. */
    const syncRecordOf = (file: string) =>
      files.readText(file).pipe(
        Effect.flatMap((text) =>
          text === undefined ? Effect.succeed(undefined) : decodeJsonFile(CloudSyncRecord, file)(text)
        ),
        Effect.catchAll((error) => Effect.logWarning(`Cloud sync record unreadable: ${error.message}`).pipe(Effect.as(undefined)))
      )

    const status = (request: RunRequest) =>
      Effect.gen(function*() {
        const taskId = yield* resolveTaskId(config.envTaskId, request.taskId)
        const runId = yield* parseRunId(request.runId)
        const layout = makeRunLayout(path, config.roots, taskId, runId)
        const manifest = yield* readManifestAs(files, layout, StatusManifest)
        // Like the sync record, the owner is what status adds: one it cannot read must not hide the run.
        const owner = yield* readOwner(files, layout).pipe(
          Effect.catchAll((error) => Effect.logWarning(`Owner record unreadable: ${error.message}`).pipe(Effect.as(undefined)))
        )
        const cloudSync = yield* syncRecordOf(layout.cloudSyncRecord)
        const now = yield* Clock.currentTimeMillis
        const view: StatusView = { manifest, layout, stale: isStale(manifest, now), owner }
        return cloudSync === undefined ? view : { ...view, cloudSync }
      })

    /**
     * Whether the run is a nested stage's child run (RUN-7): it names the stage that made it, or (made
     * by an earlier version) its parent, a run of the same task, records it. A run started with
     * `--parent-run` is a run of its own; a manifest that cannot be read is shown (status says why).
     */
    const isNestedChild = (layoutOf: (runId: string) => RunLayout, runId: string) =>
      Effect.gen(function*() {
        const read = yield* Effect.option(readManifestAs(files, layoutOf(runId), ChildLink))
        if (Option.isNone(read) || read.value.parent_run_id === null) return false
        if (read.value.parent_stage_id !== undefined) return true
        const parentId = read.value.parent_run_id
        if (Either.isLeft(parseRunId(parentId))) return false
        const parent = yield* Effect.option(readManifestAs(files, layoutOf(parentId), ChildRecords))
        return Option.isSome(parent) &&
          (parent.value.commands.some((c) => c.sub_run_id === runId) || parent.value.child_runs.some((c) => c.run_id === runId))
      })

    const newestRun = Effect.fn("RunReader.newestRun")(function*(flag: string | undefined) {
      const taskId = yield* resolveTaskId(config.envTaskId, flag)
      const layoutOf = (runId: string) => makeRunLayout(path, config.roots, taskId, runId)
      const { cliDir, relative } = layoutOf("_")
      const names = (yield* files.list(cliDir)).filter((name) => Either.isRight(parseRunId(name)))
      // An id ID-2 made says when its run started; another (an embedder's) has its manifest's time.
      const candidates = yield* Effect.forEach(names, (runId) =>
        Effect.map(
          Effect.suspend(() => {
            const fromId = runStartedMs(runId)
            return fromId === undefined ? files.modifiedAt(layoutOf(runId).manifest) : Effect.succeed(fromId)
          }),
          (startedMs) => ({ runId, startedMs: startedMs ?? 0 })
        ))
      const newestFirst = candidates.sort((a, b) => b.startedMs - a.startedMs || b.runId.localeCompare(a.runId))
      // A folder without a manifest (being created, or left half-deleted) is no run to show, nor is a
      // nested stage's child run while a run of its own is there: the child is made after the run
      // that was started, and resumed with it.
      let newestChild: string | undefined
      for (const { runId } of newestFirst) {
        if ((yield* files.info(layoutOf(runId).manifest))?.type !== "file") continue
        if (!(yield* isNestedChild(layoutOf, runId))) return { taskId, runId, runsDir: relative(cliDir) }
        newestChild ??= runId
      }
      return { taskId, runId: newestChild, runsDir: relative(cliDir) }
    })

    return RunReader.of({
      newestRun,
      status,
      watch: (request, interval) =>
        Stream.repeatEffectWithSchedule(status(request), Schedule.spaced(interval)).pipe(
          // The whole (bounded) manifest is compared: two writes can share a millisecond of updated_at.
          Stream.changesWith((a, b) => a.stale === b.stale && JSON.stringify(a.manifest) === JSON.stringify(b.manifest)),
          Stream.takeUntil((view) => isTerminal(view.manifest.status))
        )
    })
  })
)
