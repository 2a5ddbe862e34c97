/**
 * `--jsonl` (SPEC EXEC-3, DECISIONS B-6): a run as a stream a program can follow, one JSON line per
 * event as the EventBus publishes it (never by reading the run's files), then one `run:summary` line.
 * Lines decode with `decodeJsonlLine` (domain/RunSummaryEvent.ts), the schemas the engine publishes with.
 */
import { Options } from "@effect/cli"
import { Effect } from "effect"
import { encodeEventLine, type OrchestratorEvent } from "../domain/Events.js"
import { encodeRunSummary, type RunSummaryEvent } from "../domain/RunSummaryEvent.js"
import { EventBus } from "../services/EventBus.js"
import { writeStdout } from "./streams.js"
import { RunNotSucceeded, UsageError } from "./usage.js"

export const jsonlOption = Options.boolean("jsonl").pipe(
  Options.withDescription(
    "Print the run as JSON Lines on stdout instead of the result: every event as it happens (run:started, " +
      "stage:started, tool:call, log, stage:completed, run:completed, ...), then one run:summary line"
  )
)

const writeEvent = (event: OrchestratorEvent) => Effect.flatMap(encodeEventLine(event), (line) => writeStdout(`${line}\n`))

/**
 * Runs `run` with its events written to stdout: the lifecycle in publication order through one
 * handler, output chunks (`log`) through another as they arrive (lossy under a slow reader, like
 * `--follow`). Returns once every event published by then has been written.
 */
export const streamingJsonl = <A, E, R>(run: Effect.Effect<A, E, R>) =>
  Effect.scoped(Effect.gen(function*() {
    const bus = yield* EventBus
    yield* bus.onLifecycle(writeEvent)
    yield* bus.on("log", writeEvent)
    const result = yield* run
    // The engine waits for handlers only so long; a reader that is slow is waited for here.
    yield* bus.settled
    return result
  }))

/** The closing `run:summary` line. */
export const writeSummaryLine = (event: RunSummaryEvent) =>
  Effect.flatMap(encodeRunSummary(event, "compact"), (line) => writeStdout(`${line}\n`))

/** `run` streamed as JSON Lines when `on`, as it is otherwise. */
export const jsonlWhen = <A, E, R>(on: boolean, run: Effect.Effect<A, E, R>) => (on ? streamingJsonl(run) : run)

/** `--jsonl` and `--format json` both ask for stdout: a usage error (exit 2) when both are given. */
export const checkJsonlFormat = (jsonl: boolean, format: "text" | "json") =>
  jsonl && format === "json"
    ? Effect.fail(new UsageError({ reason: "--jsonl and --format json both print on stdout; give one of them." }))
    : Effect.void

/** Ends a `start`/`resume --jsonl` stream: the run:summary line; a run that did not succeed fails the command (exit 1, 130). */
export const finishJsonl = (summary: RunSummaryEvent) =>
  Effect.gen(function*() {
    yield* writeSummaryLine(summary)
    const { run, status } = summary.payload
    if (status !== "succeeded") return yield* new RunNotSucceeded({ runId: run.id, status })
  })
