import { Path } from "@effect/platform"
import { Clock, Effect, Layer, Schedule, Stream } from "effect"
import { CloudSyncRecord } from "../domain/CloudSyncRecord.js"
import { decodeJsonFile } from "../domain/FileErrors.js"
import { parseRunId, resolveTaskId } from "../domain/Ids.js"
import { isStale, isTerminal, StatusManifest } from "../domain/ManifestStatus.js"
import { makeRunLayout } from "../domain/RunLayout.js"
import { Files } from "../services/Files.js"
import { BaseConfig } from "../services/BaseConfig.js"
import type { RunRequest, StatusView } from "../services/RunEngine.js"
import { RunReader } from "../services/RunReader.js"
import { readManifestAs, readOwner } from "./internal/runReading.js"

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
        const owner = yield* readOwner(files, layout)
        const cloudSync = yield* syncRecordOf(layout.cloudSyncRecord)
        const now = yield* Clock.currentTimeMillis
        const view: StatusView = { manifest, layout, stale: isStale(manifest, now), owner }
        return cloudSync === undefined ? view : { ...view, cloudSync }
      })

    return RunReader.of({
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
