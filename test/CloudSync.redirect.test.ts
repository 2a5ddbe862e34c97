/**
 * Cloud sync through the platform's fetch client (the one the CLI uses), with `fetch` itself
 * replaced: a server that answers the import with a redirect. fetch follows a 301/302 by turning the
 * POST into a GET without its body, so following it would report a run "synced" that never reached
 * the server.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect } from "effect"
import { InMemoryFiles } from "../src/layers/Files.js"
import { CloudSync } from "../src/services/CloudSync.js"
import { cloudSyncOnFetch } from "./support/cloudSyncFetch.js"

const taskId = "sync-task"
const runId = "2025-11-24T00-30-09-180Z-33452943"
const env = { CODEX_CLOUD_SYNC: "1", CODEX_CLOUD_BASE_URL: "http://cloud.test", CODEX_CLOUD_WORKSPACE_ID: "ws-1" }

/** A fetch that redirects every import to `/login`, and follows the redirect itself unless asked not to (as fetch does). */
const redirectingFetch = (calls: Array<{ readonly url: string; readonly redirect: string | undefined }>) =>
  ((input: string | URL | Request, init?: RequestInit) => {
    const url = String(input)
    calls.push({ url, redirect: init?.redirect })
    const location = "http://cloud.test/login"
    return Promise.resolve(
      init?.redirect === "manual"
        ? new Response(null, { status: 302, headers: { location } })
        : new Response(JSON.stringify({ id: "login-page" }), { status: 200, headers: { "content-type": "application/json" } })
    )
  }) as typeof globalThis.fetch

const app = (calls: Array<{ readonly url: string; readonly redirect: string | undefined }>) => cloudSyncOnFetch(redirectingFetch(calls))

describe("cloud sync and redirects", () => {
  it.effect("a redirected import fails naming where it was sent, is not retried, and is never reported synced", () => {
    const calls: Array<{ readonly url: string; readonly redirect: string | undefined }> = []
    return Effect.gen(function*() {
      const files = yield* InMemoryFiles
      yield* files.write(`/repo/.runs/${taskId}/${runId}/manifest.json`, JSON.stringify({ taskId, runId }))
      const outcome = yield* Effect.flatMap(CloudSync, (sync) => sync.syncRun({ taskId, runId, summary: {} }))
      assert.strictEqual(outcome._tag, "Failed")
      assert.deepStrictEqual(calls, [{ url: "http://cloud.test/workspaces/ws-1/runs/import", redirect: "manual" }])
      if (outcome._tag !== "Failed") return
      assert.strictEqual(outcome.attempts, 1)
      assert.strictEqual(
        outcome.error.message,
        "CloudRuns upload failed with status 302: the server redirected it to http://cloud.test/login; " +
          "set CODEX_CLOUD_BASE_URL to the address that answers the import itself"
      )
    }).pipe(Effect.provide(app(calls)), Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))
  })
})
