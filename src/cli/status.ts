/**
 * The `status` command (SPEC CLI-7, D-9) of the full CLI, as @effect/cli parses it; what it prints
 * is statusReport.ts, shared with the quick path (src/cli/statusMain.ts), which runs the plain
 * command lines without @effect/cli. This one takes every other line: `--help`, usage errors.
 */
import { Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { format, runArg, runOption, task, verbose } from "./shared.js"
import { missingRunId, showStatus } from "./statusReport.js"
import { runIdOf } from "./usage.js"
import { valueFlagsOf } from "./usageLines.js"

const watch = Options.boolean("watch").pipe(
  Options.withDescription("Print again whenever the run changes, until it is finished")
)
const interval = Options.integer("interval").pipe(
  Options.withDescription("Seconds between checks with --watch, 1 to 86400 (default 10)"),
  Options.withDefault(10)
)

/** The options and argument of `status`; the quick parser (statusArgs.ts) is tested against them. */
export const statusOptions = { run: runArg, runFlag: runOption, task, format, watch, interval, verbose }

/** `status`: a run's status from its manifest (CLI-7, D-9); never writes. */
export const status = Command.make(
  "status",
  statusOptions,
  (flags) =>
    Effect.flatMap(runIdOf("status", statusValueFlags(), flags.run, flags.runFlag), Option.match({
      onNone: () => missingRunId("status", Option.getOrUndefined(flags.task)),
      onSome: (runId) =>
        showStatus({
          runId,
          taskId: Option.getOrUndefined(flags.task),
          format: flags.format,
          watch: flags.watch,
          interval: flags.interval
        })
    }))
).pipe(Command.withDescription(
  "Show a run's status from its manifest (never writes). --watch prints again on every change until the run " +
    "is finished. A run that is not finished and has no recent heartbeat is reported stale. " +
    "Example: codex-orchestrator status --run 2026-11-25T09-26-45-555Z-2f16ce35 --task 0001 --watch --interval 5"
))

/** status's flags that take a value (for runIdOf; typed, so that status's type does not depend on itself). */
const statusValueFlags = (): ReadonlyArray<string> => valueFlagsOf(status)
