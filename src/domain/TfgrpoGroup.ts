/**
 * TF-GRPO group settings (SPEC CP-3, CP-6, CP-7; GRP-4): the settings a run is requested with, the
 * group size it resolves to, the `metadata.tfgrpo` it requests, and the guardrails a group size must
 * pass before a run starts.
 */
import { Schema } from "effect"
import type { TfgrpoRequest } from "./RunRequest.js"

/**
 * The TF-GRPO numbers a run is requested with, decoded from the environment (the `tfgrpo` section of
 * src/domain/Settings.ts). A number is undefined when its variable is unset or blank.
 */
export interface GroupNumbers {
  readonly groupSize: number | undefined
  readonly sampleSize: number | undefined
  readonly epochs: number | undefined
  readonly trainTemperature: number | undefined
  readonly evalTemperature: number | undefined
}

/** The TF-GRPO settings the control plane works with. */
export interface GroupSettings extends GroupNumbers {
  /** `FEATURE_TFGRPO_GROUP` truthy (ENV-6): group mode, with a group size of 2 unless one is given. */
  readonly enabled: boolean
}

export const noGroupNumbers: GroupNumbers = {
  groupSize: undefined,
  sampleSize: undefined,
  epochs: undefined,
  trainTemperature: undefined,
  evalTemperature: undefined
}

export const noGroupSettings: GroupSettings = { enabled: false, ...noGroupNumbers }

/**
 * A TF-GRPO setting that cannot be used. The environment's values are checked when the settings are
 * decoded (InvalidSetting); this is what an embedder's ControlPlane may fail `groupSettings` with.
 */
export class InvalidGroupSetting extends Schema.TaggedError<InvalidGroupSetting>()("InvalidGroupSetting", {
  variable: Schema.String,
  value: Schema.String,
  expected: Schema.String
}) {
  override get message() {
    return `${this.variable}=${JSON.stringify(this.value)} is not ${this.expected}. ` +
      `Set ${this.variable} to ${this.expected} or unset it.`
  }
}

/**
 * CP-3: `TFGRPO_GROUP_SIZE`, else the manifest's `tfgrpo.group_size` (> 0), else 2 when
 * `FEATURE_TFGRPO_GROUP` is on, else none.
 */
export const resolveGroupSize = (group: GroupSettings, manifestGroupSize?: number | null): number | undefined =>
  group.groupSize ??
    (manifestGroupSize !== undefined && manifestGroupSize !== null && manifestGroupSize > 0 ? manifestGroupSize : undefined) ??
    (group.enabled ? 2 : undefined)

/** CP-7 defaults. */
export const tfgrpoDefaults = { sampleSize: 100, epochs: 3, train: 0.7, eval: 0.3 } as const

/** CP-7: `metadata.tfgrpo` when a group size exists or any TF-GRPO number is set; else undefined. */
export const tfgrpoRequestOf = (group: GroupSettings, groupSize: number | undefined): TfgrpoRequest | undefined => {
  const anySet = [group.sampleSize, group.epochs, group.trainTemperature, group.evalTemperature].some((v) => v !== undefined)
  if (groupSize === undefined && !anySet) return undefined
  return {
    sampleSize: group.sampleSize ?? tfgrpoDefaults.sampleSize,
    epochs: group.epochs ?? tfgrpoDefaults.epochs,
    temperature: {
      train: group.trainTemperature ?? tfgrpoDefaults.train,
      eval: group.evalTemperature ?? tfgrpoDefaults.eval
    },
    ...(groupSize === undefined ? {} : { groupSize })
  }
}

/** CP-6: a TF-GRPO group needs at least two members. */
export class GroupSizeTooSmall extends Schema.TaggedError<GroupSizeTooSmall>()("GroupSizeTooSmall", {
  groupSize: Schema.Number
}) {
  /** The original's log line, word for word. */
  get logLine() {
    return `[control-plane.guard] TF-GRPO groupSize ${this.groupSize} violates guardrail (must be ≥ 2). ` +
      "Set TFGRPO_GROUP_SIZE>=2 or disable FEATURE_TFGRPO_GROUP."
  }
  override get message() {
    return `TF-GRPO groupSize guardrail violated (expected ≥ 2): groupSize is ${this.groupSize}. ` +
      "Set TFGRPO_GROUP_SIZE>=2 or disable FEATURE_TFGRPO_GROUP."
  }
}

/** CP-6: a TF-GRPO group cannot be larger than the fan-out slots of the pipeline. */
export class GroupSizeExceedsCapacity extends Schema.TaggedError<GroupSizeExceedsCapacity>()("GroupSizeExceedsCapacity", {
  groupSize: Schema.Number,
  capacity: Schema.Number
}) {
  /** The original's log line, word for word. */
  get logLine() {
    return `[control-plane.guard] TF-GRPO groupSize ${this.groupSize} exceeds available fan-out capacity (${this.capacity}). ` +
      "Increase pipeline fan-out or lower TFGRPO_GROUP_SIZE."
  }
  override get message() {
    return `TF-GRPO groupSize exceeds available scheduling capacity: groupSize ${this.groupSize} > fan-out capacity ${this.capacity}. ` +
      "Increase pipeline fan-out (add pipeline tags) or lower TFGRPO_GROUP_SIZE."
  }
}

export type GroupGuardrailError = GroupSizeTooSmall | GroupSizeExceedsCapacity
