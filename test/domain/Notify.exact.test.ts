/** EXEC-4's notification targets and retry rule to the exact value (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { invalidTarget, isHttpUrl, isRetryableStatus, NotifyTarget, splitTargets } from "../../src/domain/Notify.js"

describe("Notify, exactly", () => {
  it("only http and https URLs are targets", () => {
    assert.isTrue(isHttpUrl("http://a/"))
    assert.isTrue(isHttpUrl("https://a:8443/hook?x=1"))
    assert.isFalse(isHttpUrl("ftp://a/"))
    assert.isFalse(isHttpUrl("file:///tmp/x"))
    assert.isFalse(isHttpUrl("a/b"))
    assert.isFalse(isHttpUrl(""))
  })

  it("a config's target that is not a URL is refused with the reason", () => {
    assert.strictEqual(Schema.decodeUnknownSync(NotifyTarget)("https://a/"), "https://a/")
    const refused = Schema.decodeUnknownEither(NotifyTarget)("mailto:x@y")
    assert.isTrue(refused._tag === "Left" && refused.left.message.includes("must be an http:// or https:// URL (the run summary is POSTed to it as JSON)"))
  })

  it("comma lists split into trimmed words, empty ones dropped; the first non-URL is named", () => {
    assert.deepStrictEqual(splitTargets([" http://a/ ,,http://b/", "", " , http://c/"]), ["http://a/", "http://b/", "http://c/"])
    assert.strictEqual(invalidTarget(["http://a/", "b.example", "ftp://c/"]), "b.example")
    assert.strictEqual(invalidTarget(["http://a/", "https://b/"]), undefined)
  })

  it("5xx, 429 and 408 are worth another attempt; other answers are not", () => {
    for (const status of [500, 503, 599, 429, 408]) assert.isTrue(isRetryableStatus(status), `${status}`)
    for (const status of [499, 400, 404, 407, 409, 428, 430, 200, 302]) assert.isFalse(isRetryableStatus(status), `${status}`)
  })
})
