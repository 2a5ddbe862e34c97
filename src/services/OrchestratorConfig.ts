import { Context, type Duration } from "effect"
import type { GroupSettings } from "../domain/TfgrpoGroup.js"
import type { BaseSettings } from "./BaseConfig.js"

/**
 * The settings of the commands that plan or run pipelines: the base settings plus the `engine` and
 * `tfgrpo` sections (src/domain/Settings.ts), decoded once by OrchestratorConfigLive. Everything else
 * depends on this typed value, so tests build it directly (OrchestratorConfigTest).
 */
export interface OrchestratorSettings extends BaseSettings {
  /** `CODEX_ORCHESTRATOR_TARGET_STAGE` (CLI-10). */
  readonly envTargetStage: string | undefined
  /**
   * How long a finished `start`/`resume` waits for event subscribers (task-state snapshot, cloud
   * upload) before it returns anyway with a warning.
   */
  readonly subscriberGrace: Duration.Duration
  /** LOG-1: `CODEX_ORCHESTRATOR_EMIT_COMMAND_STREAMS`; each output chunk's text again as a `command:stdout|stderr` line. */
  readonly emitCommandStreams: boolean
  /** INS-5: `TFGRPO_EXPERIENCE_MAX_WORDS`, a whole number from 1 to 32 (default 32). */
  readonly experienceMaxWords: number
  /** GRP-1: `FEATURE_TFGRPO_GROUP`; with several runnable subtasks, the TaskManager processes them as a group. */
  readonly groupExecution: boolean
  /** TFG-1: `TFGRPO_EPOCH`, a positive integer, and `TFGRPO_GROUP_ID`; undefined when unset. */
  readonly tfgrpoEpoch: number | undefined
  readonly tfgrpoGroupId: string | undefined
  /** CP-3 / CP-7: the TF-GRPO numbers the control plane requests runs with (group mode is `groupExecution`). */
  readonly tfgrpoGroup: Omit<GroupSettings, "enabled">
}

/** OrchestratorSettings as a service; OrchestratorConfigLive decodes them from the environment. */
export class OrchestratorConfig extends Context.Tag("orchestrator/OrchestratorConfig")<
  OrchestratorConfig,
  OrchestratorSettings
>() {}
