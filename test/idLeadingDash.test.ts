/**
 * ID-1: an id may not begin with `-`. It becomes a folder (`.runs/-x`) that every tool then reads as
 * an option (`rm -x`, `ls .runs/-x`), so `--task -x`, `--task=-x`, `MCP_RUNNER_TASK_ID=-x` and
 * `--run -x` are bad input (exit 2, one line naming the id, the rule and the fix), and nothing is written.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Cli from "../src/cli/index.js"
import { idFixHint } from "../src/domain/Ids.js"
import { TestKit } from "../src/index.js"
import { Files } from "../src/services/Files.js"
import { failureOf, runCommandLine } from "./support/cliMemory.js"
import { commandStage, pipeline } from "./support/pipelines.js"

const pipelines = { user: [pipeline("ok", [commandStage("build", "make")])] }
const scripts = { make: { exitCode: 0 } }

const orch = (...args: ReadonlyArray<string>) => runCommandLine(Cli.rootCommandOn("orch", Layer.empty), args)

const onApp = <A, E, R>(effect: Effect.Effect<A, E, R>, envTaskId?: string) =>
  effect.pipe(
    Effect.provide(TestKit.AppMemory({ pipelines, scripts, ...(envTaskId === undefined ? {} : { settings: { envTaskId } }) })),
    Effect.provide(NodeContext.layer)
  )

const rule = "a leading '-' is not allowed (tools would read it as an option)."

/** Nothing was written under the runs root. */
const noRunsFolder = Effect.gen(function*() {
  const files = yield* Files
  const roots = yield* Effect.either(files.list("/repo/.runs"))
  if (roots._tag === "Right") assert.deepStrictEqual(roots.right.filter((name) => name.startsWith("-")), [])
})

describe("ids beginning with '-' (ID-1)", () => {
  it.effect("a task id from --task, as two words or one, is refused: exit 2, nothing written", () =>
    onApp(Effect.gen(function*() {
      for (const args of [["start", "ok", "--task", "-x"], ["start", "ok", "--task=-x"], ["plan", "ok", "--task=-x"]]) {
        const { code, exit, stdout } = yield* orch(...args)
        assert.strictEqual(code, 2, args.join(" "))
        assert.strictEqual(stdout, "")
        assert.strictEqual(failureOf(exit), `Invalid task ID "-x": ${rule} ${idFixHint}`, args.join(" "))
      }
      yield* noRunsFolder
    })))

  it.effect("a run id given to status or resume is refused before it is used in a path", () =>
    onApp(Effect.gen(function*() {
      for (const args of [["status", "--run", "-x", "--task", "t"], ["resume", "--run=-x", "--task", "t"]]) {
        const { code, exit } = yield* orch(...args)
        assert.strictEqual(code, 2, args.join(" "))
        assert.strictEqual(failureOf(exit), `Invalid run ID "-x": ${rule} ${idFixHint}`, args.join(" "))
      }
    })))

  it.effect("MCP_RUNNER_TASK_ID=-x is refused, naming the variable, even with a valid --task (ENV-3)", () =>
    onApp(
      Effect.gen(function*() {
        for (const args of [["start", "ok"], ["start", "ok", "--task", "fine"]]) {
          const { code, exit } = yield* orch(...args)
          assert.strictEqual(code, 2, args.join(" "))
          assert.strictEqual(
            failureOf(exit),
            `Invalid MCP_RUNNER_TASK_ID "-x": Invalid task ID "-x": ${rule} ${idFixHint}`,
            args.join(" ")
          )
        }
        yield* noRunsFolder
      }),
      "-x"
    ))

  it.effect("a '-' inside or at the end of an id is still fine", () =>
    onApp(Effect.gen(function*() {
      const { code } = yield* orch("start", "ok", "--task", "a-b-")
      assert.strictEqual(code, 0)
    })))
})
