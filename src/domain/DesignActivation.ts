/**
 * Which design pipeline runs when `start` names none (SPEC DES-2, CFG-9, CFG-10). Pure: the
 * environment's values and what the design config says are passed in.
 */
import { isTruthy } from "./Env.js"

export const toolkitPipelineId = "hi-fi-design-toolkit"
export const referencePipelineId = "design-reference"

/** DES-2's variables as given; empty counts as unset (DECISIONS D-3). */
export interface DesignEnvironment {
  readonly toolkit: string | undefined
  readonly pipeline: string | undefined
  readonly referencePipeline: string | undefined
}

/** What the design config says, when there is one. */
export interface DesignConfigFacts {
  readonly toolkitEnabled: boolean
  readonly sourceCount: number
  readonly referenceEnabled: boolean
}

/** DES-2: truthy is ENV-6's, plus `enabled`. */
export const isDesignTruthy = (value: string): boolean => isTruthy(value) || value.trim().toLowerCase() === "enabled"

const given = (value: string | undefined): value is string => value !== undefined && value.length > 0

/** Whether the config is needed to decide: only when none of the three variables is set. */
export const needsDesignConfig = (env: DesignEnvironment): boolean =>
  !given(env.toolkit) && !given(env.pipeline) && !given(env.referencePipeline)

/**
 * DES-2: the first variable that is set decides (active iff truthy); without any, the toolkit when
 * it is enabled with a source, else `design-reference` when `metadata.design.enabled`, else none.
 */
export const activeDesignPipeline = (env: DesignEnvironment, config: DesignConfigFacts | undefined): string | undefined => {
  if (given(env.toolkit)) return isDesignTruthy(env.toolkit) ? toolkitPipelineId : undefined
  if (given(env.pipeline)) return isDesignTruthy(env.pipeline) ? referencePipelineId : undefined
  if (given(env.referencePipeline)) return isDesignTruthy(env.referencePipeline) ? referencePipelineId : undefined
  if (config === undefined) return undefined
  if (config.toolkitEnabled && config.sourceCount > 0) return toolkitPipelineId
  return config.referenceEnabled ? referencePipelineId : undefined
}
