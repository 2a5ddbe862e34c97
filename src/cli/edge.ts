/**
 * The CLI's edge, shared by both entry points (main.ts, statusMain.ts): the only place that runs a
 * program. Exit codes (DECISIONS D-1): 0 succeeded, 1 run failed or an I/O error, 2 bad input, 130
 * interrupted. stdout carries only the result; progress and errors go to stderr (D-2).
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Console, Effect, Logger, LogLevel, Option } from "effect"
import { colourWanted, stripAnsi } from "../domain/Colour.js"
import { oneLine } from "../domain/OneLine.js"
import { decodeSettings, terminalSection } from "../domain/Settings.js"
import { exitCodeOf, type ParserErrorTest, tagOf } from "./exitCode.js"
import { dropOutputWhenClosed, stderrLine } from "./streams.js"

export { noParserErrors, type ParserErrorTest } from "./exitCode.js"

const verbose = process.argv.includes("--verbose")

// One readable line per failure; a finished run was already printed. A parser's usage errors were
// printed by @effect/cli (an app's own parser; the package's CLI makes them UsageErrors, usageLines.ts).
const report = (isParserError: ParserErrorTest) => (cause: Cause.Cause<unknown>) =>
  Option.match(Cause.failureOption(cause), {
    onSome: (error) => {
      if (isParserError(error) || ["RunNotSucceeded", "CommandExited", "CheckFailed"].includes(tagOf(error) ?? "")) return Effect.void
      const line = `error: ${oneLine(error instanceof Error ? error.message : String(error))}`
      return Effect.sync(() => process.stderr.write(`${stderrLine(line)}${verbose ? `${Cause.pretty(cause)}\n` : ""}`))
    },
    onNone: () =>
      Cause.isInterruptedOnly(cause)
        ? Effect.void
        : Effect.sync(() => process.stderr.write(`error: unexpected failure\n${Cause.pretty(cause)}\n`))
  })

/** Progress lines on stderr, prefixed as the original's (CLI-9), never on stdout. */
const stderrLogger = Logger.make(({ logLevel, message }) => {
  const text = Array.isArray(message) ? message.map(String).join(" ") : String(message)
  const level = LogLevel.greaterThanEqual(logLevel, LogLevel.Error)
    ? "error: "
    : LogLevel.greaterThanEqual(logLevel, LogLevel.Warning)
    ? "warning: "
    : ""
  process.stderr.write(stderrLine(`[Codex-Orchestrator] ${level}${oneLine(text)}`))
})

// runMain turns the first SIGINT/SIGTERM into an interruption: the running stage's process group is
// killed and the run recorded `cancelled`. Later signals must not kill us half-way through that.
let signals = 0
const onSignal = () => {
  signals += 1
  if (signals === 2) process.stderr.write("[Codex-Orchestrator] still cleaning up; press Ctrl-C again to quit now\n")
  if (signals >= 3) process.exit(130)
}

/**
 * A closed terminal or a dropped ssh session sends SIGHUP, whose default kills Node at once: the run
 * stayed `in_progress` with its stage `running` and the stage's processes lived on. It stops the
 * command as SIGTERM does (D-8). `nohup` cannot keep a Node process alive anyway: Node resets an
 * ignored SIGHUP to its default when it starts.
 */
const onHangup = () => {
  process.kill(process.pid, "SIGTERM")
}

/** Strips terminal escapes from what a console writes, per stream: stdout (log, info) and stderr (error, warn). */
const plainWhereWanted = (console: Console.Console, keep: { readonly out: boolean; readonly err: boolean }): Console.Console => {
  const plain = (args: ReadonlyArray<unknown>) => args.map((arg) => (typeof arg === "string" ? stripAnsi(arg) : arg))
  return {
    ...console,
    log: (...args) => (keep.out ? console.log(...args) : console.log(...plain(args))),
    info: (...args) => (keep.out ? console.info(...args) : console.info(...plain(args))),
    error: (...args) => (keep.err ? console.error(...args) : console.error(...plain(args))),
    warn: (...args) => (keep.err ? console.warn(...args) : console.warn(...plain(args)))
  }
}

/**
 * The engine's progress (Effect's logger) on stderr, as the package's command line writes it, so
 * stdout keeps only the result (D-2). An app that mounts the commands under its own runner provides it.
 */
export const progressLogger = Logger.replace(Logger.defaultLogger, stderrLogger)

/**
 * Colour only for a terminal, or as NO_COLOR / FORCE_COLOR say (issue 16 item 23): @effect/cli writes
 * help and usage errors through the Console with ANSI escapes, whatever stdout is.
 */
const withTerminalColour = <A, E, R>(program: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Effect.orDie(decodeSettings(terminalSection)), (settings) =>
    Console.consoleWith((console) =>
      Effect.withConsole(program, plainWhereWanted(console, {
        out: colourWanted(settings, process.stdout.isTTY === true),
        err: colourWanted(settings, process.stderr.isTTY === true)
      }))
    ))

/** How long a finished command's process may take to end on its own. */
const leftoverGraceMs = 1000

/**
 * Ends a process whose command succeeded but which something keeps alive. With exit code 0, runMain
 * leaves the exit to Node, which waits for every open handle: a library's leaked socket kept the
 * command from ever returning (a cluster client that called runners side by side before it had a
 * connection to them: effect 3.22's RcMap.get opens one per call and keeps one; see the README's
 * cluster performance section). By now the program is over and its finalizers have run; once stdout and
 * stderr have handed everything to the system, the process exits. The timer is unref'd, so a process
 * with nothing left open exits on its own as before. This runs after the Effect runtime is done,
 * which is why it is a plain timer and not a Schedule.
 */
const exitWhenOnlyLeftoversRemain = (code: number) => {
  const check = setTimeout(() => {
    // A stream whose reader went away (destroyed) will never hand over what it holds.
    const unsent = [process.stdout, process.stderr].reduce((sum, stream) => sum + (stream.destroyed ? 0 : stream.writableLength), 0)
    if (unsent > 0) {
      check.refresh()
      return
    }
    if (verbose) {
      const open = process.getActiveResourcesInfo().filter((name) => name !== "Timeout").join(", ")
      process.stderr.write(`[Codex-Orchestrator] the command is done; exiting although these are still open: ${open}\n`)
    }
    process.exit(code)
  }, leftoverGraceMs)
  check.unref()
}

/**
 * Runs a command line whose layers are provided (AppBaseLive over a Node platform layer), reports a
 * failure in one line and exits with its code, also when a handle the program left open would keep
 * the process alive. Does not load @effect/cli itself: a program parsed with it passes
 * `ValidationError.isValidationError`, one that is not passes `noParserErrors`.
 */
export const runCli = <E>(program: Effect.Effect<void, E>, isParserError: ParserErrorTest) => {
  dropOutputWhenClosed(process.stdout, process.stderr)
  process.on("SIGINT", onSignal)
  process.on("SIGTERM", onSignal)
  process.on("SIGHUP", onHangup)
  program.pipe(
    withTerminalColour,
    Effect.provide(progressLogger),
    Effect.tapErrorCause(report(isParserError)), // after provide, so layer failures (bad environment) are reported too
    NodeRuntime.runMain({
      disableErrorReporting: true,
      disablePrettyLogger: true,
      teardown: (exit, onExit) => {
        const code = exitCodeOf(exit, isParserError)
        onExit(code)
        // Any other code has runMain call process.exit itself.
        if (code === 0) exitWhenOnlyLeftoversRemain(code)
      }
    })
  )
}
