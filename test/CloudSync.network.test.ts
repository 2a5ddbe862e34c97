/**
 * Cloud sync through the platform's fetch client (the one the CLI uses) when the connection fails:
 * fetch rejects with a TypeError that says only "fetch failed" and keeps why in its cause (refused,
 * unknown host, reset). Seen on the built CLI: every such failure was "Transport error (POST <url>):
 * fetch failed", the same words for a wrong port, a wrong host name and a server that hung up.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect } from "effect"
import { InMemoryFiles } from "../src/layers/Files.js"
import { CloudSync } from "../src/services/CloudSync.js"
import { cloudSyncOnFetch } from "./support/cloudSyncFetch.js"

const taskId = "sync-task"
const runId = "2025-11-24T00-30-09-180Z-33452943"
const url = "http://cloud.test/workspaces/ws-1/runs/import"
const env = { CODEX_CLOUD_SYNC: "1", CODEX_CLOUD_BASE_URL: "http://cloud.test", CODEX_CLOUD_WORKSPACE_ID: "ws-1" }

/** What undici's fetch rejects with: "fetch failed", the reason in its cause (and the cause's own cause). */
const fetchFailure = (cause: Error) => new TypeError("fetch failed", { cause })
const withCode = (message: string, code: string, cause?: Error) =>
  Object.assign(new Error(message, cause === undefined ? {} : { cause }), { code })

const failingFetch = (error: Error) => (() => Promise.reject(error)) as typeof globalThis.fetch

const syncWith = (error: Error) =>
  Effect.gen(function*() {
    yield* Effect.flatMap(InMemoryFiles, (files) => files.write(`/repo/.runs/${taskId}/${runId}/manifest.json`, "{}"))
    return yield* Effect.flatMap(CloudSync, (sync) => sync.syncRun({ taskId, runId, summary: {} }))
  }).pipe(
    Effect.provide(cloudSyncOnFetch(failingFetch(error))),
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
  )

describe("cloud sync: why the connection failed", () => {
  const cases = [
    {
      name: "a refused connection",
      error: fetchFailure(withCode("connect ECONNREFUSED 127.0.0.1:1", "ECONNREFUSED")),
      reason: "Transport error: fetch failed: connect ECONNREFUSED 127.0.0.1:1"
    },
    {
      name: "a host name that does not resolve",
      error: fetchFailure(withCode("getaddrinfo ENOTFOUND cloud.test", "ENOTFOUND")),
      reason: "Transport error: fetch failed: getaddrinfo ENOTFOUND cloud.test"
    },
    {
      name: "a server that hung up (undici's SocketError under the TypeError)",
      error: fetchFailure(withCode("other side closed", "UND_ERR_SOCKET")),
      reason: "Transport error: fetch failed: other side closed"
    },
    {
      name: "a reason two causes down",
      error: fetchFailure(new Error("connect failed", { cause: withCode("read ECONNRESET", "ECONNRESET") })),
      reason: "Transport error: fetch failed: connect failed: read ECONNRESET"
    }
  ]
  for (const c of cases) {
    // Live: the 250 ms and 500 ms between attempts pass for real.
    it.live(`${c.name}: the failure says why, once, after the URL`, () =>
      Effect.gen(function*() {
        const outcome = yield* syncWith(c.error)
        assert.deepStrictEqual(outcome._tag === "Failed" ? [outcome.attempts, outcome.error] : outcome, [3, {
          name: "CloudUploadNetworkError",
          message: `CloudRuns upload to ${url} failed: ${c.reason}`
        }])
      }))
  }
})
