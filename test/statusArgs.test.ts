/**
 * The quick parser of `status` command lines (issue 3's start-up target): it must take exactly the
 * plain forms, read them as @effect/cli does, and leave everything else to @effect/cli (undefined).
 * That both parsers then print the same is checked on the real executable in
 * test/integration/recovery.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import { parseStatusArgs } from "../src/cli/statusArgs.js"

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
    // --interval 0 is read: showStatus reports it under --watch, for both parsers alike.
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
