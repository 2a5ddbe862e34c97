/**
 * Building the v2 run request for a run (SPEC CP-2, CP-3): the task, the pipeline's capabilities and
 * fan-out, the instance bounds of its TF-GRPO group (after the CP-6 guardrails) and the run's paths.
 */
import { Either } from "effect"
import type { PipelineDefinition } from "./Pipeline.js"
import {
  type FanOutEntry,
  type RunRequestStage,
  runRequestSchemaId,
  runRequestSchemaVersion,
  type RunRequestV2
} from "./RunRequest.js"
import {
  type GroupGuardrailError,
  type GroupSettings,
  GroupSizeExceedsCapacity,
  GroupSizeTooSmall,
  resolveGroupSize,
  tfgrpoRequestOf
} from "./TfgrpoGroup.js"

/** What the request says about the task. Optional fields that are undefined are left out (D-16). */
export interface RunRequestTask {
  readonly id: string
  readonly slug?: string | undefined
  readonly title: string
  readonly description?: string | undefined
  readonly metadata?: Readonly<Record<string, unknown>> | undefined
}

export interface RunRequestInput {
  readonly task: RunRequestTask
  readonly pipeline: PipelineDefinition
  readonly group: GroupSettings
  /** The manifest's `tfgrpo.group_size`, when it has one (CP-3). */
  readonly manifestGroupSize?: number | null | undefined
  readonly runId: string
  /** Repo-relative paths of the run folder and the roots. */
  readonly paths: { readonly artifactRoot: string; readonly runsRoot: string; readonly outRoot: string }
  readonly requestedAt: string
}

/** CP-2: the pipeline's tags (without repeats), or `general`. */
export const capabilitiesOf = (pipeline: PipelineDefinition): ReadonlyArray<string> =>
  pipeline.tags !== undefined && pipeline.tags.length > 0 ? [...new Set(pipeline.tags)] : ["general"]

/** CP-2: `general` runs two at a time, every other capability one. */
export const fanOutOf = (capabilities: ReadonlyArray<string>): ReadonlyArray<FanOutEntry> =>
  capabilities.map((capability) => ({ capability, weight: 1, maxConcurrency: capability === "general" ? 2 : 1 }))

/** CP-2: the number of slots a fan-out offers, Σ max(1, maxConcurrency). */
export const fanOutCapacity = (fanOut: ReadonlyArray<FanOutEntry>): number =>
  fanOut.reduce((sum, entry) => sum + Math.max(1, entry.maxConcurrency ?? 1), 0)

/** CP-3: min/max instances for a group size (after the CP-6 guardrails) or without one. */
export const instanceBounds = (
  fanOut: ReadonlyArray<FanOutEntry>,
  groupSize: number | undefined
): { readonly minInstances: number; readonly maxInstances: number } => {
  const capacity = fanOutCapacity(fanOut)
  return groupSize === undefined
    ? { minInstances: 1, maxInstances: Math.max(1, Math.min(fanOut.length, capacity)) }
    : { minInstances: groupSize, maxInstances: Math.min(capacity, groupSize) }
}

/** CP-6 / GRP-4: a group size must be at least 2 and fit the fan-out capacity. */
export const checkGroupSize = (groupSize: number | undefined, capacity: number): GroupGuardrailError | undefined =>
  groupSize === undefined
    ? undefined
    : groupSize < 2
    ? new GroupSizeTooSmall({ groupSize })
    : groupSize > capacity
    ? new GroupSizeExceedsCapacity({ groupSize, capacity })
    : undefined

const stageOf = (stage: PipelineDefinition["stages"][number]): RunRequestStage => {
  if (stage.kind === "subpipeline") {
    return { id: stage.id, kind: "subpipeline", title: stage.title, optional: stage.optional ?? false }
  }
  const sessionId = stage.session?.id
  return {
    id: stage.id,
    kind: "command",
    title: stage.title,
    optional: stage.allowFailure ?? false,
    ...(sessionId === undefined ? {} : { capabilities: [`session:${sessionId}`] })
  }
}

/** A repo-relative path; the repository root itself is `.` (a non-empty string, CP-4). */
const relativeOrDot = (path: string) => (path.length === 0 ? "." : path)

/**
 * CP-2: the v2 run request for a run, with absent optional task fields omitted (D-16), or the CP-6
 * guardrail the TF-GRPO group size violates.
 */
export const buildRunRequest = (input: RunRequestInput): Either.Either<RunRequestV2, GroupGuardrailError> => {
  const { group, pipeline, task } = input
  const capabilities = capabilitiesOf(pipeline)
  const fanOut = fanOutOf(capabilities)
  const groupSize = resolveGroupSize(group, input.manifestGroupSize)
  const violation = checkGroupSize(groupSize, fanOutCapacity(fanOut))
  if (violation !== undefined) return Either.left(violation)
  const tfgrpo = tfgrpoRequestOf(group, groupSize)
  return Either.right({
    schema: runRequestSchemaId,
    version: runRequestSchemaVersion,
    requestId: input.runId,
    task: {
      id: task.id,
      ...(task.slug === undefined ? {} : { slug: task.slug }),
      title: task.title,
      ...(task.description === undefined ? {} : { description: task.description }),
      ...(task.metadata === undefined ? {} : { metadata: task.metadata }),
      tags: capabilities
    },
    pipeline: {
      id: pipeline.id,
      version: "1.0.0",
      title: pipeline.title,
      capabilities,
      stages: pipeline.stages.map(stageOf)
    },
    schedule: {
      strategy: "auto",
      ...instanceBounds(fanOut, groupSize),
      fanOut,
      recovery: { heartbeatIntervalSeconds: 30, missingHeartbeatTimeoutSeconds: 120, maxRetries: 3 }
    },
    streaming: { handles: true, resumeSupported: true, observers: { maxSubscribers: 8, defaultBackpressureMs: 250 } },
    constraints: { privacyLevel: "standard", policyVersion: "2025-10-01" },
    metrics: { emitIntervalSeconds: 30, requiredDimensions: ["instanceId", "phase", "status"] },
    requestedAt: input.requestedAt,
    requestedBy: { actorId: "codex-cli", channel: "cli", name: "Codex CLI" },
    metadata: {
      artifactRoot: relativeOrDot(input.paths.artifactRoot),
      runsRoot: relativeOrDot(input.paths.runsRoot),
      outRoot: relativeOrDot(input.paths.outRoot),
      pipelineId: pipeline.id,
      taskSlug: task.slug ?? task.id,
      ...(tfgrpo === undefined ? {} : { tfgrpo })
    }
  })
}
