/**
 * Cloud sync in memory (SPEC SYNC-2..4): an HttpClient answered by a function, in-memory files, a
 * memory credential broker, and TestClock for every backoff, so the delays are observed exactly.
 */
import { createHash } from "node:crypto"
import { Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Fiber, Layer, Logger, LogLevel, Option, Schema } from "effect"
import {
  AuditLine,
  CloudSyncRecord,
  idempotencyKeySource,
  importUrl,
  isRetryableStatus,
  isRetryableUploadError,
  type SyncOutcome,
  trimAfterLastBrace
} from "../src/domain/CloudSync.js"
import { hasControlCharacter } from "../src/domain/OneLine.js"
import { CloudSyncLive, loadCloudSyncSettings } from "../src/layers/CloudSync.js"
import { CredentialBrokerMemory } from "../src/layers/CredentialBroker.js"
import { FilesMemory, InMemoryFiles } from "../src/layers/Files.js"
import { type HandledRequest, type HandlerReply, HttpClientMemory } from "../src/layers/HttpClientMemory.js"
import { OrchestratorConfigTest } from "../src/layers/OrchestratorConfig.js"
import { CloudSync, type SyncRequest } from "../src/services/CloudSync.js"
import { liveTick, passSleep } from "./support/testClock.js"

// ---------------------------------------------------------------------------------------------
// Fixtures

const token = "cloud-token-s3cr3t-xyz"
const taskId = "sync-task"
const runId = "2025-11-24T00-30-09-180Z-33452943"
const manifestPath = `/repo/.runs/${taskId}/${runId}/manifest.json`
const auditPath = `/repo/out/${taskId}/cloud-sync/audit.log`
const recordPath = `/repo/.runs/${taskId}/cli/${runId}/cloud-sync.json`
const summary = { taskId, runId, mode: "mcp", timestamp: "2025-11-24T00:30:10.000Z" }
const manifest = { taskId, runId, review: { summary: "Diagnostics pipeline succeeded." } }
const request: SyncRequest = { taskId, runId, summary }

const enabledEnv = {
  CODEX_CLOUD_SYNC: "1",
  CODEX_CLOUD_BASE_URL: "https://cloud.test/",
  CODEX_CLOUD_WORKSPACE_ID: "ws-1",
  CLOUD_SYNC_BUCKET: "bucket-a",
  CLOUD_SYNC_VAULT_PATH: "vault/cloud"
}

const withEnv = (env: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

/** A server that plays `replies` in order (the last repeating) and records every request. */
const scriptedServer = (replies: ReadonlyArray<HandlerReply>) => {
  const requests: Array<HandledRequest> = []
  const handler = (req: HandledRequest) =>
    Effect.sync((): HandlerReply => {
      requests.push(req)
      return replies[Math.min(requests.length - 1, replies.length - 1)] ?? { status: 500 }
    })
  return { requests, handler }
}

const app = (
  handler: (req: HandledRequest) => Effect.Effect<HandlerReply>,
  tokens: ReadonlyArray<{ service: string; scope: string; token: string }> = [
    { service: "codex-cloud", scope: "runs:write", token }
  ]
) =>
  CloudSyncLive.pipe(
    Layer.provideMerge(Layer.mergeAll(
      HttpClientMemory(handler),
      CredentialBrokerMemory(tokens),
      FilesMemory,
      OrchestratorConfigTest("/repo"),
      Path.layer
    ))
  )

// ---------------------------------------------------------------------------------------------
// Helpers

/** Runs syncRun, letting exactly the given backoff delays pass in order. */
const syncWithDelays = (delays: ReadonlyArray<number>, req: SyncRequest = request) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(Effect.flatMap(CloudSync, (sync) => sync.syncRun(req)))
    for (const ms of delays) yield* passSleep(ms)
    return yield* Fiber.join(fiber)
  })

const putFile = (path: string, text: string) => Effect.flatMap(InMemoryFiles, (files) => files.write(path, text))
const putManifest = (text: string = JSON.stringify(manifest, null, 2)) => putFile(manifestPath, text)

const auditLines = Effect.flatMap(InMemoryFiles, (files) => files.read(auditPath)).pipe(
  Effect.flatMap((text) =>
    Effect.forEach(
      (text ?? "").split("\n").filter((line) => line.length > 0),
      (line) => Schema.decodeUnknown(Schema.parseJson(AuditLine), { onExcessProperty: "error" })(line).pipe(Effect.orDie)
    )
  )
)

const readRecord = Effect.flatMap(CloudSync, (sync) => sync.readSyncRecord(taskId, runId))

/** No file anywhere holds the token. */
const assertTokenNowhere = Effect.gen(function*() {
  const files = yield* InMemoryFiles
  for (const path of yield* files.list) {
    assert.notInclude((yield* files.read(path)) ?? "", token, `the token leaked into ${path}`)
  }
})

/** Runs `effect` with a logger that keeps what it logs, as `[level, message]` pairs. */
const captureLogs = <A, E, R>(effect: Effect.Effect<A, E, R>) => {
  const logged: Array<readonly [string, string]> = []
  const logger = Logger.make(({ logLevel, message }) => {
    logged.push([logLevel.label, Array.isArray(message) ? message.map(String).join(" ") : String(message)])
  })
  return Effect.map(
    effect.pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)), Logger.withMinimumLogLevel(LogLevel.All)),
    (result) => [result, logged] as const
  )
}

const expectedKey = createHash("sha256").update(`${taskId}:${runId}`).digest("hex")

// ---------------------------------------------------------------------------------------------
// Pure parts

describe("CloudSync domain", () => {
  it("the idempotency key source is <taskId>:<runId>", () => {
    assert.strictEqual(idempotencyKeySource("t", "r"), "t:r")
  })

  it("retries 429, 5xx and network errors; not other 4xx nor missing credentials", () => {
    for (const status of [429, 500, 502, 503]) {
      assert.isTrue(isRetryableStatus(status), `${status}`)
      assert.isTrue(isRetryableUploadError({ _tag: "CloudUploadHttpError", status }), `${status}`)
    }
    for (const status of [400, 401, 403, 404, 409, 422]) {
      assert.isFalse(isRetryableUploadError({ _tag: "CloudUploadHttpError", status }), `${status}`)
    }
    assert.isTrue(isRetryableUploadError({ _tag: "CloudUploadNetworkError" }))
    assert.isFalse(isRetryableUploadError({ _tag: "CredentialUnavailable" }))
    assert.isFalse(isRetryableUploadError({ _tag: "CredentialHelperFailed" }))
  })

  it("builds the import URL without doubling slashes", () => {
    assert.strictEqual(
      importUrl({ baseUrl: "https://api.codex.cloud/", workspaceId: "ws 1" }),
      "https://api.codex.cloud/workspaces/ws%201/runs/import"
    )
  })

  it("trims after the last closing brace", () => {
    assert.strictEqual(trimAfterLastBrace("{\"a\":{\"b\":1}}\u0000garbage"), "{\"a\":{\"b\":1}}")
    assert.isUndefined(trimAfterLastBrace("no braces"))
  })
})

describe("loadCloudSyncSettings", () => {
  it.effect("is off unless CODEX_CLOUD_SYNC is truthy", () =>
    Effect.gen(function*() {
      for (const value of [undefined, "", "0", "false", "nope"]) {
        const env = value === undefined ? {} : { CODEX_CLOUD_SYNC: value }
        assert.isTrue(Option.isNone(yield* loadCloudSyncSettings.pipe(withEnv(env))), String(value))
      }
    }))

  it.effect("defaults the base URL and reads bucket and vault path", () =>
    Effect.gen(function*() {
      const settings = yield* loadCloudSyncSettings.pipe(withEnv({ CODEX_CLOUD_SYNC: " Yes ", CODEX_CLOUD_WORKSPACE_ID: "ws" }))
      assert.deepStrictEqual(settings, Option.some({ baseUrl: "https://api.codex.cloud", workspaceId: "ws", attemptTimeoutSeconds: 10 }))
      const full = yield* loadCloudSyncSettings.pipe(withEnv(enabledEnv))
      assert.deepStrictEqual(
        full,
        Option.some({ baseUrl: "https://cloud.test/", workspaceId: "ws-1", bucket: "bucket-a", vaultPath: "vault/cloud", attemptTimeoutSeconds: 10 })
      )
    }))

  it.effect("a base URL holding a user name or password is an InvalidSetting that does not repeat it", () =>
    Effect.gen(function*() {
      const env = { CODEX_CLOUD_SYNC: "1", CODEX_CLOUD_WORKSPACE_ID: "ws", CODEX_CLOUD_BASE_URL: "https://me:hunter2@cloud.test" }
      const error = yield* loadCloudSyncSettings.pipe(withEnv(env), Effect.flip)
      assert.strictEqual(error.variable, "CODEX_CLOUD_BASE_URL")
      assert.notInclude(error.message, "hunter2")
      assert.strictEqual(
        error.message,
        "CODEX_CLOUD_BASE_URL holds a user name or password (user:password@host): no upload can use it, and it " +
          "would be written to the audit log. Remove it from the URL and give the token in CODEX_CLOUD_TOKEN or " +
          "CODEX_CLOUD_CREDENTIAL_HELPER."
      )
    }))

  it.effect("enabled without a workspace is an InvalidSetting naming the variable and the fix", () =>
    Effect.gen(function*() {
      const error = yield* loadCloudSyncSettings.pipe(withEnv({ CODEX_CLOUD_SYNC: "on" }), Effect.flip)
      assert.strictEqual(error.variable, "CODEX_CLOUD_WORKSPACE_ID")
      assert.strictEqual(
        error.message,
        "CODEX_CLOUD_WORKSPACE_ID is not set, but cloud sync is on (CODEX_CLOUD_SYNC). Set CODEX_CLOUD_WORKSPACE_ID " +
          "to your Codex Cloud workspace id, or unset CODEX_CLOUD_SYNC to turn cloud sync off."
      )
      const badUrl = yield* loadCloudSyncSettings.pipe(
        withEnv({ CODEX_CLOUD_SYNC: "1", CODEX_CLOUD_WORKSPACE_ID: "ws", CODEX_CLOUD_BASE_URL: "ftp://x" }),
        Effect.flip
      )
      assert.strictEqual(badUrl.variable, "CODEX_CLOUD_BASE_URL")
      assert.include(badUrl.message, `CODEX_CLOUD_BASE_URL="ftp://x" is not an http(s) URL`)
    }))
})

// ---------------------------------------------------------------------------------------------
// Uploads

describe("CloudSyncLive in memory: uploads", () => {
  it.effect("retries 503 twice with 250 ms then 500 ms and succeeds with one idempotency key", () => {
    const server = scriptedServer([{ status: 503 }, { status: 503 }, { status: 201, body: { id: "remote-42" } }])
    return Effect.gen(function*() {
      yield* putManifest()
      const outcome = yield* syncWithDelays([250, 500])
      assert.deepStrictEqual(outcome, {
        _tag: "Synced",
        remoteId: "remote-42",
        attempts: 3,
        syncedAt: "1970-01-01T00:00:00.750Z"
      } satisfies SyncOutcome)

      assert.strictEqual(server.requests.length, 3)
      for (const req of server.requests) {
        assert.strictEqual(req.method, "POST")
        assert.strictEqual(req.url, "https://cloud.test/workspaces/ws-1/runs/import")
        assert.strictEqual(req.headers["authorization"], `Bearer ${token}`)
        assert.strictEqual(req.headers["content-type"], "application/json")
        assert.strictEqual(req.headers["x-idempotency-key"], expectedKey)
        assert.deepStrictEqual(req.body, { summary, manifest, bucket: "bucket-a", idempotencyKey: expectedKey })
      }

      const audit = yield* auditLines
      assert.deepStrictEqual(audit.map((line) => [line.timestamp, line.level, line.message, line.details]), [
        ["1970-01-01T00:00:00.000Z", "error", "Cloud sync attempt failed", {
          attempt: 1,
          error: { name: "CloudUploadHttpError", message: "CloudRuns upload failed with status 503" }
        }],
        ["1970-01-01T00:00:00.250Z", "error", "Cloud sync attempt failed", {
          attempt: 2,
          error: { name: "CloudUploadHttpError", message: "CloudRuns upload failed with status 503" }
        }],
        ["1970-01-01T00:00:00.750Z", "info", "Cloud sync completed", { remoteId: "remote-42", attempt: 3 }]
      ])
      assert.isTrue(audit.every((line) => line.taskId === taskId && line.runId === runId))

      assert.deepStrictEqual(
        yield* readRecord,
        Option.some({ status: "synced", synced_at: "1970-01-01T00:00:00.750Z", remote_id: "remote-42", attempts: 3 } as const)
      )
      yield* assertTokenNowhere
    }).pipe(Effect.provide(app(server.handler)), withEnv(enabledEnv))
  })

  it.effect("an upload interrupted before the server answers (Ctrl-C) is recorded failed, audited and said", () => {
    const requests: Array<HandledRequest> = []
    const silent = (req: HandledRequest) => Effect.zipRight(Effect.sync(() => requests.push(req)), Effect.never)
    return Effect.gen(function*() {
      yield* putManifest()
      const [, logged] = yield* captureLogs(Effect.gen(function*() {
        const fiber = yield* Effect.fork(Effect.flatMap(CloudSync, (sync) => sync.syncRun(request)))
        for (let tick = 0; tick < 5_000 && requests.length === 0; tick++) yield* liveTick
        assert.strictEqual(requests.length, 1, "the upload never reached the server")
        yield* Fiber.interrupt(fiber)
      }))
      const record = Option.getOrUndefined(yield* readRecord)
      assert.strictEqual(record?.status, "failed", JSON.stringify(record))
      if (record?.status !== "failed") return
      assert.strictEqual(record.attempts, 1)
      assert.strictEqual(record.error.name, "SyncInterrupted")
      assert.include(record.error.message, "interrupted")
      const audit = yield* auditLines
      assert.deepStrictEqual(audit.map((line) => line.message), ["Cloud sync interrupted"])
      const warnings = logged.filter(([level]) => level === "WARN").map(([, text]) => text)
      assert.strictEqual(warnings.length, 1, JSON.stringify(logged))
      assert.include(warnings[0], "interrupted")
    }).pipe(Effect.provide(app(silent)), withEnv(enabledEnv))
  })

  it.effect("a 401 is not retried: one request, an audited failure, a failed record, a warning", () => {
    const server = scriptedServer([{ status: 401, body: { error: "bad token" } }])
    return Effect.gen(function*() {
      yield* putManifest()
      const [outcome, logged] = yield* captureLogs(syncWithDelays([]))
      assert.deepStrictEqual(logged, [[
        "WARN",
        `Cloud sync of run ${runId} (task ${taskId}) failed after 1 upload attempt(s): CloudRuns upload failed with status 401. ` +
        `The run itself is unaffected; see out/${taskId}/cloud-sync/audit.log.`
      ]])
      assert.deepStrictEqual(outcome, {
        _tag: "Failed",
        attempts: 1,
        failedAt: "1970-01-01T00:00:00.000Z",
        error: { name: "CloudUploadHttpError", message: "CloudRuns upload failed with status 401" }
      } satisfies SyncOutcome)
      assert.strictEqual(server.requests.length, 1)
      const audit = yield* auditLines
      assert.deepStrictEqual(audit.map((line) => [line.level, line.message, line.details["attempt"]]), [
        ["error", "Cloud sync attempt failed", 1]
      ])
      assert.deepStrictEqual(
        yield* readRecord,
        Option.some({
          status: "failed",
          failed_at: "1970-01-01T00:00:00.000Z",
          attempts: 1,
          error: { name: "CloudUploadHttpError", message: "CloudRuns upload failed with status 401" }
        } as const)
      )
      yield* assertTokenNowhere
    }).pipe(Effect.provide(app(server.handler)), withEnv(enabledEnv))
  })

  it.effect("network errors and 429 are retried; a server that keeps failing gives up after 3 attempts", () => {
    const flaky = scriptedServer([{ transportError: "connect ECONNREFUSED" }, { status: 429 }, { status: 200, body: { runId: 7 } }])
    const down = scriptedServer([{ status: 500 }])
    const sync = (handler: typeof flaky.handler) =>
      Effect.zipRight(putManifest(), syncWithDelays([250, 500])).pipe(Effect.provide(app(handler)))
    return Effect.gen(function*() {
      const ok = yield* sync(flaky.handler)
      assert.deepStrictEqual(ok._tag === "Synced" ? [ok.remoteId, ok.attempts] : ok, ["7", 3])
      assert.strictEqual(flaky.requests.length, 3)

      const failed = yield* sync(down.handler)
      assert.deepStrictEqual(failed._tag === "Failed" ? [failed.attempts, failed.error.name] : failed, [3, "CloudUploadHttpError"])
      assert.strictEqual(down.requests.length, 3)
    }).pipe(withEnv(enabledEnv))
  })

  it.effect("a remote id with line breaks, escapes or no end is recorded as one line of at most 240 characters", () => {
    const server = scriptedServer([{ status: 200, body: { id: `abc\u001b[31mRED\nline2 ${"x".repeat(3000)}` } }])
    return Effect.gen(function*() {
      yield* putManifest()
      const outcome = yield* syncWithDelays([])
      const remoteId = outcome._tag === "Synced" ? outcome.remoteId ?? "" : ""
      assert.isTrue(remoteId.startsWith("abc\\u001b[31mRED\\nline2 xxx"), remoteId.slice(0, 40))
      assert.isAtMost(remoteId.length, 240 + " (3020 bytes)".length + 1)
      assert.isFalse(hasControlCharacter(remoteId))
      const record = yield* readRecord
      assert.strictEqual(Option.isSome(record) && record.value.status === "synced" ? record.value.remote_id : undefined, remoteId)
    }).pipe(Effect.provide(app(server.handler)), withEnv(enabledEnv))
  })

  it.effect("the first attempt's network failure is audited without the token", () => {
    const server = scriptedServer([{ transportError: `socket hang up ${token}` }, { status: 201 }])
    return Effect.gen(function*() {
      yield* putManifest()
      const outcome = yield* syncWithDelays([250])
      assert.deepStrictEqual(outcome._tag === "Synced" ? [outcome.remoteId, outcome.attempts] : outcome, [undefined, 2])
      const [failure, completed] = yield* auditLines
      assert.strictEqual(failure?.details["attempt"], 1)
      assert.include(JSON.stringify(failure?.details["error"]), "CloudUploadNetworkError")
      assert.deepStrictEqual(completed?.details, { remoteId: null, attempt: 2 })
      yield* assertTokenNowhere
    }).pipe(Effect.provide(app(server.handler)), withEnv(enabledEnv))
  })

  it.effect("a server that echoes the token in every failure: the warning, the record and the audit carry [REDACTED]", () => {
    const server = scriptedServer([{ transportError: `proxy refused Bearer ${token}` }])
    return Effect.gen(function*() {
      yield* putManifest()
      const [outcome, logged] = yield* captureLogs(syncWithDelays([250, 500]))
      assert.strictEqual(outcome._tag, "Failed")
      const warnings = logged.filter(([level]) => level === "WARN").map(([, message]) => message)
      assert.strictEqual(warnings.length, 1)
      assert.include(warnings[0], "failed after 3 upload attempt(s)")
      assert.include(warnings[0], "proxy refused Bearer [REDACTED]")
      assert.notInclude(warnings.join("\n"), token)
      const record = yield* readRecord
      assert.isTrue(Option.isSome(record))
      const written = Option.getOrThrow(record)
      assert.strictEqual(written.status, "failed")
      assert.include(JSON.stringify(written), "[REDACTED]")
      yield* assertTokenNowhere
    }).pipe(Effect.provide(app(server.handler)), withEnv(enabledEnv))
  })

  it.effect("a remote id that quotes the token is recorded redacted", () => {
    const server = scriptedServer([{ status: 201, body: { id: `run-for-${token}` } }])
    return Effect.gen(function*() {
      yield* putManifest()
      const outcome = yield* syncWithDelays([])
      assert.strictEqual(outcome._tag, "Synced")
      const written = Option.getOrThrow(yield* readRecord)
      assert.deepStrictEqual(written.status === "synced" ? written.remote_id : written, "run-for-[REDACTED]")
      yield* assertTokenNowhere
    }).pipe(Effect.provide(app(server.handler)), withEnv(enabledEnv))
  })

  it.effect("without a credential nothing is sent and the failure is not retried", () => {
    const server = scriptedServer([{ status: 201 }])
    return Effect.gen(function*() {
      yield* putManifest()
      const outcome = yield* syncWithDelays([])
      assert.deepStrictEqual(outcome._tag === "Failed" ? [outcome.attempts, outcome.error.name] : outcome, [1, "CredentialUnavailable"])
      assert.strictEqual(server.requests.length, 0)
      assert.strictEqual((yield* auditLines).length, 1)
    }).pipe(Effect.provide(app(server.handler, [])), withEnv(enabledEnv))
  })

  it.effect("ids that could escape the runs folder are refused before any file is touched", () => {
    const server = scriptedServer([{ status: 201 }])
    return Effect.gen(function*() {
      const outcome = yield* syncWithDelays([], { taskId: "../evil", runId, summary })
      assert.deepStrictEqual(outcome._tag === "Failed" ? [outcome.attempts, outcome.error.name] : outcome, [0, "InvalidId"])
      assert.strictEqual(server.requests.length, 0)
      assert.deepStrictEqual(yield* Effect.flatMap(InMemoryFiles, (files) => files.list), [])
      const error = yield* Effect.flip(Effect.flatMap(CloudSync, (sync) => sync.readSyncRecord(taskId, "../x")))
      assert.strictEqual(error._tag, "InvalidId")
    }).pipe(Effect.provide(app(server.handler)), withEnv(enabledEnv))
  })

  it.effect("when sync is off, nothing is read, sent or written", () => {
    const server = scriptedServer([{ status: 201 }])
    return Effect.gen(function*() {
      assert.deepStrictEqual(yield* syncWithDelays([]), { _tag: "Disabled" })
      assert.strictEqual(server.requests.length, 0)
      assert.deepStrictEqual(yield* Effect.flatMap(InMemoryFiles, (files) => files.list), [])
      assert.isTrue(Option.isNone(yield* readRecord))
    }).pipe(Effect.provide(app(server.handler)), withEnv({}))
  })
})

// ---------------------------------------------------------------------------------------------
// Reading the manifest (SYNC-3)

describe("CloudSyncLive in memory: reading the run summary manifest", () => {
  it.effect("retries a missing manifest every 50 ms, doubling, until it appears", () => {
    const server = scriptedServer([{ status: 201, body: { id: "r" } }])
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(Effect.flatMap(CloudSync, (sync) => sync.syncRun(request)))
      yield* passSleep(50)
      yield* passSleep(100)
      yield* putManifest()
      yield* passSleep(200)
      const outcome = yield* Fiber.join(fiber)
      assert.strictEqual(outcome._tag, "Synced")
      assert.deepStrictEqual(server.requests[0]?.body, { summary, manifest, bucket: "bucket-a", idempotencyKey: expectedKey })
      assert.deepStrictEqual((yield* auditLines).map((line) => line.message), ["Cloud sync completed"])
    }).pipe(Effect.provide(app(server.handler)), withEnv(enabledEnv))
  })

  it.effect("a manifest that stays torn is recovered by trimming after its last brace, and audited", () => {
    const server = scriptedServer([{ status: 201, body: { id: "r" } }])
    return Effect.gen(function*() {
      yield* putManifest(`${JSON.stringify(manifest)}\n{"half": `)
      const outcome = yield* syncWithDelays([50, 100, 200, 400])
      assert.strictEqual(outcome._tag, "Synced")
      assert.deepStrictEqual(server.requests[0]?.body, { summary, manifest, bucket: "bucket-a", idempotencyKey: expectedKey })
      const audit = yield* auditLines
      assert.deepStrictEqual(audit.map((line) => [line.level, line.message, line.details]), [
        ["info", "Recovered manifest from partial JSON", { strategy: "trim-trailing", attempts: 5 }],
        ["info", "Cloud sync completed", { remoteId: "r", attempt: 1 }]
      ])
    }).pipe(Effect.provide(app(server.handler)), withEnv(enabledEnv))
  })

  it.effect("a manifest that never appears fails the sync (0 uploads), audited, and the run goes on", () => {
    const server = scriptedServer([{ status: 201 }])
    return Effect.gen(function*() {
      const outcome = yield* syncWithDelays([50, 100, 200, 400])
      assert.deepStrictEqual(outcome, {
        _tag: "Failed",
        attempts: 0,
        failedAt: "1970-01-01T00:00:00.750Z",
        error: {
          name: "SyncManifestUnavailable",
          message: `Could not read .runs/${taskId}/${runId}/manifest.json before cloud sync: the file does not exist`
        }
      } satisfies SyncOutcome)
      assert.strictEqual(server.requests.length, 0)
      const audit = yield* auditLines
      assert.deepStrictEqual(audit.map((line) => [line.level, line.message, line.details["attempts"]]), [
        ["error", "Failed to read manifest before sync", 5]
      ])
      const record = yield* readRecord
      assert.isTrue(Option.isSome(record) && record.value.status === "failed" && record.value.attempts === 0)
    }).pipe(Effect.provide(app(server.handler)), withEnv(enabledEnv))
  })

  it.effect("an unreadable record is reported as an invalid file", () =>
    Effect.gen(function*() {
      yield* putFile(recordPath, "{\"status\":\"maybe\"}")
      const error = yield* Effect.flip(readRecord)
      assert.strictEqual(error._tag, "InvalidFile")
      assert.include(error.message, `.runs/${taskId}/cli/${runId}/cloud-sync.json is not valid`)
    }).pipe(Effect.provide(app(scriptedServer([]).handler)), withEnv(enabledEnv)))

  it("the record schema accepts both shapes", () => {
    const decode = Schema.decodeUnknownSync(CloudSyncRecord)
    assert.strictEqual(decode({ status: "synced", synced_at: "x", attempts: 1 }).status, "synced")
    assert.strictEqual(
      decode({ status: "failed", failed_at: "x", attempts: 0, error: { name: "E", message: "m" } }).status,
      "failed"
    )
  })
})
