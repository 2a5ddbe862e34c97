/**
 * `exec`'s command line (SPEC EXEC-1): options before the command in any of their spellings, the
 * command and its own options untouched, unknown options refused.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { normaliseExecArgv } from "../src/cli/execArgv.js"

const head = ["node", "cli"]
const normalised = (words: ReadonlyArray<string>) => Effect.map(normaliseExecArgv([...head, ...words]), (argv) => argv.slice(2))
const refusal = (words: ReadonlyArray<string>) =>
  Effect.map(Effect.either(normaliseExecArgv([...head, ...words])), (result) => (Either.isLeft(result) ? result.left.reason : "accepted"))

describe("normaliseExecArgv", () => {
  it.effect("puts options first and the command after --, whatever its words look like", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* normalised(["exec", "ls", "-la", "--json"]), ["exec", "--", "ls", "-la", "--json"])
      assert.deepStrictEqual(yield* normalised(["exec", "--jsonl", "--", "echo", "--jsonl"]), ["exec", "--jsonl", "--", "echo", "--jsonl"])
      assert.deepStrictEqual(yield* normalised(["exec", "--cwd=sub", "--task", "t", "pwd"]), ["exec", "--cwd", "sub", "--task", "t", "--", "pwd"])
    }))

  it.effect("--json takes an optional style: pretty alone, compact or pretty after it or after =", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* normalised(["exec", "--json", "echo"]), ["exec", "--json", "pretty", "--", "echo"])
      assert.deepStrictEqual(yield* normalised(["exec", "--json", "compact", "echo"]), ["exec", "--json", "compact", "--", "echo"])
      assert.deepStrictEqual(yield* normalised(["exec", "--json=compact", "--", "echo"]), ["exec", "--json", "compact", "--", "echo"])
      assert.deepStrictEqual(yield* normalised(["exec", "--json"]), ["exec", "--json", "pretty"])
    }))

  it.effect("refuses what it does not know, with the sentence the user reads", () =>
    Effect.gen(function*() {
      const help = " See 'codex-orchestrator exec --help'."
      assert.strictEqual(yield* refusal(["exec", "--jsnl", "echo"]), `unknown option --jsnl.${help}`)
      assert.strictEqual(yield* refusal(["exec", "-x", "echo"]), `unknown option -x.${help}`)
      assert.strictEqual(yield* refusal(["exec", "--cwd"]), `--cwd requires a directory.${help}`)
      assert.strictEqual(yield* refusal(["exec", "--jsonl=yes", "echo"]), `unknown option --jsonl.${help}`)
      assert.strictEqual(yield* refusal(["exec", "--json=yaml"]), `--json takes compact or pretty, not 'yaml'.${help}`)
    }))

  it.effect("an option given twice is refused as start refuses one (it was run as the command); --notify repeats", () =>
    Effect.gen(function*() {
      const help = " See 'codex-orchestrator exec --help'."
      assert.strictEqual(yield* refusal(["exec", "--task", "a", "--task", "b", "--", "echo"]), `--task is given more than once.${help}`)
      assert.strictEqual(yield* refusal(["exec", "--jsonl", "--jsonl", "echo"]), `--jsonl is given more than once.${help}`)
      assert.strictEqual(yield* refusal(["exec", "--json", "--json=compact", "echo"]), `--json is given more than once.${help}`)
      assert.strictEqual(yield* refusal(["exec", "--cwd=a", "--cwd", "b", "pwd"]), `--cwd is given more than once.${help}`)
      assert.deepStrictEqual(
        yield* normalised(["exec", "--notify", "https://a.test/h", "--notify=https://b.test/h", "echo"]),
        ["exec", "--notify", "https://a.test/h", "--notify", "https://b.test/h", "--", "echo"]
      )
    }))

  it.effect("leaves every other command alone", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* normalised(["start", "--jsnl", "x"]), ["start", "--jsnl", "x"])
    }))
})
