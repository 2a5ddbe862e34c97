/**
 * What `start` and `resume` offer a watcher outside (DECISIONS B-6): `--jsonl` and `--notify`,
 * checked before the run and honoured after it.
 */
import { Effect } from "effect"
import type { CliManifest } from "../domain/Manifest.js"
import { checkJsonlFormat, finishJsonl } from "./jsonl.js"
import { deliveredSummary, notifyTargets } from "./notify.js"

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
    const summary = yield* deliveredSummary(manifest, targets)
    return yield* flags.jsonl ? finishJsonl(summary) : print
  })
