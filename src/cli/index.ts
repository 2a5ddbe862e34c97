/**
 * `codex-orchestrator/cli`: the command line as parts an app mounts under its own @effect/cli
 * command, every flag intact (`--follow`, `status --watch`, approvals), and the exit-code mapping
 * (DECISIONS D-1) as a function. The package's own executable (main.ts) is built from this module.
 *
 * The commands need AppBaseLive (`App.AppBaseLive` of `codex-orchestrator`) and Node's platform;
 * `rootCommandOn(name, App.engineLayer(custom))` runs the pipeline commands on an app's own knobs.
 */
import { ValidationError } from "@effect/cli"
import type { Exit } from "effect"
import { exitCodeOf } from "./exitCode.js"

export { cli, plan, resume, rootCommand, rootCommandOn, start, subcommandsOn } from "./commands.js"
export { exec } from "./exec.js"
export { engine as defaultEngine } from "./engine.js"
export { doctor } from "./doctor.js"
export { guard } from "./guard.js"
export { init } from "./init.js"
export { mirror } from "./mirror.js"
export { prompts } from "./prompts.js"
export { review } from "./review.js"
export { status } from "./status.js"
export { CheckFailed, CommandExited, RunNotSucceeded, UsageError, version } from "./usage.js"
/**
 * The package's edge, for an app's own executable: `runCli(program, ValidationError.isValidationError)`
 * runs a command line as the package's binary does (progress on stderr, one line per failure, D-1's
 * exit codes, Ctrl-C cancels the run); `progressLogger` alone sends the engine's progress to stderr.
 */
export { progressLogger, runCli } from "./edge.js"
/**
 * An app's root command run as `Command.run` runs it, but with the package's usage errors: the
 * parser's own text held back, one UsageError naming the flag and the command's `--help`
 * (`unknown option --bogus. See 'myapp orch start --help'.`), exit 2 through `exitCode`/`runCli`.
 */
export { runWithUsageLines } from "./usageLines.js"

/**
 * D-1: the exit code of a command's exit. 0 succeeded; 1 the run failed or an I/O error; 2 bad
 * input (the parser's usage errors included); 130 interrupted or a run that ended cancelled.
 */
export const exitCode = (exit: Exit.Exit<unknown, unknown>): number => exitCodeOf(exit, ValidationError.isValidationError)
