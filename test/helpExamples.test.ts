/**
 * Every subcommand of the second wave explains itself in --help with an example command line that
 * works as written (a new user's first question after "what are the options": how do I call it?).
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Cli from "../src/cli/index.js"
import { TestKit } from "../src/index.js"
import { runCommandLine } from "./support/cliMemory.js"

const commands = [
  ["exec"],
  ["review"],
  ["mirror", "fetch"],
  ["mirror", "serve"],
  ["mirror", "check"],
  ["design", "setup"],
  ["design", "config"],
  ["design", "diff"],
  ["init"],
  ["prompts", "install"],
  ["doctor"],
  ["cache", "stats"],
  ["cache", "prune"],
  ["status"]
] as const

describe("--help of the second wave's subcommands", () => {
  for (const command of commands) {
    it.effect(`${command.join(" ")} --help shows an example`, () =>
      Effect.gen(function*() {
        const { code, stdout } = yield* runCommandLine(Cli.rootCommandOn("codex-orchestrator", Layer.empty), [...command, "--help"])
        assert.strictEqual(code, 0)
        assert.match(stdout, new RegExp(`Example: codex-orchestrator ${command.join(" ")}( |$)`, "m"), stdout.slice(0, 600))
      }).pipe(Effect.provide(TestKit.AppMemory({ pipelines: { user: [] } })), Effect.provide(NodeContext.layer)))
  }
})

describe("--target says what it does for each command", () => {
  const descriptions = [
    ["start", "Run only this stage (id, alias or <pipeline>:<stage>); the others are recorded skipped"],
    ["plan", "Show the plan with this stage as its target (id, alias or <pipeline>:<stage>): start --target would run only it"],
    // resume leaves the other entries as the run recorded them (RUN-9): none is recorded skipped.
    ["resume", "Re-run only this stage (id, alias or <pipeline>:<stage>), even one that succeeded; the other stages keep what the run recorded (default: the run's recorded target, else $CODEX_ORCHESTRATOR_TARGET_STAGE)"]
  ] as const
  for (const [command, description] of descriptions) {
    it.effect(`${command} --help`, () =>
      Effect.gen(function*() {
        const { code, stdout } = yield* runCommandLine(Cli.rootCommandOn("codex-orchestrator", Layer.empty), [command, "--help"])
        assert.strictEqual(code, 0)
        assert.include(stdout.replace(/\s+/g, " "), description)
      }).pipe(Effect.provide(TestKit.AppMemory({ pipelines: { user: [] } })), Effect.provide(NodeContext.layer)))
  }
})
