/**
 * The `process` section of the settings (see Settings.ts, which re-exports it: import it from
 * there): how the processes of stages are run. Apart only to keep Settings.ts a readable size.
 */
import { Config, Duration } from "effect"
import { nonNegativeNumber, parsedOr } from "./SettingsKinds.js"

/** EXE-7: how long a stage's output may stay open once its shell has exited, unless set. */
export const defaultOutputGrace = Duration.seconds(2)

/**
 * `process`: `CODEX_ORCHESTRATOR_OUTPUT_GRACE_SECONDS`, a number ≥ 0 (default 2), how long the
 * output of a stage is still read once its shell has exited, before the background processes still
 * holding it are stopped (EXE-7; 0 stops them at once). Decoded by ProcessRunnerLive, so a bad value
 * stops the commands that run stages and tools (exit 2); the review gate's commands (`guard`,
 * `review`, `doctor`) keep the default, and `doctor` reports the bad value.
 */
export const processSection = Config.all({
  outputGrace: Config.map(
    parsedOr("CODEX_ORCHESTRATOR_OUTPUT_GRACE_SECONDS", nonNegativeNumber, Duration.toSeconds(defaultOutputGrace)),
    (seconds) => Duration.millis(Math.round(seconds * 1000))
  )
})
export type ProcessSection = Config.Config.Success<typeof processSection>
