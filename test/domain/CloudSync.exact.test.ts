/** Cloud sync's pure rules (SYNC-2..4) to the exact value (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import {
  auditAttemptFailed,
  auditCompleted,
  auditManifestFailed,
  auditManifestRecovered,
  CloudUploadHttpError,
  CloudUploadNetworkError,
  idempotencyKeySource,
  importUrl,
  isRetryableStatus,
  isRetryableUploadError,
  recordOf,
  scrubSecret,
  scrubStrings,
  SyncInterrupted,
  SyncManifestUnavailable,
  trimAfterLastBrace
} from "../../src/domain/CloudSync.js"

describe("URLs, keys and messages, exactly", () => {
  it("the import URL drops every trailing slash of the base and encodes the workspace", () => {
    assert.strictEqual(importUrl({ baseUrl: "https://x.test//", workspaceId: "a b/c" }), "https://x.test/workspaces/a%20b%2Fc/runs/import")
    assert.strictEqual(importUrl({ baseUrl: "https://x.test/api", workspaceId: "w" }), "https://x.test/api/workspaces/w/runs/import")
    assert.strictEqual(idempotencyKeySource("t", "r"), "t:r")
  })

  // Seen on the built CLI: the engine stopped waiting after CODEX_ORCHESTRATOR_SUBSCRIBER_GRACE_SECONDS
  // (nobody pressed Ctrl-C) and the record said "the command was stopped".
  it("an interrupted sync names both ways it is cut off: Ctrl-C, or the engine's wait for it running out", () => {
    assert.strictEqual(
      new SyncInterrupted({ attempts: 2 }).message,
      "Cloud sync was interrupted at upload attempt 2, before the server accepted the run: it may not have reached it " +
        "(the command was stopped, or it stopped waiting for the upload after CODEX_ORCHESTRATOR_SUBSCRIBER_GRACE_SECONDS)"
    )
  })

  it("each error's message", () => {
    assert.strictEqual(new CloudUploadHttpError({ status: 503 }).message, "CloudRuns upload failed with status 503")
    assert.strictEqual(new CloudUploadNetworkError({ url: "u", reason: "timeout" }).message, "CloudRuns upload to u failed: timeout")
    assert.strictEqual(new SyncManifestUnavailable({ path: "p", reason: "gone" }).message, "Could not read p before cloud sync: gone")
  })
})

describe("retries, exactly", () => {
  it("429 and 500 and up; not 499 or other 4xx", () => {
    assert.deepStrictEqual([400, 428, 429, 430, 499, 500, 503].map(isRetryableStatus), [false, false, true, false, false, true, true])
  })

  it("HTTP errors by status, network errors always, anything else never", () => {
    assert.isTrue(isRetryableUploadError({ _tag: "CloudUploadHttpError", status: 502 }))
    assert.isFalse(isRetryableUploadError({ _tag: "CloudUploadHttpError", status: 404 }))
    assert.isFalse(isRetryableUploadError({ _tag: "CloudUploadHttpError" }))
    assert.isTrue(isRetryableUploadError({ _tag: "CloudUploadNetworkError" }))
    assert.isFalse(isRetryableUploadError({ _tag: "MissingCredential", status: 500 }))
  })

  it("trimAfterLastBrace cuts after the last brace, or gives up without one", () => {
    assert.strictEqual(trimAfterLastBrace("{\"a\":{}} trailing"), "{\"a\":{}}")
    assert.strictEqual(trimAfterLastBrace("}"), "}")
    assert.strictEqual(trimAfterLastBrace("no brace"), undefined)
  })
})

describe("audit entries and records, exactly", () => {
  it("each audit entry's level, words and details", () => {
    const error = { name: "E", message: "m" }
    assert.deepStrictEqual(auditCompleted("id", 2), { level: "info", message: "Cloud sync completed", details: { remoteId: "id", attempt: 2 } })
    assert.deepStrictEqual(auditAttemptFailed(1, error), { level: "error", message: "Cloud sync attempt failed", details: { attempt: 1, error } })
    assert.deepStrictEqual(auditManifestRecovered(3), {
      level: "info",
      message: "Recovered manifest from partial JSON",
      details: { strategy: "trim-trailing", attempts: 3 }
    })
    assert.deepStrictEqual(auditManifestFailed(5, error), {
      level: "error",
      message: "Failed to read manifest before sync",
      details: { attempts: 5, error }
    })
  })

  it("no record when disabled; synced with or without a remote id; failed with its error", () => {
    assert.isUndefined(recordOf({ _tag: "Disabled" }))
    assert.deepStrictEqual(recordOf({ _tag: "Synced", remoteId: "x", attempts: 1, syncedAt: "s" }), {
      status: "synced",
      synced_at: "s",
      remote_id: "x",
      attempts: 1
    })
    assert.deepStrictEqual(recordOf({ _tag: "Synced", remoteId: undefined, attempts: 2, syncedAt: "s" }), { status: "synced", synced_at: "s", attempts: 2 })
    const error = { name: "E", message: "m" }
    assert.deepStrictEqual(recordOf({ _tag: "Failed", attempts: 3, failedAt: "f", error }), { status: "failed", failed_at: "f", attempts: 3, error })
  })
})

describe("scrubbing, exactly", () => {
  it("every occurrence of the secret; nothing when there is none or it is empty", () => {
    assert.strictEqual(scrubSecret("a tok3n b tok3n", "tok3n!"), "a tok3n b tok3n")
    assert.strictEqual(scrubSecret("a tok3n! b tok3n!", "tok3n!"), "a [REDACTED] b [REDACTED]")
    assert.strictEqual(scrubSecret("a tok3n!", undefined), "a tok3n!")
    assert.strictEqual(scrubSecret("a tok3n!", ""), "a tok3n!")
  })

  it("a secret shorter than 6 characters is not one: scrubbing it would rewrite ordinary text", () => {
    assert.strictEqual(scrubSecret("CloudRuns upload failed with status 401", "a"), "CloudRuns upload failed with status 401")
    assert.strictEqual(scrubSecret("a tok b", "tok"), "a tok b")
    assert.deepStrictEqual(scrubStrings({ message: "failed" }, "a"), { message: "failed" })
  })

  it("strings at any depth, keys and other values kept", () => {
    const tok = "tok3n!"
    const value = { [tok]: `${tok}?`, list: [`x ${tok}`, 1, null, { inner: tok }], n: 2, b: true }
    assert.deepStrictEqual(scrubStrings(value, tok), { [tok]: "[REDACTED]?", list: ["x [REDACTED]", 1, null, { inner: "[REDACTED]" }], n: 2, b: true })
    assert.strictEqual(scrubStrings(value, undefined), value)
    assert.strictEqual(scrubStrings(value, ""), value)
    assert.strictEqual(scrubStrings(tok, tok), "[REDACTED]")
  })
})
