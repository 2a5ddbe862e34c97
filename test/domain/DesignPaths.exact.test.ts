/** DES-3's artifact paths to the exact value (mutation testing, issue 16). */
import { Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { makeDesignLayout, safeJoin, segmentProblem, UnsafeArtifactPath } from "../../src/domain/DesignPaths.js"

describe("design paths, exactly", () => {
  it("a segment's problem is the id rule's sentence without its closing dot", () => {
    assert.strictEqual(segmentProblem(""), "value must be a non-empty string")
    assert.strictEqual(segmentProblem(".x"), "leading dots are not allowed")
    assert.strictEqual(segmentProblem("a/../b"), "`..` segments are not allowed")
  })

  it.effect("a refused segment's message names it, the reason and what to use", () =>
    Effect.gen(function*() {
      const posix = yield* Path.Path
      const refused = safeJoin(posix, "/runs", "ok", "a?b")
      assert(refused instanceof UnsafeArtifactPath)
      assert.strictEqual(
        refused.message,
        "refusing the artifact path segment \"a?b\": character \"?\" is not allowed. Use letters, digits, '-', '_' or '.' (DES-3)."
      )
    }).pipe(Effect.provide(Path.layer)))

  it.effect("publish logs go under publish/logs/<slug>, a bad slug refused", () =>
    Effect.gen(function*() {
      const posix = yield* Path.Path
      const layout = makeDesignLayout(posix, { repoRoot: "/repo", runsRoot: "/repo/.runs", outRoot: "/repo/out" }, "demo", "r1")
      assert.strictEqual(layout.publishLogs("site"), "/repo/.runs/demo/r1/artifacts/design-toolkit/publish/logs/site")
      assert(layout.publishLogs("..") instanceof UnsafeArtifactPath)
    }).pipe(Effect.provide(Path.layer)))
})
