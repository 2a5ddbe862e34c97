import { Context, type Duration } from "effect"
import type { PrivacyMode } from "../domain/Privacy.js"
import type { Roots } from "../domain/RunLayout.js"

/**
 * What every command needs, `status` included: where runs are, the task from the environment, and
 * how run files are written. Decoded from the `paths` and `runs` sections (src/domain/Settings.ts),
 * which cannot fail on an engine setting, so reading a run never does either.
 */
export interface BaseSettings {
  readonly roots: Roots
  /** `MCP_RUNNER_TASK_ID` as given; empty counts as unset (DECISIONS D-3). Validated where it is used. */
  readonly envTaskId: string | undefined
  /** RUN-8: 5 s in the manifest; shorter only in tests. */
  readonly heartbeatInterval: Duration.Duration
  readonly heartbeatStaleAfter: Duration.Duration
  /** PRIV-1 / D-13: `enforce` redacts secrets from everything written; `shadow` only records them. */
  readonly privacyMode: PrivacyMode
}

export class BaseConfig extends Context.Tag("orchestrator/BaseConfig")<BaseConfig, BaseSettings>() {}
