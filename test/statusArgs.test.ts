/**
 * The quick parser of `status` command lines (issue 3's start-up target): it must take exactly the
 * plain forms, read them as @effect/cli does (checked against @effect/cli's own parse of the status
 * options on generated lines), and leave everything else to @effect/cli (undefined). That both
 * paths then print the same is checked on the real executable in test/integration/recovery.test.ts.
 */
import { Command } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { Console, Effect, Exit, Option, Ref } from "effect"
import { statusOptions } from "../src/cli/status.js"
import { parseStatusArgs } from "../src/cli/statusArgs.js"
import type { StatusFlags } from "../src/cli/statusReport.js"

const run = "2026-11-25T09-26-45-555Z-2f16ce35"
const defaults = { runId: run, taskId: undefined, format: "text", watch: false, interval: 10 } as const

describe("parseStatusArgs (the plain status command lines)", () => {
  it("reads every plain form, in any order, as @effect/cli would", () => {
    assert.deepStrictEqual(parseStatusArgs(["--run", run]), defaults)
    assert.deepStrictEqual(parseStatusArgs([run]), defaults)
    assert.deepStrictEqual(parseStatusArgs([`--run=${run}`, "--task=t1", "--format=json", "--interval=3"]), {
      ...defaults,
      taskId: "t1",
      format: "json",
      interval: 3
    })
    assert.deepStrictEqual(
      parseStatusArgs(["--task", "t1", run, "--watch", "--format", "text", "--verbose", "--interval", "07"]),
      { ...defaults, taskId: "t1", watch: true, interval: 7 }
    )
    // --interval 0 is read: showStatus reports it, for both parsers alike.
    assert.deepStrictEqual(parseStatusArgs(["--run", run, "--interval", "0"]), { ...defaults, interval: 0 })
  })

  const leftToEffectCli: ReadonlyArray<ReadonlyArray<string>> = [
    [],
    ["--task", "t1"], // no run id: @effect/cli's usage error
    ["--help"],
    ["-h"],
    ["--run", run, "--help"],
    ["--version"],
    ["--wizard"],
    ["--run", run, "--log-level", "debug"],
    ["--run", run, "--run", run], // repeated
    ["--run", run, run], // flag and positional
    [run, "other"], // two positionals
    ["--run", run, "--watch", "--watch"],
    ["--run"], // value missing
    ["--run", "--task", "t1"], // an option where the value should be
    ["--run="], // empty value
    [`--run=${run}=x`],
    ["--run", run, "--task", ""],
    ["--run", run, "--format", "JSON"],
    ["--run", run, "--format", "yaml"],
    ["--run", run, "--interval", "1.5"],
    ["--run", run, "--interval", "-3"],
    ["--run", run, "--interval", "1234567890"], // ten digits: left to @effect/cli's integer
    ["--run", run, "--watch=false"],
    ["--run", run, "--watch", "true"], // `true` would be a second positional here
    ["--", run],
    ["--Run", run],
    ["-r", run]
  ]
  for (const args of leftToEffectCli) {
    it(`leaves [${args.join(" ")}] to @effect/cli`, () => {
      assert.isUndefined(parseStatusArgs(args))
    })
  }
})

// ---------------------------------------------------------------------------------------------
// Against @effect/cli itself: every line the quick parser takes, @effect/cli (with the real status
// options) must take too, with the same values. Lines are drawn from words near every boundary
// (boolean words after flags, values with spaces or line breaks, `=` forms, odd intervals).

/** What @effect/cli makes of `status <args>`: the flags as the command handler sees them, or undefined. */
const effectCliParse = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const seen = yield* Ref.make<StatusFlags | undefined>(undefined)
    const capture = Command.make("status", statusOptions, (flags) =>
      Ref.set(seen, {
        runId: Option.getOrElse(Option.orElse(flags.runFlag, () => flags.run), () => ""),
        taskId: Option.getOrUndefined(flags.task),
        format: flags.format,
        watch: flags.watch,
        interval: flags.interval
      }))
    const root = Command.make("codex-orchestrator").pipe(Command.withSubcommands([capture]))
    const exit = yield* Effect.exit(
      Command.run(root, { name: "codex-orchestrator", version: "test" })(["node", "cli", "status", ...args]).pipe(
        Effect.withConsole(silentConsole)
      )
    )
    return Exit.isSuccess(exit) ? yield* Ref.get(seen) : undefined
  })

const silence = () => Effect.void
const silentConsole: Console.Console = {
  [Console.TypeId]: Console.TypeId,
  assert: silence,
  clear: Effect.void,
  count: silence,
  countReset: silence,
  debug: silence,
  dir: silence,
  dirxml: silence,
  error: silence,
  group: silence,
  groupEnd: Effect.void,
  info: silence,
  log: silence,
  table: silence,
  time: silence,
  timeEnd: silence,
  timeLog: silence,
  trace: silence,
  warn: silence,
  unsafe: globalThis.console
}

const words = [
  run, "other-run", "--run", `--run=${run}`, "--run=", "--task", "--task=t1", "t1", "t 1", " t1", "t1\n", "--task=t\n",
  "--format", "--format=json", "json", "text", "JSON", "--interval", "--interval=5", "5", "0", "07", "1.5", "-3",
  "--watch", "--verbose", "yes", "true", "1", "no", "off", "--watch=true", "--", "-h", "--help", "--wizard", "status"
]

/** A deterministic stream of pseudo-random numbers (mulberry32), so a failure reproduces. */
const randoms = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

describe("parseStatusArgs against @effect/cli's parse of the status options", () => {
  it.effect("every line it takes, @effect/cli takes with the same flags (2000 generated lines)", () =>
    Effect.gen(function*() {
      const next = randoms(20261204)
      let taken = 0
      for (let line = 0; line < 2000; line++) {
        const length = 1 + Math.floor(next() * 6)
        const args = Array.from({ length }, () => words[Math.floor(next() * words.length)] ?? run)
        const quick = parseStatusArgs(args)
        if (quick === undefined) continue
        taken += 1
        assert.deepStrictEqual(yield* effectCliParse(args), quick, JSON.stringify(args))
      }
      // The generator must exercise the quick path, not only the lines it leaves alone.
      assert.isAtLeast(taken, 200, "lines the quick parser took")
    }).pipe(Effect.provide(NodeContext.layer)), 60_000)

  it.effect("the boundaries the review found: boolean words after flags, whitespace and line breaks in values", () =>
    Effect.gen(function*() {
      for (const args of [["--watch", "yes"], ["--verbose", "on", "--task", "t"], [`--run=${run} `], ["--task=t\n", run], ["--run= ", "--task", "t"]]) {
        assert.isUndefined(parseStatusArgs(args), JSON.stringify(args))
      }
      // And where both take a line, they agree, e.g. a boolean flag before an option.
      const args = ["--watch", "--task", "t1", run]
      assert.deepStrictEqual(yield* effectCliParse(args), parseStatusArgs(args))
    }).pipe(Effect.provide(NodeContext.layer)))
})
