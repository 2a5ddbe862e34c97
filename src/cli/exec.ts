/**
 * `codex-orchestrator exec [options] [--] <cmd> [args...]` (SPEC EXEC-1..3, DECISIONS B-6): one
 * command as a one-stage run with the full manifest, logs, metrics and learning of a pipeline run,
 * watched as JSON Lines, as one JSON summary, or on a terminal; the process exits with the command's code.
 */
import { Args, Command, Options } from "@effect/cli"
import { FileSystem } from "@effect/platform"
import { Effect, Option } from "effect"
import { execCommandProblem, execPipeline } from "../domain/ExecPipeline.js"
import type { CliManifest } from "../domain/Manifest.js"
import { encodeRunSummary, type RunSummaryEvent } from "../domain/RunSummaryEvent.js"
import { shellCommand } from "../domain/Shell.js"
import { EventBus } from "../services/EventBus.js"
import { RunEngine } from "../services/RunEngine.js"
import { printedIfCancelled } from "./cancelReport.js"
import { following } from "./follow.js"
import { streamingJsonl, writeSummaryLine } from "./jsonl.js"
import { deliveredSummary, notifyOption, notifyTargets, withDeliveredSummary } from "./notify.js"
import { task, verbose } from "./shared.js"
import { otelEndpointOption, traced } from "./tracing.js"
import { withHud } from "./hud.js"
import { stdoutIsTerminal, writeStdout } from "./streams.js"
import { CommandExited, UsageError } from "./usage.js"

const words = Args.text({ name: "command" }).pipe(
  Args.withDescription(
    "The command and its arguments, run as given (quoted for the shell): everything from the first word that is " +
      "not an exec option, or everything after --"
  ),
  Args.repeated
)
const json = Options.choice("json", ["compact", "pretty"]).pipe(
  Options.withDescription(
    "Print only the final run:summary event as JSON: pretty (the default when --json has no value) or compact (one line)"
  ),
  Options.optional
)
const jsonl = Options.boolean("jsonl").pipe(
  Options.withDescription(
    "Print every event as one JSON line on stdout as it happens, then the run:summary line " +
      "(the default when stdout is not a terminal)"
  )
)
const cwd = Options.text("cwd").pipe(
  Options.withPseudoName("directory"),
  Options.withDescription("Run the command in this directory (default: the repository root)"),
  Options.optional
)

const leaveOut = "(or leave --cwd out: the repository root)"

/** `--cwd` must be a folder that exists: checked here, so the line names the flag and the fix (exit 2). */
const checkedCwd = (dir: Option.Option<string>) =>
  Option.match(dir, {
    onNone: () => Effect.succeed(undefined),
    onSome: (value) =>
      Effect.flatMap(FileSystem.FileSystem, (fs) => Effect.option(fs.stat(value))).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.fail(new UsageError({ reason: `--cwd ${value}: the folder does not exist; give a folder that exists ${leaveOut}.` })),
          onSome: (info) =>
            info.type === "Directory"
              ? Effect.succeed(value)
              : Effect.fail(new UsageError({ reason: `--cwd ${value} is a file, not a folder; give a folder ${leaveOut}.` }))
        }))
      )
  })

type OutputMode = "json" | "jsonl" | "terminal"

/** EXEC-1: one output mode; with none asked for, JSON Lines for a program, the terminal view for a person. */
const outputMode = (flags: { readonly json: Option.Option<string>; readonly jsonl: boolean }) =>
  Option.isSome(flags.json) && flags.jsonl
    ? Effect.fail(new UsageError({ reason: "Cannot combine --json with other output modes." }))
    : Effect.succeed<OutputMode>(Option.isSome(flags.json) ? "json" : flags.jsonl || !stdoutIsTerminal() ? "jsonl" : "terminal")

/** The last `limit` characters of what a stream printed, kept as the run goes. */
const tailLimit = 4096
const makeTails = () => {
  const tails = { stdout: "", stderr: "" }
  return {
    add: (source: "stdout" | "stderr", text: string) => Effect.sync(() => void (tails[source] = `${tails[source]}${text}`.slice(-tailLimit))),
    read: () => ({ ...tails })
  }
}

/** The exit code of a run that did not succeed (EXEC-3): the command's, 130 if cancelled, else 1. */
const failedExitCode = (manifest: CliManifest): number => {
  if (manifest.status === "cancelled") return 130
  const code = manifest.commands[0]?.exit_code
  return code === undefined || code === null || code === 0 ? 1 : code
}

const terminalText = (manifest: CliManifest) => {
  const entry = manifest.commands[0]
  return [
    `Exec run: ${manifest.run_id}`,
    `Status: ${manifest.status}${entry?.exit_code === undefined || entry.exit_code === null ? "" : ` (exit code ${entry.exit_code})`}`,
    `Manifest: ${manifest.artifact_root}/manifest.json`,
    `Log: ${entry?.log_path ?? manifest.log_path}`
  ].join("\n")
}

/** `exec`, as the CLI mounts it (it needs the engine: `Command.provide(engine)`). */
export const exec = Command.make(
  "exec",
  { words, json, jsonl, cwd, task, notify: notifyOption, otelEndpoint: otelEndpointOption, verbose },
  (flags) =>
    Effect.gen(function*() {
      const problem = execCommandProblem(flags.words)
      if (problem !== undefined) return yield* new UsageError({ reason: problem })
      const mode = yield* outputMode(flags)
      const dir = yield* checkedCwd(flags.cwd)
      const targets = yield* notifyTargets(flags.notify)
      const engine = yield* RunEngine
      const bus = yield* EventBus
      const tails = makeTails()
      const run = engine.start({
        pipeline: execPipeline(flags.words, dir),
        taskId: Option.getOrUndefined(flags.task)
      })
      const details = () => ({ argv: flags.words, shell: shellCommand(flags.words), outputs: tails.read() })
      /** The result on stdout, as the output mode has it. */
      const print = (manifest: CliManifest, summary: RunSummaryEvent) => {
        if (mode === "jsonl") return writeSummaryLine(summary)
        if (mode === "terminal") return writeStdout(`${terminalText(manifest)}\n`)
        const style = Option.getOrElse(flags.json, (): "compact" | "pretty" => "pretty")
        return Effect.flatMap(encodeRunSummary(summary, style), (text) => writeStdout(`${text}\n`))
      }
      // Interrupted (Ctrl-C, SIGTERM): the cancelled run is still delivered to the targets and printed,
      // so a stream ends with its run:summary and a watcher hears of it before exit 130.
      const cancelled = (manifest: CliManifest) => Effect.flatMap(deliveredSummary(manifest, targets, details()), (summary) => print(manifest, summary))
      const { manifest } = yield* printedIfCancelled(cancelled)(Effect.scoped(Effect.gen(function*() {
        yield* bus.on("log", (event) => tails.add(event.source, event.message))
        // A person at a terminal gets the HUD, or (refused: it says why) the output on stderr.
        return yield* mode === "jsonl"
          ? streamingJsonl(run)
          : mode === "terminal"
          ? withHud({ on: true, off: false }, "text", run, following(true))
          : run
      })))
      yield* withDeliveredSummary(manifest, targets, details(), (summary) => print(manifest, summary))
      if (manifest.status !== "succeeded") {
        return yield* new CommandExited({ runId: manifest.run_id, status: manifest.status, exitCode: failedExitCode(manifest) })
      }
    }).pipe(traced(flags.otelEndpoint, "exec"))
).pipe(Command.withDescription(
  "Run one command as a one-stage run (pipeline exec) with the full manifest, logs and metrics under " +
    ".runs/<task>/cli/<run>/. Output: --jsonl streams every event as a JSON line, then a run:summary line " +
    "(the default when stdout is not a terminal); --json prints only the run:summary event. " +
    "Options go before the command (or before --). Exit code: the command's; 2 on bad input; 130 if interrupted. " +
    "Example: codex-orchestrator exec --json=compact --cwd src -- ls -la"
))
