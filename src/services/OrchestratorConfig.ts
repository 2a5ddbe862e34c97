import { Context, type Duration } from "effect"
import type { PrivacyMode } from "../domain/Privacy.js"
import type { Roots } from "../domain/RunLayout.js"

/**
 * The settings every command needs, read once from the environment by the one layer that reads
 * `Config` (SPEC ENV-1..6). Everything else depends on this typed value, so tests build it directly.
 */
export interface OrchestratorSettings {
  readonly roots: Roots
  /** `MCP_RUNNER_TASK_ID` as given; empty counts as unset (DECISIONS D-3). Validated where it is used. */
  readonly envTaskId: string | undefined
  /** `CODEX_ORCHESTRATOR_TARGET_STAGE` (CLI-10). */
  readonly envTargetStage: string | undefined
  /** RUN-8: 5 s in the manifest; shorter only in tests. */
  readonly heartbeatInterval: Duration.Duration
  readonly heartbeatStaleAfter: Duration.Duration
  /**
   * How long a finished `start`/`resume` waits for event subscribers (task-state snapshot, cloud
   * upload) before it returns anyway with a warning: 120 s covers an upload's three 30 s attempts.
   */
  readonly subscriberGrace: Duration.Duration
  /** PRIV-1 / D-13: `enforce` redacts secrets from everything written; `shadow` only records them. */
  readonly privacyMode: PrivacyMode
  /** `TFGRPO_EXPERIENCE_MAX_WORDS` as given; checked when prompt packs load (INS-5), so only runs fail on it. */
  readonly experienceMaxWords: string | undefined
  /** GRP-1: `FEATURE_TFGRPO_GROUP`; with several runnable subtasks, the TaskManager processes them as a group. */
  readonly groupExecution: boolean
  /**
   * TFG-1: `TFGRPO_EPOCH` and `TFGRPO_GROUP_ID` as given (`TFGRPO_GROUP_SIZE` is the control plane's,
   * CP-3). The epoch is checked when a run is prepared, so only runs fail on a bad value.
   */
  readonly tfgrpoEpoch: string | undefined
  readonly tfgrpoGroupId: string | undefined
}

export class OrchestratorConfig extends Context.Tag("orchestrator/OrchestratorConfig")<
  OrchestratorConfig,
  OrchestratorSettings
>() {}
