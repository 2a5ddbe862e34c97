/** What several commands share: the version, the usage errors, the common flags. */
import { Args, Options } from "@effect/cli"
import { Console, Effect, Option, Schema } from "effect"

export const version = "0.1.0"

/** The run ended without succeeding; its result is already printed. Exit 1, or 130 when cancelled (D-1). */
export class RunNotSucceeded extends Schema.TaggedError<RunNotSucceeded>()("RunNotSucceeded", {
  runId: Schema.String,
  status: Schema.String
}) {
  override get message() {
    return `Run ${this.runId} ended ${this.status}.`
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

export const task = Options.text("task").pipe(
  Options.withDescription("Task id; runs go to .runs/<task>/ (default: $MCP_RUNNER_TASK_ID, else 0101)"),
  Options.optional
)

export const format = Options.choice("format", ["text", "json"]).pipe(
  Options.withDescription("text: a readable summary; json: one JSON document on stdout"),
  Options.withDefault("text")
)
export const verbose = Options.boolean("verbose").pipe(
  Options.withDescription("On errors, print the full cause instead of one line")
)

export const printJson = (value: unknown) => Console.log(JSON.stringify(value, null, 2))

export const runArg = Args.text({ name: "run-id" }).pipe(
  Args.withDescription("The run id (same as --run)"),
  Args.optional
)
export const runOption = Options.text("run").pipe(
  Options.withDescription("The run id, as printed by start (e.g. 2026-11-25T09-26-45-555Z-2f16ce35)"),
  Options.optional
)

export const requireRunId = (command: string, positional: Option.Option<string>, flag: Option.Option<string>) =>
  Option.match(Option.orElse(flag, () => positional), {
    onNone: () => Effect.fail(new UsageError({ reason: `${command} requires --run <run-id>.` })),
    onSome: Effect.succeed
  })
