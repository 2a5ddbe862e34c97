/**
 * What every command needs that is not a flag: the version, the usage errors, JSON output. Apart
 * from the flags (shared.ts) because it does not need @effect/cli, so `status`'s quick path
 * (statusMain.ts) starts without loading it.
 */
import { Console, Effect, Option, Schema } from "effect"

/** The CLI's version, as `--version` prints it. */
export { orchestratorVersion as version } from "../domain/Version.js"

/** The run ended without succeeding; its result is already printed. Exit 1, or 130 when cancelled (D-1). */
export class RunNotSucceeded extends Schema.TaggedError<RunNotSucceeded>()("RunNotSucceeded", {
  runId: Schema.String,
  status: Schema.String
}) {
  override get message() {
    return `Run ${this.runId} ended ${this.status}.`
  }
}

/**
 * `exec`'s run did not succeed; its result is printed. The process exits with the command's own exit
 * code (EXEC-3: 1 when it has none, 130 when the run was cancelled).
 */
export class CommandExited extends Schema.TaggedError<CommandExited>()("CommandExited", {
  runId: Schema.String,
  status: Schema.String,
  exitCode: Schema.Int
}) {
  override get message() {
    return `Run ${this.runId} ended ${this.status} (exit code ${this.exitCode}).`
  }
}

/** A check (guard, doctor) whose report is already printed found problems: exit 1, nothing more to say. */
export class CheckFailed extends Schema.TaggedError<CheckFailed>()("CheckFailed", {
  check: Schema.String
}) {
  override get message() {
    return `${this.check} failed`
  }
}

/** A flag combination that cannot work; exit 2 like every other bad input (D-1). */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", {
  reason: Schema.String
}) {
  override get message() {
    return this.reason
  }
}

export const printJson = (value: unknown) => Console.log(JSON.stringify(value, null, 2))

/**
 * The run id of `status` and `resume`: `--run`, else the positional. @effect/cli takes an option left
 * without its value at the end (`status --run <id> --format`) as the positional run id, and a flag
 * the command does not have (`status --run <id> --follow`) too: a positional that starts with `-` is
 * refused as the parser refuses it elsewhere (`valueFlags`: the command's flags that take a value,
 * usageLines.ts's valueFlagsOf), rather than dropped or looked up as a run.
 */
export const runIdOf = (command: string, valueFlags: ReadonlyArray<string>, positional: Option.Option<string>, flag: Option.Option<string>) => {
  if (Option.isNone(positional) || !positional.value.startsWith("-")) return Effect.succeed(Option.orElse(flag, () => positional))
  const given = positional.value
  const help = `See 'codex-orchestrator ${command} --help'.`
  // A flag with its value there (`--run=s`) was taken as the run id because the flag was taken already: given twice.
  const equals = given.indexOf("=")
  const name = equals < 0 ? given : given.slice(0, equals)
  if (!valueFlags.includes(name)) return Effect.fail(new UsageError({ reason: `unknown option ${given}. ${help}` }))
  const valued = equals >= 0 && equals < given.length - 1
  return Effect.fail(new UsageError({ reason: `${name} ${valued ? "is given more than once" : "needs a value"}. ${help}` }))
}
