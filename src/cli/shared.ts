/** The flags several commands share, and (from usage.ts) the version, usage errors and JSON output. */
import { Args, Options } from "@effect/cli"

export { printJson, RunNotSucceeded, UsageError, version } from "./usage.js"

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

export const runArg = Args.text({ name: "run-id" }).pipe(
  Args.withDescription("The run id (same as --run)"),
  Args.optional
)
export const runOption = Options.text("run").pipe(
  Options.withDescription("The run id, as printed by start (e.g. 2026-11-25T09-26-45-555Z-2f16ce35)"),
  Options.optional
)
