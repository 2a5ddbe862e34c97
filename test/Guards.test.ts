/** GuardsLive on scripted git and in-memory files: base selection and freshness on the TestClock. */
import { Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, TestClock } from "effect"
import { FilesMemory, InMemoryFiles } from "../src/layers/Files.js"
import { GitMemory } from "../src/layers/Git.js"
import { GuardsLive } from "../src/layers/Guards.js"
import { OrchestratorConfigTest } from "../src/layers/OrchestratorConfig.js"
import { PipelineCatalogMemory } from "../src/layers/PipelineCatalog.js"
import { Guards } from "../src/services/Guards.js"

const repo = (answers: Parameters<typeof GitMemory>[0]) =>
  GuardsLive.pipe(
    Layer.provideMerge(Layer.mergeAll(GitMemory({
      "rev-parse --is-inside-work-tree": { stdout: "true\n" },
      "rev-parse --verify --quiet HEAD^{commit}": { stdout: "abc\n" },
      "rev-list --max-parents=0 HEAD": { stdout: "root1\n" },
      ...answers
    }), FilesMemory, PipelineCatalogMemory({}), OrchestratorConfigTest("/repo"), Path.layer))
  )

describe("GuardsLive", () => {
  it.effect("spec: BASE_SHA that names a commit is the base, and spec ages follow the Clock", () =>
    Effect.gen(function*() {
      yield* (yield* InMemoryFiles).write("/repo/tasks/specs/a.md", "last_review: 2026-01-01\n")
      yield* TestClock.setTime(Date.UTC(2026, 0, 31, 23, 59))
      const guards = yield* Guards
      const fresh = yield* guards.spec({ baseSha: "feature-base" })
      assert.strictEqual(fresh.base, "feature-base")
      assert.deepStrictEqual(fresh.changed, ["src/a.ts", "tasks/specs/a.md"])
      assert.deepStrictEqual(fresh.issues, [])
      yield* TestClock.setTime(Date.UTC(2026, 1, 1))
      const stale = yield* guards.spec({ baseSha: "no-such" })
      assert.strictEqual(stale.base, "root1")
      assert.deepStrictEqual(stale.issues, [
        "code/migrations changed but no spec updated under tasks/specs or tasks/index.json",
        "tasks/specs/a.md: last_review 2026-01-01 is 31 days old (must be ≤30 days)"
      ])
    }).pipe(Effect.provide(repo({
      "rev-parse --verify --quiet feature-base^{commit}": { stdout: "def\n" },
      "diff --name-only -z feature-base...HEAD": { stdout: "src/a.ts\0tasks/specs/a.md\0" },
      "diff --name-only -z root1...HEAD": { stdout: "" },
      "diff --name-only -z HEAD~1..HEAD": { stdout: "src/b.ts\0" }
    }))))

  it.effect("diff budget: a NotAGitRepository outside a work tree", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip((yield* Guards).diffBudget({ maxFiles: 1, maxLines: 1 }))
      assert.strictEqual(error._tag, "NotAGitRepository")
    }).pipe(Effect.provide(repo({ "rev-parse --is-inside-work-tree": { exitCode: 128, stderr: "fatal: not a git repository\n" } }))))
})
