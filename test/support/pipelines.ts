/** Pipeline builders for engine tests: stages get their id as title unless one is given. */
import type { CommandStage, PipelineDefinition, Stage, SubpipelineStage } from "../../src/domain/Pipeline.js"

export const commandStage = (
  id: string,
  command: string,
  options: Omit<Partial<CommandStage>, "kind" | "id" | "command"> = {}
): CommandStage => ({ kind: "command", id, title: id, command, ...options })

export const nestedStage = (
  id: string,
  pipeline: string,
  options: Omit<Partial<SubpipelineStage>, "kind" | "id" | "pipeline"> = {}
): SubpipelineStage => ({ kind: "subpipeline", id, title: id, pipeline, ...options })

export const pipeline = (
  id: string,
  stages: ReadonlyArray<Stage>,
  options: Omit<Partial<PipelineDefinition>, "id" | "stages"> = {}
): PipelineDefinition => ({ id, title: `Pipeline ${id}`, stages, ...options })

/** `1970-01-01T00:00:<s>Z` for a TestClock time in milliseconds. */
export const at = (ms: number) => new Date(ms).toISOString()
