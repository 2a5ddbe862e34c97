/** MIR-5's judgements to the exact value (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { checkSummary, isOutbound, routeSlug, trackersIn } from "../../src/domain/MirrorCheck.js"
import { resolveMirrorConfig } from "../../src/domain/MirrorConfig.js"

describe("mirror check, exactly", () => {
  const settings = resolveMirrorConfig({
    origin: "https://example.com",
    routes: ["/"],
    stripPatterns: ["tracker\\.js", "pixel"],
    disableDefaultStripPatterns: true
  })

  it("http, https, ws and wss requests to other hosts leave; the mirror's own server does not", () => {
    const server = new URL("http://mirror.test:8080")
    for (const url of ["http://evil.test/a", "https://evil.test/a", "ws://evil.test/s", "wss://evil.test/s"]) {
      assert.isTrue(isOutbound(new URL(url), settings, server), url)
    }
    assert.isFalse(isOutbound(new URL("http://mirror.test:8080/a.png"), settings, server))
    assert.isFalse(isOutbound(new URL("blob:http://evil.test/1"), settings, server))
  })

  it("names the strip patterns a text matches, as their sources", () => {
    assert.deepStrictEqual(trackersIn("<script src=/TRACKER.js></script><img src=pixel.gif>", settings), ["tracker\\.js", "pixel"])
    assert.deepStrictEqual(trackersIn("<p>clean</p>", settings), [])
  })

  it("slugs and the closing line", () => {
    assert.strictEqual(routeSlug("/about/team/?q=1#top"), "about-team")
    assert.strictEqual(routeSlug("/?x"), "index")
    assert.strictEqual(checkSummary([]), "[mirror:check] all routes returned 200 with no outbound or tracker violations")
    assert.strictEqual(
      checkSummary([{ route: "/", kind: "tracker", detail: "x" }, { route: "/", kind: "http-error", detail: "y" }]),
      "[mirror:check] detected issues (2)"
    )
  })
})
