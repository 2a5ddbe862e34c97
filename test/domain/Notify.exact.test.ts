/** EXEC-4's notification targets and retry rule to the exact value (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import {
  isHttpUrl,
  isRetryableStatus,
  NotifyTarget,
  shownTarget,
  splitTargets,
  targetProblem
} from "../../src/domain/Notify.js"

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

  it("comma lists split into trimmed words, empty ones dropped; a word that is no http(s) URL has a problem", () => {
    assert.deepStrictEqual(splitTargets([" http://a/ ,,http://b/", "", " , http://c/"]), ["http://a/", "http://b/", "http://c/"])
    assert.deepStrictEqual(["http://a/", "b.example", "ftp://c/", "https://b/"].map(targetProblem), [
      undefined,
      "is not an http(s) URL",
      "is not an http(s) URL",
      undefined
    ])
  })

  it("a target with a user or password is refused, and named with the password hidden (fetch refuses it; it would be printed)", () => {
    assert.strictEqual(targetProblem("https://a/hook"), undefined)
    assert.strictEqual(targetProblem("b.example"), "is not an http(s) URL")
    assert.strictEqual(targetProblem("https://bot:s3cret@a/hook"), "carries a user name or password, which is never sent (fetch refuses it); put the token in the path or query")
    assert.strictEqual(targetProblem("https://bot@a/hook"), targetProblem("https://bot:s3cret@a/hook"))
    assert.strictEqual(shownTarget("https://bot:s3cret@a/hook"), "https://bot:***@a/hook")
    assert.strictEqual(shownTarget("https://bot@a/hook"), "https://bot@a/hook")
    assert.strictEqual(shownTarget("no url"), "no url")
    // A token in the query (or the fragment) is a secret as much as a password: a log shows its name only.
    assert.strictEqual(shownTarget("https://a/hook?token=s3cret&channel=&x"), "https://a/hook?token=***&channel=&***")
    assert.strictEqual(shownTarget("https://bot:pw@a/hook?k=v#frag"), "https://bot:***@a/hook?k=***#***")
    assert.strictEqual(shownTarget("https://a/hook?"), "https://a/hook?")
    const refused = Schema.decodeUnknownEither(NotifyTarget)("https://bot:s3cret@a/hook")
    assert.isTrue(refused._tag === "Left" && !refused.left.message.includes("s3cret") && refused.left.message.includes("user name or password"))
  })

  it("a target with a control character (a line break pasted in) is refused, and shown escaped on one line", () => {
    // The URL parser drops tabs and line breaks: the summary went to another URL than the one given.
    const problem = (shown: string) => `contains a control character (${shown}); remove it: a URL is one line of printable characters`
    assert.strictEqual(targetProblem("https://a/ho\nok"), problem("\\n"))
    assert.strictEqual(targetProblem("https://a/x\ry"), problem("\\r"))
    assert.strictEqual(targetProblem("https://a/x\ty"), problem("\\t"))
    assert.strictEqual(targetProblem("https://a/x\u0001y"), problem("\\u0001"))
    assert.strictEqual(targetProblem("https://a/x\u007fy"), problem("\\u007f"))
    assert.strictEqual(targetProblem("https://a/x\u0085y"), problem("\\u0085"))
    assert.strictEqual(targetProblem("https://bot:s3cret@a/x\ny"), problem("\\n"))
    assert.strictEqual(shownTarget("https://a/ho\nok"), "https://a/ho\\nok")
    assert.strictEqual(shownTarget("no\u0001url"), "no\\u0001url")
    // With a password, the parsed URL is shown (the password must not show): the line break is gone there.
    assert.strictEqual(shownTarget("https://bot:s3cret@a/x\ny"), "https://bot:***@a/xy")
    assert.strictEqual(shownTarget("https://bot:s3cret@a/x\u0001y"), "https://bot:***@a/x%01y")
    const refused = Schema.decodeUnknownEither(NotifyTarget)("https://a/ho\nok")
    assert.isTrue(refused._tag === "Left" && refused.left.message.includes(`${problem("\\n")} (https://a/ho\\nok)`), String(refused))
  })

  it("5xx, 429 and 408 are worth another attempt; other answers are not", () => {
    for (const status of [500, 503, 599, 429, 408]) assert.isTrue(isRetryableStatus(status), `${status}`)
    for (const status of [499, 400, 404, 407, 409, 428, 430, 200, 302]) assert.isFalse(isRetryableStatus(status), `${status}`)
  })
})
