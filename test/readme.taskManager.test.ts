/**
 * The README's "How it works" example, run as written (imports from the sources instead of the
 * package) on the real layers: real processes in a temporary repository, with the environment given
 * as a ConfigProvider instead of the test process's.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ConfigProvider, Effect, Layer, Ref } from "effect"
import { App, EventBus, Reviewer, RunEngine } from "../src/index.js"

// Replace the reviewer: reject a build whose stages printed a warning.
const StrictReviewer = Layer.succeed(
  Reviewer.Reviewer,
  Reviewer.Reviewer.of({
    review: ({ build }) =>
      Effect.succeed(
        build.notes?.toLowerCase().includes("warning")
          ? { summary: "Rejected: the build printed warnings.", decision: { approved: false, feedback: build.notes } }
          : { summary: "Approved by the strict reviewer.", decision: { approved: true } }
      )
  })
)

const program = Effect.gen(function*() {
  const reviews = yield* Ref.make<ReadonlyArray<string>>([])
  yield* (yield* EventBus.EventBus).on("review:completed", (event) => Ref.update(reviews, (all) => [...all, event.review.summary]))
  const { manifest } = yield* (yield* RunEngine.RunEngine).start({ pipelineId: "example", taskId: "embedded" })
  return { status: manifest.status, reviews: yield* Ref.get(reviews) }
}).pipe(Effect.scoped)

const app = App.makeAppLayer({ agents: StrictReviewer }).pipe(Layer.provideMerge(NodeContext.layer))

/** A repository whose `example` pipeline builds (printing `buildOutput`) and passes its guardrail. */
const repoWith = (buildOutput: string) => {
  const dir = mkdtempSync(join(tmpdir(), "readme-taskmanager-"))
  writeFileSync(
    join(dir, "codex.orchestrator.json"),
    JSON.stringify({
      pipelines: [{
        id: "example",
        title: "Example",
        stages: [
          { kind: "command", id: "build", title: "Build", command: `echo '${buildOutput}'` },
          { kind: "command", id: "guard", title: "Guardrail", command: "echo 'spec-guard: ok'" }
        ]
      }]
    })
  )
  return dir
}

const inRepo = (dir: string) => Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["CODEX_ORCHESTRATOR_ROOT", dir]])))

/** The README's example block, from the reviewer to the layer (its imports and last lines differ). */
const exampleBody = (source: string) => {
  const start = source.indexOf("// Replace the reviewer")
  const end = source.indexOf("\n", source.indexOf("const app = App.makeAppLayer"))
  return start < 0 || end < 0 ? "" : source.slice(start, end)
}

describe("README: embedding the TaskManager with a custom reviewer", () => {
  it("this file runs the README's example as written", () => {
    const readme = exampleBody(readFileSync(new URL("../README.md", import.meta.url), "utf8"))
    assert.isAbove(readme.length, 500)
    assert.strictEqual(exampleBody(readFileSync(new URL(import.meta.url), "utf8")), readme)
  })

  it.live("the custom reviewer judges the run, and its verdict reaches the event bus and the run summary", () => {
    const dir = repoWith("built")
    return program.pipe(
      Effect.provide(app),
      inRepo(dir),
      Effect.map(({ reviews, status }) => {
        assert.strictEqual(status, "succeeded")
        assert.deepStrictEqual(reviews, ["Approved by the strict reviewer."])
        const runs = JSON.parse(readFileSync(join(dir, "out", "embedded", "runs.json"), "utf8"))
        assert.strictEqual(runs.runs[0].summary, "Approved by the strict reviewer.")
      }),
      Effect.ensuring(Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
    )
  }, 30_000)

  it.live("a build that printed a warning is rejected by it (the pipeline itself still succeeded)", () => {
    const dir = repoWith("warning: deprecated flag")
    return program.pipe(
      Effect.provide(app),
      inRepo(dir),
      Effect.map(({ reviews, status }) => {
        assert.strictEqual(status, "succeeded")
        assert.deepStrictEqual(reviews, ["Rejected: the build printed warnings."])
      }),
      Effect.ensuring(Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
    )
  }, 30_000)
})
