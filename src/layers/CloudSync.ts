import { HttpClient, Path } from "@effect/platform"
import { Effect, Layer, Option } from "effect"
import { CloudSyncRecord, type CloudSyncSettings, type SyncOutcome } from "../domain/CloudSync.js"
import { decodeJsonFile } from "../domain/FileErrors.js"
import { cloudSyncSection, decodeSettings, type InvalidSetting } from "../domain/Settings.js"
import { isoNow } from "../domain/Time.js"
import { CloudSync } from "../services/CloudSync.js"
import { CredentialBroker } from "../services/CredentialBroker.js"
import { Files } from "../services/Files.js"
import { OrchestratorConfig } from "../services/OrchestratorConfig.js"
import { checkIds, shownPath, type SyncDeps, syncRecordPath, syncRun } from "./internal/cloudSyncRun.js"


/**
 * SYNC-2 settings: the `cloudSync` section (src/domain/Settings.ts), None unless `CODEX_CLOUD_SYNC`
 * is on; a bad or missing value is one InvalidSetting naming the variable.
 */
export const loadCloudSyncSettings: Effect.Effect<Option.Option<CloudSyncSettings>, InvalidSetting> = decodeSettings(
  cloudSyncSection
)

/**
 * Cloud sync on the platform HttpClient (FetchHttpClient in production, see App.ts), the Files service, the
 * credential broker and the configured roots. Fails to build only when `CODEX_CLOUD_SYNC` is on
 * and its settings are wrong (InvalidSetting says which variable and how to fix it).
 */
export const CloudSyncLive = Layer.effect(
  CloudSync,
  Effect.gen(function*() {
    const settings = yield* loadCloudSyncSettings
    const http = yield* HttpClient.HttpClient
    const files = yield* Files
    const path = yield* Path.Path
    const broker = yield* CredentialBroker
    const { roots } = yield* OrchestratorConfig

    const deps: SyncDeps = { http, files, path, broker, roots }

    return CloudSync.of({
      settings,
      syncRun: (request) =>
        Option.match(settings, {
          onNone: () => Effect.succeed<SyncOutcome>({ _tag: "Disabled" }),
          onSome: (enabled) =>
            syncRun(deps, enabled, request).pipe(
              // A bug here must not take the run down with it: report it like any failed sync.
              Effect.catchAllDefect((defect) =>
                Effect.gen(function*() {
                  yield* Effect.logWarning("Cloud sync failed unexpectedly; the run itself is unaffected.", defect)
                  const failedAt = yield* isoNow
                  return { _tag: "Failed", attempts: 0, failedAt, error: { name: "Defect", message: String(defect) } } as const
                })
              )
            )
        }),
      readSyncRecord: (taskId, runId) =>
        Effect.gen(function*() {
          yield* checkIds(taskId, runId)
          const target = syncRecordPath(deps, taskId, runId)
          const text = yield* files.readText(target)
          if (text === undefined) return Option.none()
          return Option.some(yield* decodeJsonFile(CloudSyncRecord, shownPath(deps, target))(text))
        })
    })
  })
)

/** Cloud sync switched off, for graphs (the test kit) that need the service but no uploads. */
export const CloudSyncDisabled = Layer.succeed(
  CloudSync,
  CloudSync.of({
    settings: Option.none(),
    syncRun: () => Effect.succeed<SyncOutcome>({ _tag: "Disabled" }),
    readSyncRecord: () => Effect.succeed(Option.none())
  })
)

