/**
 * EXEC-1: a command `exec` cannot run is bad input (exit 2, one line naming the problem and the fix,
 * no run made): none after the options, an empty or blank program name (the shell would answer 127),
 * a word with a NUL byte (no process can be given one). Through the mounted CLI, as an app runs it.
 */
import { Command } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Cli from "../src/cli/index.js"
import { TestKit } from "../src/index.js"
import { failureOf, runCommandLine } from "./support/cliMemory.js"

const app = TestKit.AppMemory({ scripts: { "''": { exitCode: 127 }, "'   '": { exitCode: 127 } } })

const runExec = (...args: ReadonlyArray<string>) =>
  runCommandLine(Command.make("myapp").pipe(Command.withSubcommands([Cli.rootCommandOn("orch", Layer.empty)])), [
    "orch",
    "exec",
    "--task",
    "t",
    ...args
  ])

const refused = (args: ReadonlyArray<string>, reason: string) =>
  Effect.gen(function*() {
    const { code, exit, stdout } = yield* runExec(...args)
    assert.strictEqual(code, 2, JSON.stringify(args))
    // The edge prints it as one `error: ` line (edge.ts).
    assert.strictEqual(failureOf(exit), reason)
    assert.strictEqual(stdout, "")
    const written = yield* Effect.flatMap(TestKit.InMemoryFiles, (files) => files.list)
    assert.deepStrictEqual(written.filter((path) => path.includes("/.runs/")), [], "no run was made")
  }).pipe(Effect.provide(app), Effect.provide(NodeContext.layer))

describe("exec refuses a command it cannot run (EXEC-1)", () => {
  it.effect("none at all", () =>
    refused(["--"], "exec requires a command to run: give it after the options, as in 'codex-orchestrator exec -- ls -la'."))

  it.effect("an empty or blank program name", () =>
    Effect.gen(function*() {
      const fix = "give the program to run first, as in 'codex-orchestrator exec -- ls -la'."
      yield* refused(["--", ""], `exec's command is empty; ${fix}`)
      yield* refused(["--", "   "], `exec's command is empty; ${fix}`)
      yield* refused(["--", "", "ls"], `exec's command is empty; ${fix}`)
      yield* refused(["--", "\t\n"], `exec's command is empty; ${fix}`)
    }))

  it.effect("a word with a NUL byte, naming the word", () =>
    refused(
      ["--", "echo", "a\u0000b"],
      "exec's command word 2 ('a\\u0000b') contains a NUL byte, which no program can be given; remove it."
    ))
})
