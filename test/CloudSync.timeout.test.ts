/**
 * Cloud sync and a server that accepts the upload and never answers: every attempt is bounded by
 * `CODEX_CLOUD_SYNC_TIMEOUT_SECONDS` (default 10 s, so three attempts stay near 30 s where they held
 * the CLI about 91 s), and the failure names the URL, the time allowed and the setting. TestClock
 * only: the test observes each sleep the program asks for, no real time passes.
 */
import { Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Fiber, Layer, Option } from "effect"
import { cloudSyncTimeoutVariable, defaultUploadAttemptTimeoutSeconds } from "../src/domain/CloudSync.js"
import { CloudSyncLive, loadCloudSyncSettings } from "../src/layers/CloudSync.js"
import { CredentialBrokerMemory } from "../src/layers/CredentialBroker.js"
import { FilesMemory, InMemoryFiles } from "../src/layers/Files.js"
import { type HandledRequest, HttpClientMemory } from "../src/layers/HttpClientMemory.js"
import { OrchestratorConfigTest } from "../src/layers/OrchestratorConfig.js"
import { CloudSync } from "../src/services/CloudSync.js"
import { cloudSyncOnFetch } from "./support/cloudSyncFetch.js"
import { passSleep } from "./support/testClock.js"

const taskId = "sync-task"
const runId = "2025-11-24T00-30-09-180Z-33452943"
const url = "https://cloud.test/workspaces/ws-1/runs/import"
const env = { CODEX_CLOUD_SYNC: "1", CODEX_CLOUD_BASE_URL: "https://cloud.test", CODEX_CLOUD_WORKSPACE_ID: "ws-1" }

const withEnv = (extra: Record<string, string> = {}) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries({ ...env, ...extra }))))

const app = (requests: Array<HandledRequest>) =>
  CloudSyncLive.pipe(
    Layer.provideMerge(Layer.mergeAll(
      // Accepts every request and never answers.
      HttpClientMemory((request) => Effect.zipRight(Effect.sync(() => requests.push(request)), Effect.never)),
      CredentialBrokerMemory([{ service: "codex-cloud", scope: "runs:write", token: "cloud-token-123" }]),
      FilesMemory,
      OrchestratorConfigTest("/repo"),
      Path.layer
    ))
  )


/** Syncs against the silent server, letting exactly `delays` pass in order; answers the outcome, the record and the requests. */
const silentSync = (delays: ReadonlyArray<number>) => {
  const requests: Array<HandledRequest> = []
  return Effect.gen(function*() {
    yield* Effect.flatMap(InMemoryFiles, (files) => files.write(`/repo/.runs/${taskId}/${runId}/manifest.json`, "{}"))
    const sync = yield* CloudSync
    const fiber = yield* Effect.fork(sync.syncRun({ taskId, runId, summary: {} }))
    for (const ms of delays) yield* passSleep(ms)
    const outcome = yield* Fiber.join(fiber)
    const record = yield* sync.readSyncRecord(taskId, runId)
    return { outcome, record, requests }
  }).pipe(Effect.provide(app(requests)))
}

const timeoutMessage = (seconds: string) =>
  `CloudRuns upload to ${url} failed: no complete answer within ${seconds} s ` +
  `(${cloudSyncTimeoutVariable} sets how long each of the 3 attempts may wait, default ${defaultUploadAttemptTimeoutSeconds})`

describe("cloud sync: a server that never answers", () => {
  it.effect("each attempt is given up after 10 s by default: 3 attempts, about 31 s in all, the failure names URL, time and setting", () =>
    Effect.gen(function*() {
      const { outcome, record, requests } = yield* silentSync([10_000, 250, 10_000, 500, 10_000])
      assert.strictEqual(requests.length, 3)
      assert.deepStrictEqual(outcome, {
        _tag: "Failed",
        attempts: 3,
        failedAt: "1970-01-01T00:00:30.750Z",
        error: { name: "CloudUploadNetworkError", message: timeoutMessage("10") }
      })
      assert.deepInclude(Option.getOrUndefined(record), { status: "failed", attempts: 3 })
    }).pipe(withEnv()))

  it.effect(`${cloudSyncTimeoutVariable}=2.5 gives each attempt 2.5 s`, () =>
    Effect.gen(function*() {
      const { outcome, requests } = yield* silentSync([2_500, 250, 2_500, 500, 2_500])
      assert.strictEqual(requests.length, 3)
      assert.deepStrictEqual(outcome._tag === "Failed" ? [outcome.failedAt, outcome.error.message] : outcome, [
        "1970-01-01T00:00:08.250Z",
        timeoutMessage("2.5")
      ])
    }).pipe(withEnv({ [cloudSyncTimeoutVariable]: " 2.5 " })))
})

// Seen on the built CLI: a 201 whose body never ends was "no answer", though the server had answered.
describe("cloud sync: a server that answers and never finishes its body", () => {
  /** A fetch answering 201 with a body that sends `{` and then nothing more, ever. */
  const endless = (() =>
    Promise.resolve(
      new Response(new ReadableStream({ start: (controller) => controller.enqueue(new TextEncoder().encode("{")) }), {
        status: 201,
        headers: { "content-type": "application/json" }
      })
    )) as typeof globalThis.fetch

  it.effect("each attempt is given up after the time allowed, and the failure says the answer never completed", () =>
    Effect.gen(function*() {
      yield* Effect.flatMap(InMemoryFiles, (files) => files.write(`/repo/.runs/${taskId}/${runId}/manifest.json`, "{}"))
      const fiber = yield* Effect.fork(Effect.flatMap(CloudSync, (sync) => sync.syncRun({ taskId, runId, summary: {} })))
      for (const ms of [10_000, 250, 10_000, 500, 10_000]) yield* passSleep(ms)
      const outcome = yield* Fiber.join(fiber)
      assert.deepStrictEqual(outcome._tag === "Failed" ? [outcome.attempts, outcome.error.message] : outcome, [
        3,
        timeoutMessage("10").replace("https://cloud.test", "http://cloud.test")
      ])
    }).pipe(
      Effect.provide(cloudSyncOnFetch(endless)),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries({ ...env, CODEX_CLOUD_BASE_URL: "http://cloud.test" }))))
    ))
})

describe(`${cloudSyncTimeoutVariable}`, () => {
  it.effect("unset or blank is the default; a value is read in seconds", () =>
    Effect.gen(function*() {
      const seconds = (extra: Record<string, string>) =>
        Effect.map(loadCloudSyncSettings.pipe(withEnv(extra)), (settings) => Option.getOrUndefined(settings)?.attemptTimeoutSeconds)
      assert.strictEqual(yield* seconds({}), defaultUploadAttemptTimeoutSeconds)
      assert.strictEqual(yield* seconds({ [cloudSyncTimeoutVariable]: "  " }), defaultUploadAttemptTimeoutSeconds)
      assert.strictEqual(yield* seconds({ [cloudSyncTimeoutVariable]: "45" }), 45)
      assert.strictEqual(yield* seconds({ [cloudSyncTimeoutVariable]: "0.2" }), 0.2)
    }))

  for (const value of ["0", "-1", "ten", "10s", "1e400"]) {
    it.effect(`${JSON.stringify(value)} is an InvalidSetting naming the variable, the value and what is expected`, () =>
      Effect.gen(function*() {
        const error = yield* loadCloudSyncSettings.pipe(withEnv({ [cloudSyncTimeoutVariable]: value }), Effect.flip)
        assert.strictEqual(error.variable, cloudSyncTimeoutVariable)
        assert.strictEqual(
          error.message,
          `${cloudSyncTimeoutVariable}=${JSON.stringify(value)} is not a number of seconds > 0 (cloud sync is on, CODEX_CLOUD_SYNC). ` +
            `Set ${cloudSyncTimeoutVariable} to a number of seconds > 0 or unset it (default ${defaultUploadAttemptTimeoutSeconds}).`
        )
      }))
  }

  it.effect("a bad value is not read while cloud sync is off", () =>
    Effect.gen(function*() {
      const settings = yield* loadCloudSyncSettings.pipe(withEnv({ CODEX_CLOUD_SYNC: "0", [cloudSyncTimeoutVariable]: "ten" }))
      assert.isTrue(Option.isNone(settings))
    }))
})
