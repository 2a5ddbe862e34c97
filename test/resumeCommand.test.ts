/**
 * `resume` on the command line (CLI-6, RUN-9), on the test kit's in-memory app: what it prints for
 * a run it resumed and for one that had already succeeded, which it leaves as it is.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Cli from "../src/cli/index.js"
import { TestKit } from "../src/index.js"
import { RunReader } from "../src/services/RunReader.js"
import { failureOf, runCommandLine } from "./support/cliMemory.js"
import { commandStage, pipeline } from "./support/pipelines.js"

const app = TestKit.AppMemory({
  pipelines: {
    user: [
      pipeline("ok", [commandStage("build", "make")]),
      pipeline("broken", [commandStage("test", "make test")]),
      pipeline("bar", [commandStage("bar", "progress")])
    ]
  },
  scripts: {
    make: { exitCode: 0 },
    "make test": { exitCode: 1 },
    progress: { output: [{ stream: "stdout", data: "50%\r100%\u0007 done\n" }] }
  }
})

const orch = (...args: ReadonlyArray<string>) => runCommandLine(Cli.rootCommandOn("orch", Layer.empty), args)

const started = (pipelineId: string) =>
  Effect.map(orch("start", pipelineId, "--task", "demo", "--format", "json", "--approval-policy", "auto"), (result) => {
    const output: { readonly run_id: string } = JSON.parse(result.stdout)
    return output.run_id
  })

const onApp = <A, E, R>(effect: Effect.Effect<A, E, R>) => effect.pipe(Effect.provide(app), Effect.provide(NodeContext.layer))

describe("resume on the command line (CLI-6)", () => {
  it.effect("a run that already succeeded is not said to be resumed: its own header, exit 0", () =>
    onApp(Effect.gen(function*() {
      const runId = yield* started("ok")
      const { code, stdout, stderr } = yield* orch("resume", runId, "--task", "demo")
      assert.strictEqual(code, 0, stderr)
      assert.notInclude(stdout, "Run resumed")
      assert.strictEqual(stdout.split("\n")[0], `Run already succeeded, nothing resumed: ${runId}`)
      assert.include(stdout, "Status: succeeded")
    })))

  it.effect("a stage line stays one line however its output or the manifest's title is made (a carriage return, a bell)", () =>
    onApp(Effect.gen(function*() {
      const started = yield* orch("start", "bar", "--task", "demo")
      assert.strictEqual(started.code, 0, started.stderr)
      assert.include(started.stdout.split("\n"), "  [succeeded] bar — 50%\\r100%\\u0007 done")
      const runId = (started.stdout.split("\n")[0] ?? "").replace("Run started: ", "")
      const { layout } = yield* (yield* RunReader).status({ runId, taskId: "demo" })
      const files = yield* TestKit.InMemoryFiles
      const manifest = JSON.parse((yield* files.read(layout.manifest)) ?? "{}")
      manifest.commands[0].title = "Bar\rFAKE"
      yield* files.write(layout.manifest, JSON.stringify(manifest))
      const { stdout } = yield* orch("resume", runId, "--task", "demo")
      assert.include(stdout.split("\n"), "  [succeeded] Bar\\rFAKE — 50%\\r100%\\u0007 done")
    })))

  it.effect("a failed run is resumed and says so; it fails again, exit 1", () =>
    onApp(Effect.gen(function*() {
      const runId = yield* started("broken")
      const { code, stdout } = yield* orch("resume", runId, "--task", "demo")
      assert.strictEqual(code, 1)
      assert.strictEqual(stdout.split("\n")[0], `Run resumed: ${runId}`)
    })))

  it.effect("a run exec made (its one-stage pipeline given on the command line) is not resumable: said so, exit 2, nothing written", () =>
    onApp(Effect.gen(function*() {
      const ran = yield* orch("exec", "--task", "demo", "--", "make", "test")
      assert.strictEqual(ran.code, 1, ran.stderr)
      const { runId } = yield* (yield* RunReader).newestRun("demo")
      const files = yield* TestKit.InMemoryFiles
      const before = yield* files.list
      const { code, exit, stdout } = yield* orch("resume", runId ?? "", "--task", "demo")
      assert.strictEqual(code, 2)
      assert.strictEqual(stdout, "")
      assert.strictEqual(
        failureOf(exit),
        `Run ${runId} was made by exec: its one-stage pipeline was given on exec's command line, not in codex.orchestrator.json, ` +
          `so resume has nothing to run it with. Run the command again: codex-orchestrator exec --task demo -- make test`
      )
      assert.deepStrictEqual(yield* files.list, before)
    })))
})
