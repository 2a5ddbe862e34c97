/**
 * Issue 20: the command line mounted under an app's own command (`myapp orch start ...`) through the
 * `codex-orchestrator/cli` module, on an engine the app chooses (here the test kit's), and its
 * exits mapped by `exitCode` (D-1).
 */
import { Command } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Option } from "effect"
import * as Cli from "../src/cli/index.js"
import { RunEngine, TestKit } from "../src/index.js"
import { captured, runCommandLine } from "./support/cliMemory.js"

const pipelines = {
  user: [{
    id: "ci",
    title: "CI",
    stages: [
      { kind: "command" as const, id: "build", title: "Build", command: "make" },
      { kind: "command" as const, id: "test", title: "Test", command: "make test" }
    ]
  }]
}
const app = TestKit.AppMemory({ pipelines, scripts: { make: { exitCode: 0 }, "make test": { exitCode: 1 } } })

/**
 * `myapp` with the orchestrator as `orch`; the engine comes from around the whole program (the
 * in-memory app, `Layer.empty` inside), so the test reads the same run back.
 */
const runMyApp = (...args: ReadonlyArray<string>) =>
  runCommandLine(Command.make("myapp").pipe(Command.withSubcommands([Cli.rootCommandOn("orch", Layer.empty)])), args)

/** `myapp` run as the package's own executable runs its command line: usage errors as one line (`runWithUsageLines`). */
const runMyAppWithUsageLines = (...args: ReadonlyArray<string>) =>
  captured(
    Cli.runWithUsageLines(Command.make("myapp").pipe(Command.withSubcommands([Cli.rootCommandOn("orch", Layer.empty)])), {
      name: "myapp",
      version: "1.0.0"
    })(["node", "myapp", ...args])
  )

/** A fresh in-memory app (and Node's terminal for the parser) for each test. */
const onApp = <A, E, R>(effect: Effect.Effect<A, E, R>) => effect.pipe(Effect.provide(app), Effect.provide(NodeContext.layer))

describe("codex-orchestrator/cli mounted as `myapp orch`", () => {
  it.effect("plan prints the plan as JSON and exits 0", () =>
    onApp(Effect.gen(function*() {
      const { code, stdout } = yield* runMyApp("orch", "plan", "ci", "--task", "demo", "--format", "json")
      assert.strictEqual(code, 0)
      const plan: unknown = JSON.parse(stdout)
      assert.deepNestedInclude(plan, { "pipeline.id": "ci" })
    })))

  it.effect("start runs the pipeline on the app's engine; a failed stage is exit 1 and the run is readable", () =>
    onApp(Effect.gen(function*() {
      const { code, stdout } = yield* runMyApp("orch", "start", "ci", "--task", "demo", "--format", "json", "--approval-policy", "auto")
      assert.strictEqual(code, 1)
      const result: { readonly run_id: string; readonly status: string } = JSON.parse(stdout)
      assert.strictEqual(result.status, "failed")
      const view = yield* (yield* RunEngine.RunEngine).status({ runId: result.run_id, taskId: "demo" })
      assert.deepStrictEqual(view.manifest.commands.map((c) => c.status), ["succeeded", "failed"])
    })))

  it.effect("a flag value the parser refuses is exit 2 and runs nothing", () =>
    onApp(Effect.gen(function*() {
      const { code, exit } = yield* runMyApp("orch", "start", "ci", "--approval-policy", "bogus")
      assert.isTrue(Exit.isFailure(exit))
      assert.strictEqual(code, 2)
      const ran = yield* (yield* TestKit.ProcessInvocations).all
      assert.deepStrictEqual(ran, [])
    })))

  it.effect("with runWithUsageLines, a usage error is one line naming the flag and the mounted command's --help, and nothing printed", () =>
    onApp(Effect.gen(function*() {
      const { code, exit, stderr, stdout } = yield* runMyAppWithUsageLines("orch", "start", "ci", "--bogus")
      assert.strictEqual(code, 2)
      assert.strictEqual(stdout, "")
      assert.strictEqual(stderr, "", "the parser's own text is held back; the app's edge prints the error")
      assert.isTrue(Exit.isFailure(exit))
      const failure = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
      assert.deepInclude(Option.getOrUndefined(failure), { _tag: "UsageError", reason: "unknown option --bogus. See 'myapp orch start --help'." })
      const { code: planned } = yield* runMyAppWithUsageLines("orch", "plan", "ci", "--task", "demo", "--format", "json")
      assert.strictEqual(planned, 0)
    })))
})
