/**
 * Cloud sync end to end on the Live layers (SPEC SYNC-2..4): real HTTP servers on 127.0.0.1 (port 0,
 * started and stopped by each test), NodeHttpClient, files on disk in a temporary repository, the
 * environment read through Config, and a real credential helper process. After each test no file
 * under `.runs/` or `out/` may contain the token.
 */
import { createHash } from "node:crypto"
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { createServer, type IncomingHttpHeaders, type Server } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Logger, LogLevel, Option, Schema } from "effect"
import { AuditLine } from "../../src/domain/CloudSync.js"
import { CloudSyncLive } from "../../src/layers/CloudSync.js"
import { CredentialBrokerLive } from "../../src/layers/CredentialBroker.js"
import { FilesLive } from "../../src/layers/Files.js"
import { BaseConfigLive } from "../../src/layers/BaseConfig.js"
import { OrchestratorConfigLive } from "../../src/layers/OrchestratorConfig.js"
import { HostLive } from "../../src/layers/Host.js"
import { ProcessRunnerLive } from "../../src/layers/ProcessRunner.js"
import { CloudSync } from "../../src/services/CloudSync.js"

const token = "it-token-9f8e7d6c5b4a"
const taskId = "cloud-it"
const runId = "2025-11-24T00-30-09-180Z-0badc0de"
const manifest = { taskId, runId, mode: "mcp", review: { summary: "Diagnostics pipeline succeeded." } }
const summary = { ...manifest, timestamp: "2025-11-24T00:30:10.000Z" }
const expectedKey = createHash("sha256").update(`${taskId}:${runId}`).digest("hex")

interface Received {
  readonly method: string | undefined
  readonly url: string | undefined
  readonly headers: IncomingHttpHeaders
  readonly body: unknown
}

type Reply = { readonly status: number; readonly body?: unknown }

/** An HTTP server on 127.0.0.1 answering with `respond`; stopped when the scope closes. */
const server = (respond: (request: Received, index: number) => Reply) =>
  Effect.acquireRelease(
    Effect.async<{ readonly baseUrl: string; readonly received: ReadonlyArray<Received>; readonly http: Server }>((resume) => {
      const received: Array<Received> = []
      const http = createServer((req, res) => {
        let text = ""
        req.setEncoding("utf8")
        req.on("data", (chunk: string) => (text += chunk))
        req.on("end", () => {
          const request: Received = { method: req.method, url: req.url, headers: req.headers, body: JSON.parse(text) }
          received.push(request)
          const reply = respond(request, received.length - 1)
          res.writeHead(reply.status, { "content-type": "application/json" })
          res.end(reply.body === undefined ? "" : JSON.stringify(reply.body))
        })
      })
      http.listen(0, "127.0.0.1", () => {
        const address = http.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        resume(Effect.succeed({ baseUrl: `http://127.0.0.1:${port}`, received, http }))
      })
    }),
    ({ http }) =>
      Effect.async<void>((resume) => {
        http.closeAllConnections()
        http.close(() => resume(Effect.void))
      })
  )

/** A temporary repository with a hand-written run summary manifest; removed when the scope closes. */
const repo = Effect.acquireRelease(
  Effect.sync(() => {
    const dir = mkdtempSync(join(tmpdir(), "cloud-sync-it-"))
    mkdirSync(join(dir, ".runs", taskId, runId), { recursive: true })
    writeFileSync(join(dir, ".runs", taskId, runId, "manifest.json"), JSON.stringify(manifest, null, 2))
    return dir
  }),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/** The Live graph: environment through Config, disk, real processes, NodeHttpClient. */
const live = CloudSyncLive.pipe(
  Layer.provideMerge(Layer.mergeAll(CredentialBrokerLive, FilesLive, NodeHttpClient.layer)),
  Layer.provideMerge(Layer.merge(ProcessRunnerLive, OrchestratorConfigLive)),
  Layer.provideMerge(BaseConfigLive),
  Layer.provideMerge(Layer.provideMerge(HostLive, NodeContext.layer))
)

const syncIn = (dir: string, baseUrl: string, env: Record<string, string> = { CODEX_CLOUD_TOKEN: token }) =>
  Effect.flatMap(CloudSync, (sync) =>
    Effect.zip(sync.syncRun({ taskId, runId, summary }), sync.readSyncRecord(taskId, runId))).pipe(
      Effect.provide(live),
      // The warnings of failed syncs are checked in test/CloudSync.test.ts.
      Logger.withMinimumLogLevel(LogLevel.Error),
      Effect.withConfigProvider(ConfigProvider.fromMap(
        new Map(Object.entries({
          CODEX_ORCHESTRATOR_ROOT: dir,
          CODEX_CLOUD_SYNC: "true",
          CODEX_CLOUD_BASE_URL: baseUrl,
          CODEX_CLOUD_WORKSPACE_ID: "ws-it",
          CLOUD_SYNC_BUCKET: "it-bucket",
          ...env
        }))
      ))
    )

const auditLines = (dir: string) =>
  readFileSync(join(dir, "out", taskId, "cloud-sync", "audit.log"), "utf8")
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => Schema.decodeUnknownSync(Schema.parseJson(AuditLine), { onExcessProperty: "error" })(line))

const filesUnder = (dir: string): ReadonlyArray<string> =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesUnder(path) : [path]
  })

/** No file under `.runs/` or `out/` holds the token, and no temp file was left behind. */
const assertNoTokenOnDisk = (dir: string) => {
  const files = [...filesUnder(join(dir, ".runs")), ...filesUnder(join(dir, "out"))]
  assert.isAbove(files.length, 2)
  for (const file of files) {
    assert.notInclude(readFileSync(file, "utf8"), token, `the token leaked into ${file}`)
    assert.notMatch(file, /\.tmp$/)
  }
}

describe("cloud sync against real HTTP servers", () => {
  it.scopedLive("503 twice, then 201: uploaded once accepted, one idempotency key, audited", () =>
    Effect.gen(function*() {
      const dir = yield* repo
      const api = yield* server((_, index) => index < 2 ? { status: 503, body: { error: "busy" } } : { status: 201, body: { id: "remote-1" } })
      const [outcome, record] = yield* syncIn(dir, api.baseUrl)

      assert.strictEqual(outcome._tag, "Synced")
      assert.strictEqual(api.received.length, 3)
      for (const request of api.received) {
        assert.strictEqual(request.method, "POST")
        assert.strictEqual(request.url, "/workspaces/ws-it/runs/import")
        assert.strictEqual(request.headers["x-idempotency-key"], expectedKey)
        assert.strictEqual(request.headers["content-type"], "application/json")
        assert.deepStrictEqual(request.body, { summary, manifest, bucket: "it-bucket", idempotencyKey: expectedKey })
      }
      const audit = auditLines(dir)
      assert.deepStrictEqual(audit.map((line) => [line.level, line.message]), [
        ["error", "Cloud sync attempt failed"],
        ["error", "Cloud sync attempt failed"],
        ["info", "Cloud sync completed"]
      ])
      assert.deepStrictEqual(audit[2]?.details, { remoteId: "remote-1", attempt: 3 })
      assert.isTrue(Option.isSome(record) && record.value.status === "synced" && record.value.remote_id === "remote-1")
      const onDisk = JSON.parse(readFileSync(join(dir, ".runs", taskId, "cli", runId, "cloud-sync.json"), "utf8"))
      assert.deepStrictEqual(Object.keys(onDisk), ["status", "synced_at", "remote_id", "attempts"])
      assertNoTokenOnDisk(dir)
    }))

  it.scopedLive("401: exactly one request, an audited error, a failed outcome", () =>
    Effect.gen(function*() {
      const dir = yield* repo
      const api = yield* server(() => ({ status: 401, body: { error: `invalid token ${token}` } }))
      const [outcome, record] = yield* syncIn(dir, api.baseUrl)

      assert.strictEqual(outcome._tag, "Failed")
      assert.strictEqual(api.received.length, 1)
      const audit = auditLines(dir)
      assert.deepStrictEqual(audit.map((line) => [line.level, line.message, line.details["attempt"]]), [
        ["error", "Cloud sync attempt failed", 1]
      ])
      assert.deepStrictEqual(audit[0]?.details["error"], {
        name: "CloudUploadHttpError",
        message: "CloudRuns upload failed with status 401"
      })
      assert.isTrue(Option.isSome(record) && record.value.status === "failed" && record.value.attempts === 1)
      assertNoTokenOnDisk(dir)
    }))

  it.scopedLive("the bearer token is the configured one, from the environment or from a helper", () =>
    Effect.gen(function*() {
      const dir = yield* repo
      const api = yield* server((request) =>
        request.headers.authorization === `Bearer ${token}`
          ? { status: 201, body: { id: "remote-ok" } }
          : { status: 403, body: { error: "wrong token" } }
      )
      const [fromEnv] = yield* syncIn(dir, api.baseUrl)
      assert.deepStrictEqual(fromEnv._tag === "Synced" ? fromEnv.remoteId : fromEnv, "remote-ok")

      const helper = `printf '{"token":"%s","expiresAt":"2999-01-01T00:00:00Z"}' "${token}"; ` +
        `[ "$CODEX_CREDENTIAL_SERVICE/$CODEX_CREDENTIAL_SCOPE" = codex-cloud/runs:write ]`
      const [fromHelper] = yield* syncIn(dir, api.baseUrl, { CODEX_CLOUD_CREDENTIAL_HELPER: helper })
      assert.deepStrictEqual(fromHelper._tag === "Synced" ? fromHelper.remoteId : fromHelper, "remote-ok")

      const [wrong] = yield* syncIn(dir, api.baseUrl, { CODEX_CLOUD_TOKEN: "some-other-token" })
      assert.deepStrictEqual(wrong._tag === "Failed" ? wrong.error.message : wrong, "CloudRuns upload failed with status 403")
      assert.deepStrictEqual(api.received.map((request) => request.headers.authorization), [
        `Bearer ${token}`,
        `Bearer ${token}`,
        "Bearer some-other-token"
      ])
      assertNoTokenOnDisk(dir)
    }))

  it.scopedLive("a server nobody listens on: network errors are retried three times, then the sync fails", () =>
    Effect.gen(function*() {
      const dir = yield* repo
      const api = yield* server(() => ({ status: 201 }))
      const closedPort = api.baseUrl.replace(/:\d+$/, ":1")
      const [outcome] = yield* syncIn(dir, closedPort)
      assert.deepStrictEqual(outcome._tag === "Failed" ? [outcome.attempts, outcome.error.name] : outcome, [3, "CloudUploadNetworkError"])
      assert.strictEqual(auditLines(dir).length, 3)
      assert.include(outcome._tag === "Failed" ? outcome.error.message : "", "ECONNREFUSED")
      assertNoTokenOnDisk(dir)
    }))
})
