/**
 * Cloud sync of finished runs (SPEC SYNC-2..4): settings, the idempotency key, which failures are
 * worth another attempt, the audit log and the per-run sync record. Pure; the I/O is in
 * src/layers/CloudSync.ts.
 */
import { Schema } from "effect"
import type { CloudSyncRecord, ErrorSummary } from "./CloudSyncRecord.js"
import { minSecretLength } from "./Privacy.js"
import type { RetryPolicy } from "./Retry.js"

// What a sync leaves for `status` is defined on its own (see there why); it is part of this module's API too.
export * from "./CloudSyncRecord.js"

export const cloudSyncVariable = "CODEX_CLOUD_SYNC"
export const baseUrlVariable = "CODEX_CLOUD_BASE_URL"
export const workspaceVariable = "CODEX_CLOUD_WORKSPACE_ID"
export const bucketVariable = "CLOUD_SYNC_BUCKET"
export const vaultPathVariable = "CLOUD_SYNC_VAULT_PATH"
export const cloudSyncTimeoutVariable = "CODEX_CLOUD_SYNC_TIMEOUT_SECONDS"
/** How long the engine waits for its subscribers (the upload among them): the engine section's (Settings.ts). */
const subscriberGraceVariable = "CODEX_ORCHESTRATOR_SUBSCRIBER_GRACE_SECONDS"

export const defaultBaseUrl = "https://api.codex.cloud"
/** The credential the upload asks the broker for (SYNC-2). */
export const cloudService = "codex-cloud"
export const cloudScope = "runs:write"

/** What an enabled cloud sync needs; there are no settings when `CODEX_CLOUD_SYNC` is off. */
export const CloudSyncSettings = Schema.Struct({
  baseUrl: Schema.String,
  workspaceId: Schema.String,
  bucket: Schema.optional(Schema.String),
  vaultPath: Schema.optional(Schema.String),
  /** How long one upload attempt may wait for the server's whole answer (`CODEX_CLOUD_SYNC_TIMEOUT_SECONDS`). */
  attemptTimeoutSeconds: Schema.Number
})
export type CloudSyncSettings = typeof CloudSyncSettings.Type

/** POST target of an upload (SYNC-2); a trailing slash of the base is not doubled. */
export const importUrl = (settings: Pick<CloudSyncSettings, "baseUrl" | "workspaceId">) =>
  `${settings.baseUrl.replace(/\/+$/, "")}/workspaces/${encodeURIComponent(settings.workspaceId)}/runs/import`

/** SYNC-4: the idempotency key is the SHA-256 hex of this text, the same for every attempt. */
export const idempotencyKeySource = (taskId: string, runId: string) => `${taskId}:${runId}`

/** SYNC-3: reading the run summary manifest, which may still be being written: 5 attempts, 50 ms doubling. */
export const manifestReadPolicy: RetryPolicy = { attempts: 5, initialDelayMs: 50, factor: 2 }

/** SYNC-4: uploading: 3 attempts, 250 ms doubling. */
export const uploadPolicy: RetryPolicy = { attempts: 3, initialDelayMs: 250, factor: 2 }

/**
 * An attempt that takes longer than this (connection, answer and body) counts as a network failure,
 * so a silent server cannot hold a run's exit: with the upload policy's 3 attempts, about 31 s at most.
 */
export const defaultUploadAttemptTimeoutSeconds = 10

/** The reason of an attempt the server did not answer in time, or whose answer never ended: the time allowed and the setting. */
export const noAnswerReason = (seconds: number) =>
  `no complete answer within ${seconds} s (${cloudSyncTimeoutVariable} sets how long each of the ${uploadPolicy.attempts} attempts ` +
  `may wait, default ${defaultUploadAttemptTimeoutSeconds})`

/**
 * The server answered with a status outside 2xx. The response body is not kept: it is the server's to log.
 * A redirect is not followed (fetch would turn the POST into a bodiless GET): `location` says where it pointed.
 */
export class CloudUploadHttpError extends Schema.TaggedError<CloudUploadHttpError>()("CloudUploadHttpError", {
  status: Schema.Number,
  location: Schema.optional(Schema.String)
}) {
  override get message() {
    const redirected = this.location === undefined
      ? ""
      : `: the server redirected it to ${this.location}; set ${baseUrlVariable} to the address that answers the import itself`
    return `CloudRuns upload failed with status ${this.status}${redirected}`
  }
}

/** What is wrong with a 2xx answer that is not the import's JSON. */
export type UnexpectedReplyProblem = "not-json-type" | "invalid-json" | "not-object" | "too-large"

/** The most of an answer's body that is read: the import answers an id, not a page. */
export const importReplyLimitBytes = 1024 * 1024

/**
 * A 2xx answer that is not the JSON object the import answers (SYNC-2): a captive portal's or a
 * proxy's login page, or a base URL that points at a web site. The upload did not reach the import.
 * The body is not kept (it is the server's), only its content type and what is wrong with it.
 */
export class CloudUploadUnexpectedReply extends Schema.TaggedError<CloudUploadUnexpectedReply>()("CloudUploadUnexpectedReply", {
  url: Schema.String,
  status: Schema.Number,
  contentType: Schema.optional(Schema.String),
  problem: Schema.Literal("not-json-type", "invalid-json", "not-object", "too-large")
}) {
  override get message() {
    const detail = {
      "not-json-type": "",
      "invalid-json": " that is not valid JSON",
      "not-object": " that is not a JSON object",
      "too-large": ` of more than ${importReplyLimitBytes / 1024 / 1024} MiB`
    }[this.problem]
    return `CloudRuns upload to ${this.url} answered status ${this.status} with ${this.contentType ?? "no content type"}${detail}, ` +
      `not the JSON the import answers (a captive portal or a proxy in the way, or ${baseUrlVariable} pointing at another site)`
  }
}

/**
 * SYNC-2: what a 2xx answer's body holds: nothing (an empty body: no remote id), a JSON object, or
 * the problem that makes it not the import's answer. A content type that does not name JSON is one.
 */
export const importReplyOf = (
  contentType: string | undefined,
  text: string
): { readonly _tag: "Empty" } | { readonly _tag: "Object"; readonly value: object } | { readonly _tag: "Problem"; readonly problem: UnexpectedReplyProblem } => {
  if (text.trim().length === 0) return { _tag: "Empty" }
  if (contentType !== undefined && !/json/i.test(contentType)) return { _tag: "Problem", problem: "not-json-type" }
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? { _tag: "Object", value }
      : { _tag: "Problem", problem: "not-object" }
  } catch {
    return { _tag: "Problem", problem: "invalid-json" }
  }
}

/** No answer: the connection failed or the attempt timed out. */
export class CloudUploadNetworkError extends Schema.TaggedError<CloudUploadNetworkError>()("CloudUploadNetworkError", {
  url: Schema.String,
  reason: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message() {
    return `CloudRuns upload to ${this.url} failed: ${this.reason}`
  }
}

/**
 * The upload was cut off while it waited for the server: the command was stopped (Ctrl-C), or the
 * engine stopped waiting for its subscribers (the subscriber grace). The run may not have reached it.
 */
export class SyncInterrupted extends Schema.TaggedError<SyncInterrupted>()("SyncInterrupted", {
  attempts: Schema.Number
}) {
  override get message() {
    return `Cloud sync was interrupted at upload attempt ${this.attempts}, before the server accepted the run: it may not ` +
      `have reached it (the command was stopped, or it stopped waiting for the upload after ${subscriberGraceVariable})`
  }
}

/** The run summary manifest could not be read or parsed, even after the retries of SYNC-3. */
export class SyncManifestUnavailable extends Schema.TaggedError<SyncManifestUnavailable>()("SyncManifestUnavailable", {
  path: Schema.String,
  reason: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message() {
    return `Could not read ${this.path} before cloud sync: ${this.reason}`
  }
}

/** HTTP statuses worth another attempt: too many requests, and server errors (SYNC-4). */
export const isRetryableStatus = (status: number) => status === 429 || status >= 500

/**
 * SYNC-4: an upload is retried on 429 and 5xx answers and on network failures, not on other 4xx.
 * A missing credential is not retried either: it will not appear within a second, and the next
 * sync asks the broker again.
 */
export const isRetryableUploadError = (error: { readonly _tag: string; readonly status?: number }) =>
  error._tag === "CloudUploadHttpError"
    ? error.status !== undefined && isRetryableStatus(error.status)
    : error._tag === "CloudUploadNetworkError"

/** SYNC-3 recovery of a manifest that stays unparseable: cut after its last `}`. */
export const trimAfterLastBrace = (text: string): string | undefined => {
  const end = text.lastIndexOf("}")
  return end < 0 ? undefined : text.slice(0, end + 1)
}

/** One line of `<outRoot>/<taskId>/cloud-sync/audit.log` (SYNC-4). */
export const AuditLine = Schema.Struct({
  timestamp: Schema.String,
  taskId: Schema.String,
  runId: Schema.String,
  level: Schema.Literal("info", "error"),
  message: Schema.String,
  details: Schema.Record({ key: Schema.String, value: Schema.Unknown })
})
export type AuditLine = typeof AuditLine.Type

export type AuditEntry = Pick<AuditLine, "level" | "message" | "details">

export const auditCompleted = (remoteId: string | null, attempt: number): AuditEntry => ({
  level: "info",
  message: "Cloud sync completed",
  details: { remoteId, attempt }
})

export const auditAttemptFailed = (attempt: number, error: ErrorSummary): AuditEntry => ({
  level: "error",
  message: "Cloud sync attempt failed",
  details: { attempt, error }
})

export const auditInterrupted = (attempt: number): AuditEntry => ({
  level: "error",
  message: "Cloud sync interrupted",
  details: { attempt }
})

export const auditManifestRecovered = (attempts: number): AuditEntry => ({
  level: "info",
  message: "Recovered manifest from partial JSON",
  details: { strategy: "trim-trailing", attempts }
})

export const auditManifestFailed = (attempts: number, error: ErrorSummary): AuditEntry => ({
  level: "error",
  message: "Failed to read manifest before sync",
  details: { attempts, error }
})

/** What `syncRun` did; it never fails. */
export type SyncOutcome =
  | { readonly _tag: "Disabled" }
  | { readonly _tag: "Synced"; readonly remoteId: string | undefined; readonly attempts: number; readonly syncedAt: string }
  | { readonly _tag: "Failed"; readonly attempts: number; readonly failedAt: string; readonly error: ErrorSummary }

/** The record a sync outcome leaves (none when sync is off). */
export const recordOf = (outcome: SyncOutcome): CloudSyncRecord | undefined =>
  outcome._tag === "Disabled"
    ? undefined
    : outcome._tag === "Synced"
    ? {
      status: "synced",
      synced_at: outcome.syncedAt,
      ...(outcome.remoteId === undefined ? {} : { remote_id: outcome.remoteId }),
      attempts: outcome.attempts
    }
    : { status: "failed", failed_at: outcome.failedAt, attempts: outcome.attempts, error: outcome.error }

/**
 * Replaces every occurrence of a secret (a last line of defence for text we write). One shorter
 * than the privacy guard's `minSecretLength` is left alone: the brokers never hand one out, and
 * replacing, say, every `a` would rewrite every message.
 */
export const scrubSecret = (text: string, secret: string | undefined) =>
  secret === undefined || secret.length < minSecretLength ? text : text.split(secret).join("[REDACTED]")

/**
 * The same for every string inside a value from outside (an error, a server's answer). Only such
 * values are scrubbed: our own keys and words ("synced", "attempts") must survive a token that
 * happens to be a part of them.
 */
export const scrubStrings = <A>(value: A, secret: string | undefined): A => {
  if (secret === undefined || secret.length < minSecretLength) return value
  const walk = (v: unknown): unknown =>
    typeof v === "string"
      ? scrubSecret(v, secret)
      : Array.isArray(v)
      ? v.map(walk)
      : typeof v === "object" && v !== null
      ? Object.fromEntries(Object.entries(v).map(([key, inner]) => [key, walk(inner)]))
      : v
  // walk keeps the shape of its input: it only rewrites strings.
  return walk(value) as A
}
