import {
  HttpClient,
  HttpClientError,
  type HttpClientRequest as Request,
  HttpClientRequest,
  HttpClientResponse,
  Path
} from "@effect/platform"
import { Clock, Duration, Effect, Either, Layer, Option, Redacted, Ref, Schema } from "effect"
import {
  type AuditEntry,
  auditAttemptFailed,
  auditCompleted,
  auditManifestFailed,
  auditManifestRecovered,
  CloudSyncRecord,
  type CloudSyncSettings,
  cloudScope,
  cloudService,
  CloudUploadHttpError,
  CloudUploadNetworkError,
  idempotencyKeySource,
  importUrl,
  isRetryableUploadError,
  manifestReadPolicy,
  recordOf,
  scrubSecret,
  scrubStrings,
  summarizeError,
  SyncManifestUnavailable,
  type SyncOutcome,
  trimAfterLastBrace,
  uploadAttemptTimeoutMs,
  uploadPolicy,
} from "../domain/CloudSync.js"
import { cloudSyncSection, decodeSettings, type InvalidSetting } from "../domain/Settings.js"
import { decodeJsonFile } from "../domain/FileErrors.js"
import { parseRunId, parseTaskId } from "../domain/Ids.js"
import { retrySchedule } from "../domain/Retry.js"
import { CloudSync, type SyncRequest } from "../services/CloudSync.js"
import { CredentialBroker } from "../services/CredentialBroker.js"
import { Files } from "../services/Files.js"
import { OrchestratorConfig } from "../services/OrchestratorConfig.js"
import { sha256Hex } from "./internal/sha256.js"

/**
 * SYNC-2 settings: the `cloudSync` section (src/domain/Settings.ts), None unless `CODEX_CLOUD_SYNC`
 * is on; a bad or missing value is one InvalidSetting naming the variable.
 */
export const loadCloudSyncSettings: Effect.Effect<Option.Option<CloudSyncSettings>, InvalidSetting> = decodeSettings(
  cloudSyncSection
)

const isoNow = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

const encodeRecord = Schema.encode(Schema.parseJson(CloudSyncRecord, { space: 2 }))

const parseJsonValue = Schema.decodeUnknownEither(Schema.parseJson())

/** What a successful import answers; the remote id is `id`, else `runId` (SYNC-2). */
const ImportAnswer = Schema.Struct({
  id: Schema.optional(Schema.Union(Schema.String, Schema.Number)),
  runId: Schema.optional(Schema.Union(Schema.String, Schema.Number))
})
const parseImportAnswer = Schema.decodeUnknownOption(Schema.parseJson(ImportAnswer))

const remoteIdOf = (text: string): string | undefined =>
  Option.match(parseImportAnswer(text), {
    onNone: () => undefined,
    onSome: (answer) => {
      const id = answer.id ?? answer.runId
      return id === undefined ? undefined : String(id)
    }
  })

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

    const recordPath = (taskId: string, runId: string) => path.join(roots.runsRoot, taskId, "cli", runId, "cloud-sync.json")
    const shown = (absolute: string) => path.relative(roots.repoRoot, absolute)

    /** Ids become path segments: anything ID-1 rejects never reaches the file system. */
    const checkIds = (taskId: string, runId: string) => Effect.asVoid(Effect.all([parseTaskId(taskId), parseRunId(runId)]))

    const sync = (settings: CloudSyncSettings, request: SyncRequest) =>
      Effect.gen(function*() {
        const { runId, taskId } = request
        const invalid = yield* Effect.flip(checkIds(taskId, runId)).pipe(Effect.option)
        if (Option.isSome(invalid)) {
          const failedAt = yield* isoNow
          yield* Effect.logWarning(`Cloud sync skipped: ${invalid.value.message}`)
          return { _tag: "Failed", attempts: 0, failedAt, error: summarizeError(invalid.value) } as const
        }
        /** The last token handed out, so that nothing we write can carry it even by accident. */
        const secret = yield* Ref.make<string | undefined>(undefined)
        const scrub = (text: string) => Effect.map(Ref.get(secret), (token) => scrubSecret(text, token))
        const scrubOutside = <A>(value: A) => Effect.map(Ref.get(secret), (token) => scrubStrings(value, token))

        const auditPath = path.join(roots.outRoot, taskId, "cloud-sync", "audit.log")
        const audit = (entry: AuditEntry) =>
          Effect.gen(function*() {
            const details = entry.details === undefined ? {} : { details: yield* scrubOutside(entry.details) }
            const line = JSON.stringify({ timestamp: yield* isoNow, taskId, runId, ...entry, ...details })
            yield* files.makeDirectory(path.dirname(auditPath))
            yield* files.append(auditPath, `${line}\n`)
          }).pipe(Effect.catchAll((error) => Effect.logWarning(`Could not write the cloud sync audit log: ${error.message}`)))

        const finish = (outcome: SyncOutcome) =>
          Effect.gen(function*() {
            const own = recordOf(outcome)
            // The record's own fields are ours; the remote id and the error came from outside.
            const record = own === undefined ? undefined : own.status === "synced"
              ? { ...own, ...(own.remote_id === undefined ? {} : { remote_id: yield* scrub(own.remote_id) }) }
              : { ...own, error: yield* scrubOutside(own.error) }
            if (record !== undefined) {
              const target = recordPath(taskId, runId)
              yield* encodeRecord(record).pipe(
                Effect.orDie,
                Effect.tap(() => files.makeDirectory(path.dirname(target))),
                Effect.flatMap((json) => files.writeAtomic(target, `${json}\n`)),
                Effect.catchAll((error) => Effect.logWarning(`Could not write the cloud sync record: ${error.message}`))
              )
            }
            if (outcome._tag === "Failed") {
              const reason = (yield* scrub(outcome.error.message)).replace(/\.$/, "")
              yield* Effect.logWarning(
                `Cloud sync of run ${runId} (task ${taskId}) failed after ${outcome.attempts} upload attempt(s): ` +
                  `${reason}. The run itself is unaffected; see ${shown(auditPath)}.`
              )
            }
            return outcome
          })

        const failed = (attempts: number, error: { readonly _tag: string; readonly message: string }) =>
          Effect.flatMap(isoNow, (failedAt) =>
            finish({ _tag: "Failed", attempts, failedAt, error: summarizeError(error) }))

        // SYNC-3: the run summary manifest may still be being written; retry, then try to recover.
        const manifestPath = path.join(roots.runsRoot, taskId, runId, "manifest.json")
        const reads = yield* Ref.make(0)
        const malformed = yield* Ref.make<string | undefined>(undefined)
        const unavailable = (reason: string, cause?: unknown) =>
          new SyncManifestUnavailable({ path: shown(manifestPath), reason, ...(cause === undefined ? {} : { cause }) })
        const readOnce = Effect.gen(function*() {
          yield* Ref.update(reads, (n) => n + 1)
          yield* Ref.set(malformed, undefined)
          const text = yield* files.readText(manifestPath).pipe(
            Effect.mapError((error) => unavailable(error.message, error))
          )
          if (text === undefined) return yield* unavailable("the file does not exist")
          const parsed = parseJsonValue(text)
          if (Either.isLeft(parsed)) {
            yield* Ref.set(malformed, text)
            return yield* unavailable("it is not valid JSON", parsed.left)
          }
          return parsed.right
        })
        const manifest = yield* readOnce.pipe(
          Effect.retry(retrySchedule(manifestReadPolicy)),
          Effect.catchAll((error) =>
            Effect.gen(function*() {
              const partial = yield* Ref.get(malformed)
              const trimmed = partial === undefined ? undefined : trimAfterLastBrace(partial)
              const recovered = trimmed === undefined ? undefined : Either.getOrUndefined(parseJsonValue(trimmed))
              if (recovered === undefined) return yield* error
              yield* audit(auditManifestRecovered(yield* Ref.get(reads)))
              return recovered
            })
          ),
          Effect.either
        )
        if (Either.isLeft(manifest)) {
          yield* audit(auditManifestFailed(yield* Ref.get(reads), summarizeError(manifest.left)))
          return yield* failed(0, manifest.left)
        }

        // SYNC-2, SYNC-4: one key for every attempt, so that the server can drop duplicates.
        const idempotencyKey = yield* sha256Hex(idempotencyKeySource(taskId, runId))
        const url = importUrl(settings)
        const body = {
          summary: request.summary,
          manifest: manifest.right,
          ...(settings.bucket === undefined ? {} : { bucket: settings.bucket }),
          idempotencyKey
        }
        const attempts = yield* Ref.make(0)
        const attempt = Effect.gen(function*() {
          yield* Ref.update(attempts, (n) => n + 1)
          const issued = yield* broker.getToken({ service: cloudService, scope: cloudScope, vaultPath: settings.vaultPath })
          yield* Ref.set(secret, Redacted.value(issued.token))
          const post = HttpClientRequest.post(url).pipe(
            HttpClientRequest.bearerToken(issued.token),
            HttpClientRequest.setHeader("x-idempotency-key", idempotencyKey),
            HttpClientRequest.acceptJson,
            HttpClientRequest.bodyUnsafeJson(body)
          )
          return yield* Effect.gen(function*() {
            const response = yield* http.execute(post)
            const text = yield* response.text.pipe(Effect.orElseSucceed(() => ""))
            if (response.status < 200 || response.status > 299) {
              return yield* new CloudUploadHttpError({ status: response.status })
            }
            return remoteIdOf(text)
          }).pipe(
            Effect.catchIf(
              HttpClientError.isHttpClientError,
              (error) =>
                new CloudUploadNetworkError({
                  url,
                  reason: error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message,
                  cause: error.cause
                })
            ),
            Effect.timeoutFail({
              duration: Duration.millis(uploadAttemptTimeoutMs),
              onTimeout: () => new CloudUploadNetworkError({ url, reason: `no answer within ${uploadAttemptTimeoutMs / 1000} s` })
            })
          )
        }).pipe(
          Effect.tapError((error) =>
            Effect.flatMap(Ref.get(attempts), (n) => audit(auditAttemptFailed(n, summarizeError(error))))
          ),
          Effect.retry({ schedule: retrySchedule(uploadPolicy), while: isRetryableUploadError })
        )

        const uploaded = yield* Effect.either(attempt)
        const tries = yield* Ref.get(attempts)
        if (Either.isLeft(uploaded)) return yield* failed(tries, uploaded.left)
        yield* audit(auditCompleted(uploaded.right ?? null, tries))
        return yield* finish({ _tag: "Synced", remoteId: uploaded.right, attempts: tries, syncedAt: yield* isoNow })
      })

    return CloudSync.of({
      settings,
      syncRun: (request) =>
        Option.match(settings, {
          onNone: () => Effect.succeed<SyncOutcome>({ _tag: "Disabled" }),
          onSome: (enabled) =>
            sync(enabled, request).pipe(
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
          const target = recordPath(taskId, runId)
          const text = yield* files.readText(target)
          if (text === undefined) return Option.none()
          return Option.some(yield* decodeJsonFile(CloudSyncRecord, shown(target))(text))
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

/** A request as an in-memory HTTP handler sees it; the body is parsed JSON when it is JSON. */
export interface HandledRequest {
  readonly method: string
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: unknown
}

/** A status with an optional JSON body, or a failure to connect. */
export type HandlerReply =
  | { readonly status: number; readonly body?: unknown }
  | { readonly transportError: string }

const bodyOf = (request: Request.HttpClientRequest): unknown => {
  if (request.body._tag !== "Uint8Array") return undefined
  const text = new TextDecoder().decode(request.body.body)
  return Either.getOrElse(parseJsonValue(text), () => text)
}

/**
 * An HttpClient answered by a function, for tests and embedders (no sockets; drive backoff with
 * TestClock). `transportError` replies fail like a refused connection.
 */
export const HttpClientMemory = (handler: (request: HandledRequest) => Effect.Effect<HandlerReply>) =>
  Layer.succeed(
    HttpClient.HttpClient,
    HttpClient.make((request, url) =>
      Effect.flatMap(
        handler({ method: request.method, url: url.toString(), headers: { ...request.headers }, body: bodyOf(request) }),
        (reply) =>
          "transportError" in reply
            ? Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause: new Error(reply.transportError) }))
            : Effect.succeed(HttpClientResponse.fromWeb(
              request,
              new Response(reply.body === undefined ? null : JSON.stringify(reply.body), {
                status: reply.status,
                headers: { "content-type": "application/json" }
              })
            ))
      )
    )
  )
