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
