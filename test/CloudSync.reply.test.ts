/**
 * Cloud sync and what a 2xx answer says (SYNC-2): the import answers JSON. A captive portal, a proxy's
 * login page or a base URL pointing at a web site answers 200 with HTML; that upload did not reach
 * the import, so it is a failed sync with the reason, recorded like any other failure, not "synced".
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Option } from "effect"
import { InMemoryFiles } from "../src/layers/Files.js"
import { CloudSync } from "../src/services/CloudSync.js"
import { cloudSyncOnFetch } from "./support/cloudSyncFetch.js"

const taskId = "sync-task"
const runId = "2025-11-24T00-30-09-180Z-33452943"
const env = { CODEX_CLOUD_SYNC: "1", CODEX_CLOUD_BASE_URL: "http://cloud.test", CODEX_CLOUD_WORKSPACE_ID: "ws-1" }

interface Answer {
  readonly status: number
  readonly contentType?: string
  readonly body: string | null
}

/** A fetch that answers every request with `answer`, counting the calls. */
const answering = (answer: Answer, calls: { count: number }) =>
  (() => {
    calls.count += 1
    // A string body gets a text/plain type from Response; bytes get none.
    const body = answer.contentType === undefined && answer.body !== null ? new TextEncoder().encode(answer.body) : answer.body
    const headers = answer.contentType === undefined ? undefined : { "content-type": answer.contentType }
    return Promise.resolve(new Response(body, { status: answer.status, ...(headers === undefined ? {} : { headers }) }))
  }) as typeof globalThis.fetch

const app = (answer: Answer, calls: { count: number }) => cloudSyncOnFetch(answering(answer, calls))

const sync = (answer: Answer) => {
  const calls = { count: 0 }
  return Effect.gen(function*() {
    const files = yield* InMemoryFiles
    yield* files.write(`/repo/.runs/${taskId}/${runId}/manifest.json`, JSON.stringify({ taskId, runId }))
    const service = yield* CloudSync
    const outcome = yield* service.syncRun({ taskId, runId, summary: {} })
    const record = yield* service.readSyncRecord(taskId, runId)
    const audit = (yield* files.read(`/repo/out/${taskId}/cloud-sync/audit.log`)) ?? ""
    return { outcome, record: Option.getOrUndefined(record), audit, calls: calls.count }
  }).pipe(Effect.provide(app(answer, calls)), Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))
}

const portal = "<!DOCTYPE html><html><head><title>Hotel Wi-Fi</title></head><body>Log in</body></html>"

describe("cloud sync: a 2xx answer that is not the import's JSON is a failed sync", () => {
  const failures: ReadonlyArray<{ readonly name: string; readonly answer: Answer; readonly says: ReadonlyArray<string> }> = [
    {
      name: "an HTML page (a captive portal)",
      answer: { status: 200, contentType: "text/html; charset=utf-8", body: portal },
      says: ["status 200", "text/html", "not the JSON the import answers", "CODEX_CLOUD_BASE_URL"]
    },
    {
      name: "HTML sent as JSON",
      answer: { status: 200, contentType: "application/json", body: portal },
      says: ["status 200", "application/json", "not valid JSON"]
    },
    {
      name: "text without a content type",
      answer: { status: 201, body: "OK" },
      says: ["status 201", "no content type", "not valid JSON"]
    },
    {
      name: "an answer of more than 1 MiB (not read past that)",
      answer: { status: 200, contentType: "application/json", body: `{"id":"r-1","pad":"${" ".repeat(2 * 1024 * 1024)}"}` },
      says: ["status 200", "more than 1 MiB"]
    },
    {
      name: "JSON that is not an object",
      answer: { status: 200, contentType: "application/json", body: "[1,2]" },
      says: ["status 200", "not a JSON object"]
    }
  ]
  for (const c of failures) {
    it.effect(`${c.name}: failed after one attempt, with the reason, recorded and audited`, () =>
      Effect.gen(function*() {
        const { audit, calls, outcome, record } = yield* sync(c.answer)
        assert.strictEqual(outcome._tag, "Failed", JSON.stringify(outcome))
        assert.strictEqual(calls, 1, "an answer that is not the import's is not worth another attempt")
        if (outcome._tag !== "Failed") return
        assert.strictEqual(outcome.error.name, "CloudUploadUnexpectedReply")
        for (const text of c.says) assert.include(outcome.error.message, text)
        assert.notInclude(outcome.error.message, "Hotel", "the server's page is not copied into our records")
        assert.strictEqual(record?.status, "failed")
        assert.include(audit, "Cloud sync attempt failed")
        assert.notInclude(audit, "Cloud sync completed")
      }))
  }

  const accepted: ReadonlyArray<{ readonly name: string; readonly answer: Answer; readonly remoteId: string | undefined }> = [
    { name: "a JSON object with an id", answer: { status: 201, contentType: "application/json", body: "{\"id\":\"r-1\"}" }, remoteId: "r-1" },
    { name: "JSON with a charset", answer: { status: 200, contentType: "application/json; charset=utf-8", body: "{\"runId\":7}" }, remoteId: "7" },
    { name: "a JSON object without an id", answer: { status: 200, contentType: "application/json", body: "{}" }, remoteId: undefined },
    { name: "an empty answer (201)", answer: { status: 201, contentType: "application/json", body: "" }, remoteId: undefined },
    { name: "no content (204)", answer: { status: 204, body: null }, remoteId: undefined },
    // Seen on the built CLI: {"id": ""} was recorded as remote_id "" and said "synced to the cloud ()".
    { name: "an empty id", answer: { status: 201, contentType: "application/json", body: "{\"id\":\"\"}" }, remoteId: undefined },
    { name: "a blank id", answer: { status: 201, contentType: "application/json", body: "{\"id\":\" \\n \"}" }, remoteId: undefined },
    { name: "an empty id beside a runId", answer: { status: 201, contentType: "application/json", body: "{\"id\":\"\",\"runId\":\"r-2\"}" }, remoteId: "r-2" }
  ]
  for (const c of accepted) {
    it.effect(`${c.name} is synced`, () =>
      Effect.gen(function*() {
        const { outcome } = yield* sync(c.answer)
        assert.strictEqual(outcome._tag, "Synced", JSON.stringify(outcome))
        if (outcome._tag === "Synced") assert.strictEqual(outcome.remoteId, c.remoteId)
      }))
  }
})
