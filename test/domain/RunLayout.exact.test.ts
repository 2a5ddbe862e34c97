/** LAY-1's run paths to the exact value (mutation testing, issue 16). */
import { Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { makeRunLayout } from "../../src/domain/RunLayout.js"

describe("run layout, exactly", () => {
  it.effect("the prompt and the cloud sync record sit in the run folder", () =>
    Effect.gen(function*() {
      const posix = yield* Path.Path
      const layout = makeRunLayout(posix, { repoRoot: "/repo", runsRoot: "/repo/.runs", outRoot: "/repo/out" }, "t", "r1")
      assert.strictEqual(layout.prompt, "/repo/.runs/t/cli/r1/prompt.md")
      assert.strictEqual(layout.cloudSyncRecord, "/repo/.runs/t/cli/r1/cloud-sync.json")
      assert.strictEqual(layout.relative(layout.stageLog(3, "Build It")), ".runs/t/cli/r1/commands/03-Build-It.ndjson")
    }).pipe(Effect.provide(Path.layer)))
})
