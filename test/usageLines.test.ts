/**
 * The parser's usage errors on the package's command line (D-1): one line, naming the flag or
 * argument and the command's --help, exit 2; the parser's own text is not printed besides. The
 * edge prints the line with its `error: ` prefix (test/integration/bad-input.test.ts).
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Option } from "effect"
import * as Cli from "../src/cli/index.js"
import { TestKit } from "../src/index.js"
import { captured } from "./support/cliMemory.js"
import { commandStage, pipeline } from "./support/pipelines.js"

const app = TestKit.AppMemory({ pipelines: { user: [pipeline("p", [commandStage("build", "make")])] }, scripts: { make: { exitCode: 0 } } })

const refused = (...args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const result = yield* captured(Cli.cli(["node", "codex-orchestrator", ...args]))
    const failure = Exit.isFailure(result.exit) ? Option.getOrUndefined(Cause.failureOption(result.exit.cause)) : undefined
    assert.strictEqual(result.code, 2, `exit ${result.code}: ${String(failure)}`)
    assert.strictEqual(result.stderr, "", "the parser's own text is not printed")
    assert.strictEqual(result.stdout, "")
    assert.deepInclude(failure, { _tag: "UsageError" })
    return failure instanceof Error ? failure.message : String(failure)
  }).pipe(Effect.provide(app), Effect.provide(NodeContext.layer))

const help = (command: string) => `See 'codex-orchestrator ${command}--help'.`

describe("usage errors on the command line (D-1)", () => {
  it.effect("a value a flag refuses names the flag and the value", () =>
    Effect.gen(function*() {
      assert.strictEqual(
        yield* refused("start", "p", "--task", "demo", "--approval-policy", "bogus"),
        `--approval-policy "bogus": Expected one of the following cases: never, on-request, auto. ${help("start ")}`
      )
      assert.strictEqual(yield* refused("plan", "p", "--format=xml"), `--format "xml": Expected one of the following cases: text, json, mermaid. ${help("plan ")}`)
      assert.strictEqual(yield* refused("status", "--run", "r", "--interval", "abc"), `--interval "abc": 'abc' is not an integer. ${help("status ")}`)
    }))

  it.effect("an unknown flag, a flag without its value, a flag given twice, a stray argument", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* refused("start", "p", "--bogus"), `unknown option --bogus. ${help("start ")}`)
      assert.strictEqual(yield* refused("start", "p", "--task"), `--task needs a value. ${help("start ")}`)
      assert.strictEqual(yield* refused("cache", "prune", "--max-size"), `--max-size needs a value. ${help("cache prune ")}`)
      // `--name=` with nothing after the `=`: the flag is known, its value is missing.
      assert.strictEqual(yield* refused("doctor", "--format="), `--format needs a value. ${help("doctor ")}`)
      assert.strictEqual(yield* refused("start", "p", "--task="), `--task needs a value. ${help("start ")}`)
      assert.strictEqual(yield* refused("start", "p", "--bogus="), `unknown option --bogus=. ${help("start ")}`)
      assert.strictEqual(yield* refused("start", "p", "--task", "a", "--task", "b"), `--task is given more than once. ${help("start ")}`)
      assert.strictEqual(yield* refused("start", "p", "extra"), `unexpected argument 'extra'. ${help("start ")}`)
    }))

  it.effect("an unknown flag where the pipeline id goes is an unknown option, not a pipeline to look for", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* refused("start", "--bogus"), `unknown option --bogus. ${help("start ")}`)
      assert.strictEqual(yield* refused("plan", "--bogus", "--format", "json"), `unknown option --bogus. ${help("plan ")}`)
    }))

  it.effect("an unknown flag of status or resume (which take the run id as an argument too) is an unknown option", () =>
    Effect.gen(function*() {
      // Before: `--follow needs a value.` (the parser had taken the flag for the run id).
      assert.strictEqual(yield* refused("status", "--run", "r", "--follow"), `unknown option --follow. ${help("status ")}`)
      assert.strictEqual(yield* refused("status", "--run", "r", "-f"), `unknown option -f. ${help("status ")}`)
      assert.strictEqual(yield* refused("resume", "--run", "r", "--bogus"), `unknown option --bogus. ${help("resume ")}`)
      // A flag of the command left without its value at the end is still that.
      assert.strictEqual(yield* refused("status", "--run", "r", "--format"), `--format needs a value. ${help("status ")}`)
    }))

  it.effect("status and resume (whose run id may be an argument) with a flag given twice name the flag, not its second value", () =>
    Effect.gen(function*() {
      // Before: `unexpected argument 'u'.` (the second value was left over as an argument).
      assert.strictEqual(yield* refused("status", "--run", "r", "--task", "t", "--task", "u"), `--task is given more than once. ${help("status ")}`)
      assert.strictEqual(yield* refused("status", "--run", "r", "--run", "s"), `--run is given more than once. ${help("status ")}`)
      assert.strictEqual(yield* refused("resume", "--run", "r", "--run=s"), `--run is given more than once. ${help("resume ")}`)
    }))

  it.effect("cache prune --max-size 0 points to --all", () =>
    Effect.gen(function*() {
      // Before: `--max-size 0 is not a size`, which it is; the cache has a flag for emptying it.
      assert.strictEqual(
        yield* refused("cache", "prune", "--max-size", "0"),
        "--max-size 0 leaves no room for any entry; give a size such as 512M or 2G, or --all to remove every entry."
      )
      assert.strictEqual(
        yield* refused("cache", "prune", "--max-size", "big"),
        "--max-size big is not a size; give bytes or a size such as 512M or 2G."
      )
    }))

  it.effect("an unknown single-dash flag before the other flags is an unknown option, not a flag with a value", () =>
    Effect.gen(function*() {
      // Before: `-dash "--task": . See ...` (the next flag shown as its value, the parser's text empty).
      assert.strictEqual(yield* refused("start", "-dash", "--task", "d"), `unknown option -dash. ${help("start ")}`)
      assert.strictEqual(yield* refused("plan", "-x", "--format", "json"), `unknown option -x. ${help("plan ")}`)
    }))

  it.effect("a word that is no command lists the commands", () =>
    Effect.gen(function*() {
      const line = yield* refused("frob")
      assert.match(line, /^codex-orchestrator: 'frob' is not a command \(one of start, plan, status, resume, .*\)\. See 'codex-orchestrator --help'\.$/)
      assert.match(yield* refused("cache", "frob"), /^codex-orchestrator cache: 'frob' is not a command \(one of stats, prune\)\. See 'codex-orchestrator cache --help'\.$/)
    }))
})
