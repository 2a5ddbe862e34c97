/**
 * One cloud sync of a run (SPEC SYNC-2..4), in its steps: read the run summary manifest (retried,
 * then recovered), upload it (retried, one idempotency key), and record what happened in the audit
 * log and the run's `cloud-sync.json`. Nothing written carries the token handed out for the upload.
 */
import { FetchHttpClient, type HttpClient, HttpClientError, HttpClientRequest, type Path } from "@effect/platform"
import { Chunk, Duration, Effect, Either, Option, Redacted, Ref, Schema, Stream } from "effect"
import {
  type AuditEntry,
  auditAttemptFailed,
  auditCompleted,
  auditInterrupted,
  auditManifestFailed,
  auditManifestRecovered,
  CloudSyncRecord,
  type CloudSyncSettings,
  cloudScope,
  cloudService,
  CloudUploadHttpError,
  CloudUploadNetworkError,
  CloudUploadUnexpectedReply,
  idempotencyKeySource,
  importReplyLimitBytes,
  importReplyOf,
  importUrl,
  isRetryableUploadError,
  manifestReadPolicy,
  noAnswerReason,
  recordOf,
  scrubSecret,
  scrubStrings,
  summarizeError,
  SyncInterrupted,
  SyncManifestUnavailable,
  type SyncOutcome,
  trimAfterLastBrace,
  uploadPolicy
} from "../../domain/CloudSync.js"
import { parseRunId, parseTaskId } from "../../domain/Ids.js"
import { oneLine, shortened } from "../../domain/OneLine.js"
import { retrySchedule } from "../../domain/Retry.js"
import type { Roots } from "../../domain/RunLayout.js"
import { isoNow } from "../../domain/Time.js"
import type { SyncRequest } from "../../services/CloudSync.js"
import type { CredentialBroker } from "../../services/CredentialBroker.js"
import type { Files } from "../../services/Files.js"
import { causeMessages } from "./causeMessages.js"
import { sha256Hex } from "./sha256.js"

/** What a sync needs from CloudSyncLive: its services and the configured roots. */
export interface SyncDeps {
  readonly http: HttpClient.HttpClient
  readonly files: Files["Type"]
  readonly path: Path.Path
  readonly broker: CredentialBroker["Type"]
  readonly roots: Roots
}

/** `.runs/<task>/cli/<run>/cloud-sync.json`. */
export const syncRecordPath = (deps: SyncDeps, taskId: string, runId: string) =>
  deps.path.join(deps.roots.runsRoot, taskId, "cli", runId, "cloud-sync.json")

/** A path as messages show it: relative to the repository. */
export const shownPath = (deps: SyncDeps, absolute: string) => deps.path.relative(deps.roots.repoRoot, absolute)

/** Ids become path segments: anything ID-1 rejects never reaches the file system. */
export const checkIds = (taskId: string, runId: string) => Effect.asVoid(Effect.all([parseTaskId(taskId), parseRunId(runId)]))

const encodeRecord = Schema.encode(Schema.parseJson(CloudSyncRecord, { space: 2 }))

const parseJsonValue = Schema.decodeUnknownEither(Schema.parseJson())

/** What a successful import answers; the remote id is `id`, else `runId` (SYNC-2), neither blank. */
const ImportAnswer = Schema.Struct({
  id: Schema.optional(Schema.Union(Schema.String, Schema.Number)),
  runId: Schema.optional(Schema.Union(Schema.String, Schema.Number))
})
const parseImportAnswer = Schema.decodeUnknownOption(ImportAnswer)

/** The remote id of a 2xx answer; one that is not the import's JSON fails (SYNC-2). */
const remoteIdOf = (url: string, status: number, contentType: string | undefined, text: string) => {
  const reply = importReplyOf(contentType, text)
  return reply._tag === "Problem"
    ? Effect.fail(new CloudUploadUnexpectedReply({ url, status, problem: reply.problem, ...(contentType === undefined ? {} : { contentType }) }))
    : Effect.succeed(reply._tag === "Empty" ? undefined : remoteIdIn(reply.value))
}

const remoteIdIn = (value: object): string | undefined =>
  Option.match(parseImportAnswer(value), {
    onNone: () => undefined,
    onSome: (answer) =>
      // The server's text, shown by `start` and `status`: one line, and not a page of it. A blank id is none.
      [answer.id, answer.runId]
        .map((id) => (id === undefined ? "" : shortened(oneLine(String(id).trim()))))
        .find((id) => id.length > 0)
  })

/** A body as text, read until it passes `limit` bytes (then undefined: the rest is not read). */
const readCapped = <E>(body: Stream.Stream<Uint8Array, E>, limit: number) =>
  Effect.map(
    Stream.runFoldWhile(body, { chunks: Chunk.empty<Uint8Array>(), bytes: 0 }, (read) => read.bytes <= limit, (read, chunk) => ({
      chunks: Chunk.append(read.chunks, chunk),
      bytes: read.bytes + chunk.byteLength
    })),
    ({ bytes, chunks }) => {
      if (bytes > limit) return undefined
      const decoder = new TextDecoder()
      return Chunk.reduce(chunks, "", (all, chunk) => all + decoder.decode(chunk, { stream: true })) + decoder.decode()
    }
  )

/** Why the client failed, after the URL the message already names: the kind of failure, then its causes. */
const clientFailureReason = (error: HttpClientError.HttpClientError) => [`${error.reason} error`, ...causeMessages(error, 4)].join(": ")

type Audit = (entry: AuditEntry) => Effect.Effect<void>

/**
 * The run's audit log and its sync record, both scrubbed of the last token handed out (`secret`).
 * `finish` writes the record and warns on a failure; `failed` finishes with a failure.
 */
const makeRecorder = (deps: SyncDeps, request: SyncRequest, secret: Ref.Ref<string | undefined>) => {
  const { files, path } = deps
  const { runId, taskId } = request
  const scrub = (text: string) => Effect.map(Ref.get(secret), (token) => scrubSecret(text, token))
  const scrubOutside = <A>(value: A) => Effect.map(Ref.get(secret), (token) => scrubStrings(value, token))

  const auditPath = path.join(deps.roots.outRoot, taskId, "cloud-sync", "audit.log")
  const audit: Audit = (entry) =>
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
        const target = syncRecordPath(deps, taskId, runId)
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
            `${reason}. The run itself is unaffected; see ${shownPath(deps, auditPath)}.`
        )
      }
      return outcome
    })

  const failed = (attempts: number, error: { readonly _tag: string; readonly message: string }) =>
    Effect.flatMap(isoNow, (failedAt) => finish({ _tag: "Failed", attempts, failedAt, error: summarizeError(error) }))

  return { audit, finish, failed }
}

/**
 * SYNC-3: the run summary manifest may still be being written: read it again on the read policy,
 * then try to recover the last malformed text by cutting it after its last `}`.
 */
const readSummaryManifest = (deps: SyncDeps, request: SyncRequest, audit: Audit) =>
  Effect.gen(function*() {
    const manifestPath = deps.path.join(deps.roots.runsRoot, request.taskId, request.runId, "manifest.json")
    const reads = yield* Ref.make(0)
    const malformed = yield* Ref.make<string | undefined>(undefined)
    const unavailable = (reason: string, cause?: unknown) =>
      new SyncManifestUnavailable({ path: shownPath(deps, manifestPath), reason, ...(cause === undefined ? {} : { cause }) })
    const readOnce = Effect.gen(function*() {
      yield* Ref.update(reads, (n) => n + 1)
      yield* Ref.set(malformed, undefined)
      const text = yield* deps.files.readText(manifestPath).pipe(
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
    if (Either.isLeft(manifest)) yield* audit(auditManifestFailed(yield* Ref.get(reads), summarizeError(manifest.left)))
    return manifest
  })

interface Upload {
  readonly settings: CloudSyncSettings
  readonly body: unknown
  readonly idempotencyKey: string
}

/**
 * SYNC-2, SYNC-4: posts the body with a fresh token each attempt, retrying on the upload policy while
 * the error is worth it. Answers the remote id (or the last error) and how many attempts were made.
 */
const upload = (
  deps: SyncDeps,
  { body, idempotencyKey, settings }: Upload,
  { attempts, audit, secret }: { readonly secret: Ref.Ref<string | undefined>; readonly audit: Audit; readonly attempts: Ref.Ref<number> }
) =>
  Effect.gen(function*() {
    const url = importUrl(settings)
    const attempt = Effect.gen(function*() {
      yield* Ref.update(attempts, (n) => n + 1)
      const issued = yield* deps.broker.getToken({ service: cloudService, scope: cloudScope, vaultPath: settings.vaultPath })
      yield* Ref.set(secret, Redacted.value(issued.token))
      const post = HttpClientRequest.post(url).pipe(
        HttpClientRequest.bearerToken(issued.token),
        HttpClientRequest.setHeader("x-idempotency-key", idempotencyKey),
        HttpClientRequest.acceptJson,
        HttpClientRequest.bodyUnsafeJson(body)
      )
      return yield* Effect.gen(function*() {
        // A fetch-backed client must not follow a redirect: a 301/302 would become a GET without the body.
        const response = yield* deps.http.execute(post).pipe(Effect.provideService(FetchHttpClient.RequestInit, { redirect: "manual" }))
        // Never more than the limit in memory, whatever the server sends (an unread rest is dropped).
        const text = yield* readCapped(response.stream, importReplyLimitBytes).pipe(Effect.orElseSucceed(() => ""))
        if (response.status < 200 || response.status > 299) {
          const location = response.status >= 300 && response.status <= 399 ? response.headers["location"] : undefined
          return yield* new CloudUploadHttpError({ status: response.status, ...(location === undefined ? {} : { location }) })
        }
        const contentType = response.headers["content-type"]
        if (text === undefined) {
          return yield* new CloudUploadUnexpectedReply({ url, status: response.status, problem: "too-large", ...(contentType === undefined ? {} : { contentType }) })
        }
        return yield* remoteIdOf(url, response.status, contentType, text)
      }).pipe(
        Effect.catchIf(
          HttpClientError.isHttpClientError,
          (error) => new CloudUploadNetworkError({ url, reason: clientFailureReason(error), cause: error.cause })
        ),
        Effect.timeoutFail({
          duration: Duration.millis(Math.round(settings.attemptTimeoutSeconds * 1000)),
          onTimeout: () => new CloudUploadNetworkError({ url, reason: noAnswerReason(settings.attemptTimeoutSeconds) })
        })
      )
    }).pipe(
      Effect.tapError((error) => Effect.flatMap(Ref.get(attempts), (n) => audit(auditAttemptFailed(n, summarizeError(error))))),
      Effect.retry({ schedule: retrySchedule(uploadPolicy), while: isRetryableUploadError })
    )
    const uploaded = yield* Effect.either(attempt)
    return { uploaded, tries: yield* Ref.get(attempts) }
  })

/** Syncs one run: never fails; a failure is recorded, logged and answered as a `Failed` outcome. */
export const syncRun = (deps: SyncDeps, settings: CloudSyncSettings, request: SyncRequest) =>
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
    const { audit, failed, finish } = makeRecorder(deps, request, secret)

    const manifest = yield* readSummaryManifest(deps, request, audit)
    if (Either.isLeft(manifest)) return yield* failed(0, manifest.left)

    // SYNC-2, SYNC-4: one key for every attempt, so that the server can drop duplicates.
    const idempotencyKey = yield* sha256Hex(idempotencyKeySource(taskId, runId))
    const body = {
      summary: request.summary,
      manifest: manifest.right,
      ...(settings.bucket === undefined ? {} : { bucket: settings.bucket }),
      idempotencyKey
    }
    // Stopped (Ctrl-C) while waiting for the server: said and recorded like a failure, since it may not have arrived.
    const attempts = yield* Ref.make(0)
    const { tries, uploaded } = yield* upload(deps, { settings, body, idempotencyKey }, { secret, audit, attempts }).pipe(
      Effect.onInterrupt(() =>
        Effect.flatMap(Ref.get(attempts), (n) => Effect.zipRight(audit(auditInterrupted(n)), failed(n, new SyncInterrupted({ attempts: n }))))
      )
    )
    if (Either.isLeft(uploaded)) return yield* failed(tries, uploaded.left)
    yield* audit(auditCompleted(uploaded.right ?? null, tries))
    return yield* finish({ _tag: "Synced", remoteId: uploaded.right, attempts: tries, syncedAt: yield* isoNow })
  })
