/**
 * `--notify` (SPEC EXEC-4, DECISIONS B-6) for `exec`, `start` and `resume`: the targets are resolved
 * before the run (a bad one is bad input: exit 2, nothing written), and the finished run's
 * `run:summary` event is POSTed to each. The HTTP client is loaded only when there is a target.
 */
import { Options } from "@effect/cli"
import { Effect, Layer } from "effect"
import { resolveTargets, shownTarget, splitTargets, targetProblem } from "../domain/Notify.js"
import type { CliManifest } from "../domain/Manifest.js"
import {
  type ExecDetails,
  type NotificationsReport,
  noNotifications,
  type RunSummaryEvent,
  runSummaryEventOf
} from "../domain/RunSummaryEvent.js"
import { isoNow } from "../domain/Time.js"
import { decodeSettings, notifySection } from "../domain/Settings.js"
import { Notifier } from "../services/Notifier.js"
import { PipelineCatalog } from "../services/PipelineCatalog.js"
import { UsageError } from "./usage.js"

const noTargets: ReadonlyArray<string> = []

export const notifyOption = Options.text("notify").pipe(
  Options.withDescription(
    "When the run ends (cancelled by Ctrl-C or SIGTERM too), POST its run:summary event as JSON to this http(s) URL (repeatable, or a comma list; " +
      "default: $CODEX_ORCHESTRATOR_NOTIFY, then the notify list of codex.orchestrator.json). Each target is " +
      "tried up to 4 times; a failure is a warning and an entry in the summary's notifications, never a failed run"
  ),
  Options.withPseudoName("url"),
  Options.repeated,
  // Shown as optional in the usage line ([--notify url...]), as it is.
  Options.withDefault(noTargets)
)

/** EXEC-4: `--notify` first, then the environment, then the config file; each target once. */
export const notifyTargets = (flags: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const given = splitTargets(flags)
    if (flags.length > 0 && given.length === 0) return yield* new UsageError({ reason: "--notify requires a target URI." })
    const bad = given.find((target) => targetProblem(target) !== undefined)
    if (bad !== undefined) {
      return yield* new UsageError({
        reason: `--notify ${shownTarget(bad)} ${targetProblem(bad)}; give one like https://example.com/hook.`
      })
    }
    if (given.length > 0) return resolveTargets(given, [], [])
    const { targets } = yield* decodeSettings(notifySection)
    if (targets.length > 0) return resolveTargets([], targets, [])
    return resolveTargets([], [], yield* Effect.flatMap(PipelineCatalog, (catalog) => catalog.notifyTargets))
  })

/** The Notifier on Node's fetch, loaded on first use. */
const notifierLive = Layer.unwrapEffect(
  Effect.promise(async () => {
    const [FetchHttpClient, { NotifierLive }] = await Promise.all([
      import("@effect/platform/FetchHttpClient"),
      import("../layers/Notifier.js")
    ])
    return NotifierLive.pipe(Layer.provide(FetchHttpClient.layer))
  })
)

/** Posts the summary to the targets (none: nothing happens) and reports what arrived. */
export const deliverSummary = (targets: ReadonlyArray<string>, event: RunSummaryEvent): Effect.Effect<NotificationsReport> =>
  targets.length === 0
    ? Effect.succeed(noNotifications)
    : Effect.flatMap(Notifier, (notifier) => notifier.deliver(targets, event)).pipe(Effect.provide(notifierLive))

/**
 * The finished run's `run:summary` event after delivery: the event is posted with the targets it goes
 * to, and comes back with where it arrived and what failed (EXEC-3's `notifications`).
 */
export const deliveredSummary = (manifest: CliManifest, targets: ReadonlyArray<string>, exec?: ExecDetails) =>
  Effect.gen(function*() {
    const timestamp = yield* isoNow
    const report = yield* deliverSummary(targets, runSummaryEventOf(manifest, timestamp, { ...noNotifications, targets }, exec))
    return runSummaryEventOf(manifest, timestamp, report, exec)
  })

/** The targets of a delivery cut short by Ctrl-C or SIGTERM: none known to have arrived. */
const interruptedDelivery = (targets: ReadonlyArray<string>): NotificationsReport => ({
  targets,
  delivered: [],
  failures: targets.map((target) => ({
    target,
    error: "delivery interrupted (Ctrl-C or SIGTERM) before an answer came; it may not have arrived",
    attempts: 1
  }))
})

/**
 * `deliveredSummary`, then `use` (the printing) of it. Interrupted while delivering (Ctrl-C during a
 * target that does not answer, up to 45 s), `use` still gets the summary, its targets reported as not
 * delivered, before the command exits 130: the result of a finished run is never lost to a slow hook.
 */
export const withDeliveredSummary = <E, R>(
  manifest: CliManifest,
  targets: ReadonlyArray<string>,
  exec: ExecDetails | undefined,
  use: (summary: RunSummaryEvent) => Effect.Effect<void, E, R>
) =>
  Effect.gen(function*() {
    const interrupted = runSummaryEventOf(manifest, yield* isoNow, interruptedDelivery(targets), exec)
    const summary = yield* deliveredSummary(manifest, targets, exec).pipe(
      Effect.onInterrupt(() => Effect.catchAllCause(use(interrupted), () => Effect.void))
    )
    return yield* use(summary)
  })
