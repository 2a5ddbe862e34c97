/**
 * Issue 20: the production graph configured from code (makeAppLayer's options): settings as a typed
 * value, pipelines in code merged with the repository file, the process runner, a cloud executor
 * that needs a service of the app's own (its requirement shows in the layer's type), and the
 * subscriber grace as a setting. Real disk in a temp folder; processes scripted; TestClock.
 */
import { FileSystem } from "@effect/platform"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Context, Duration, Effect, Fiber, Layer, Option, Ref, Stream, TestClock } from "effect"
import { AppMemory, makeAppLayer } from "../src/layers/App.js"
import { executorFromStream } from "../src/layers/Executor.js"
import { ProcessRunnerMemory } from "../src/layers/ProcessRunner.js"
import { EventBus } from "../src/services/EventBus.js"
import { CloudExecutor, type ExecutionEvent } from "../src/services/Executor.js"
import { RunEngine } from "../src/services/RunEngine.js"
import { commandStage, pipeline } from "./support/pipelines.js"

/** A service of the app's own, which its cloud executor needs. */
class Remote extends Context.Tag("test/Remote")<Remote, { readonly name: string; readonly sent: Ref.Ref<ReadonlyArray<string>> }>() {}

const encoder = new TextEncoder()

/** A cloud executor that needs Remote: it records each stage there and answers with one line and exit 0. */
const remoteExecutor = Layer.effect(
  CloudExecutor,
  Effect.map(Remote, (remote) =>
    CloudExecutor.of(executorFromStream(remote.name, (request) =>
      Stream.unwrap(Ref.update(remote.sent, (all) => [...all, request.stageId]).pipe(Effect.as(Stream.make<Array<ExecutionEvent>>(
        { _tag: "Started", pid: undefined },
        { _tag: "Output", stream: "stdout", chunks: Chunk.of(encoder.encode(`ran ${request.stageId} remotely\n`)) },
        { _tag: "Exited", exit: { exitCode: 0, signal: null } }
      ))))))
  )
)

const inCode = pipeline("from-code", [commandStage("build", "make")])
const shadowed = pipeline("both", [commandStage("code", "echo code")])

const repoFile = JSON.stringify({
  pipelines: [{ id: "both", title: "Both", stages: [{ kind: "command", id: "file", title: "File", command: "echo file" }] }]
})

/** A temp repository with its codex.orchestrator.json, and the app configured on it from code. */
const withRepo = <A, E, R>(body: (repoRoot: string) => Effect.Effect<A, E, R>) =>
  Effect.scoped(Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const repoRoot = yield* fs.makeTempDirectoryScoped({ prefix: "knobs-" })
    yield* fs.writeFileString(`${repoRoot}/codex.orchestrator.json`, repoFile)
    return yield* body(repoRoot)
  })).pipe(Effect.provide(NodeContext.layer))

const appOn = (repoRoot: string) =>
  makeAppLayer({
    settings: { repoRoot, runsRoot: `${repoRoot}/runs-here`, privacyMode: "enforce" },
    pipelines: [inCode, shadowed],
    processRunner: ProcessRunnerMemory({ make: { exitCode: 0 }, "echo file": { exitCode: 0 } }),
    cloudExecutor: remoteExecutor
  })

// The cloud executor's requirement is the app layer's: a type-level check that fails to compile otherwise.
type NeedsRemote = [Remote] extends [Layer.Layer.Context<ReturnType<typeof appOn>>] ? true : false
const needsRemote: NeedsRemote = true

describe("makeAppLayer's options (issue 20)", () => {
  it.effect("settings, pipelines in code merged with the file, the process runner and a cloud executor with its own requirement", () =>
    withRepo((repoRoot) =>
      Effect.gen(function*() {
        assert.isTrue(needsRemote)
        const sent = yield* Ref.make<ReadonlyArray<string>>([])
        const program = Effect.gen(function*() {
          const engine = yield* RunEngine
          const local = yield* engine.start({ pipelineId: "from-code", taskId: "knobs" })
          const file = yield* engine.start({ pipelineId: "both", taskId: "knobs" })
          const remote = yield* engine.start({ pipelineId: "from-code", taskId: "knobs", executionMode: "cloud" })
          return { local, file, remote }
        })
        const { file, local, remote } = yield* program.pipe(
          Effect.provide(appOn(repoRoot)),
          Effect.provide(Layer.succeed(Remote, { name: "remote", sent }))
        )
        assert.strictEqual(local.manifest.status, "succeeded")
        assert.isTrue(local.layout.runDir.startsWith(`${repoRoot}/runs-here/knobs/cli/`), local.layout.runDir)
        // The repository file's pipeline wins over the one of the same id in code.
        assert.deepStrictEqual(file.manifest.commands.map((c) => c.id), ["file"])
        assert.strictEqual(remote.manifest.status, "succeeded")
        assert.strictEqual(remote.manifest.cloud_fallback_reason ?? null, null)
        assert.deepStrictEqual(yield* Ref.get(sent), ["build"])
      })
    ))

  it.effect("the subscriber grace is a setting: a slow `on` handler holds start for that long, no longer", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const bus = yield* EventBus
      yield* bus.on("run:completed", () => Effect.sleep("1 hour"))
      const fiber = yield* Effect.fork(engine.start({ pipelineId: "one", taskId: "grace" }))
      yield* TestClock.adjust("4 seconds")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "start returned before the grace ran out")
      yield* TestClock.adjust("1 second")
      assert.isTrue(Option.isSome(yield* Fiber.poll(fiber)), "start still waits after the grace")
      assert.strictEqual((yield* Fiber.join(fiber)).manifest.status, "succeeded")
    }).pipe(
      Effect.scoped,
      Effect.provide(AppMemory({
        pipelines: { user: [pipeline("one", [commandStage("one", "true")])] },
        scripts: { true: { exitCode: 0 } },
        settings: { subscriberGrace: Duration.seconds(5) }
      }))
    ))
})
