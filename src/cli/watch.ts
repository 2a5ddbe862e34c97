/**
 * What `start` and `resume` offer a watcher outside (DECISIONS B-6): `--jsonl` and `--notify`,
 * checked before the run and honoured after it.
 */
import { Effect } from "effect"
import type { CliManifest } from "../domain/Manifest.js"
import { checkJsonlFormat, finishJsonl, writeSummaryLine } from "./jsonl.js"
import { deliveredSummary, notifyTargets, withDeliveredSummary } from "./notify.js"
import type { RunNotSucceeded } from "./usage.js"

interface WatchFlags {
  readonly jsonl: boolean
  readonly notify: ReadonlyArray<string>
}

/** Before the run: the flags agree with `--format`, and the notification targets are valid (exit 2 otherwise). */
export const watchTargets = (flags: WatchFlags, format: "text" | "json") =>
  Effect.zipRight(checkJsonlFormat(flags.jsonl, format), notifyTargets(flags.notify))

/**
 * After the run: the summary is delivered to the targets, then printed as the stream's last line
 * with `--jsonl`, else `print` prints the result as usual.
 */
export const finishWatched = <E, R>(
  flags: WatchFlags,
  manifest: CliManifest,
  targets: ReadonlyArray<string>,
  print: Effect.Effect<void, E, R>
) =>
  Effect.gen(function*() {
    if (!flags.jsonl && targets.length === 0) return yield* print
    return yield* withDeliveredSummary(
      manifest,
      targets,
      undefined,
      (summary): Effect.Effect<void, E | RunNotSucceeded, R> => flags.jsonl ? finishJsonl(summary) : print
    )
  })

/**
 * Interrupted (Ctrl-C, SIGTERM from `timeout`): the cancelled run's summary is delivered to the
 * targets before the CLI exits 130, as for a finished run, then printed as the stream's last line with
 * `--jsonl`, else by `print`. A watcher is told a run ended however it ended.
 */
export const cancelledWatched = (flags: WatchFlags, targets: ReadonlyArray<string>, print: (manifest: CliManifest) => Effect.Effect<void>) =>
(manifest: CliManifest): Effect.Effect<void> =>
  !flags.jsonl && targets.length === 0
    ? print(manifest)
    : Effect.flatMap(deliveredSummary(manifest, targets), (summary) => (flags.jsonl ? writeSummaryLine(summary) : print(manifest)))
