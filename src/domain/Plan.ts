/**
 * The command planner (SPEC PLN-1..3) as pure functions: one plan item per stage, and the rules
 * that turn `--target` into a stage. Unlike the original, an unknown target is an error (DECISIONS D-4).
 */
import { Schema } from "effect"
import type { PipelineDefinition, Stage } from "./Pipeline.js"

/** One plan item per stage (PLN-1): its id `<pipelineId>:<stageId>`, description, whether it needs the cloud and can run, and its stage. */
export const PlanItem = Schema.Struct({
  id: Schema.String,
  description: Schema.String,
  requires_cloud: Schema.Boolean,
  runnable: Schema.Boolean,
  metadata: Schema.Struct({
    pipelineId: Schema.String,
    stageId: Schema.String,
    stageKind: Schema.Literal("command", "subpipeline"),
    index: Schema.Int,
    aliases: Schema.optional(Schema.Array(Schema.String)),
    defaultTarget: Schema.optional(Schema.Boolean),
    executionMode: Schema.optional(Schema.String),
    requiresCloud: Schema.Boolean
  }),
  selected: Schema.optional(Schema.Boolean)
})
export type PlanItem = typeof PlanItem.Type

/** A run's plan: its items, optional notes, and the id of the target item (null when the plan has no items). */
export const PlanResult = Schema.Struct({
  items: Schema.Array(PlanItem),
  notes: Schema.optional(Schema.String),
  targetId: Schema.NullOr(Schema.String)
})
export type PlanResult = typeof PlanResult.Type

/** A `--target` that matches no stage of the pipeline (D-4); the message lists the valid stage ids. */
export class UnknownTarget extends Schema.TaggedError<UnknownTarget>()("UnknownTarget", {
  target: Schema.String,
  pipelineId: Schema.String,
  valid: Schema.Array(Schema.String)
}) {
  override get message() {
    return `Unknown target stage '${this.target}' for pipeline '${this.pipelineId}'. Valid stage ids: ${
      this.valid.length > 0 ? this.valid.join(", ") : "(the pipeline has no stages)"
    }.`
  }
}

/** PLN-2: the stage's mode, already normalised from the config's spellings when it was decoded (D-23). */
const requiresCloudOf = (stage: Stage): boolean => stage.executionMode === "cloud"

const defaultTargetOf = (stage: Stage): boolean | undefined =>
  stage.plan?.defaultTarget ?? stage.plan?.default ?? stage.plan?.primary

const toItem = (pipeline: PipelineDefinition, stage: Stage, index: number): PlanItem => {
  const aliases = stage.plan?.aliases
  const defaultTarget = defaultTargetOf(stage)
  const executionMode = stage.executionMode
  const requiresCloud = requiresCloudOf(stage)
  return {
    id: `${pipeline.id}:${stage.id}`,
    description: stage.title,
    requires_cloud: requiresCloud,
    runnable: stage.plan?.runnable ?? true,
    metadata: {
      pipelineId: pipeline.id,
      stageId: stage.id,
      stageKind: stage.kind,
      index,
      ...(aliases === undefined ? {} : { aliases }),
      ...(defaultTarget === undefined ? {} : { defaultTarget }),
      ...(executionMode === undefined ? {} : { executionMode }),
      requiresCloud
    }
  }
}

/** PLN-3: the exact item id, else the part after the last `:` against stage ids and aliases, case-insensitive. */
export const matchTarget = (items: ReadonlyArray<PlanItem>, target: string): PlanItem | undefined => {
  const exact = items.find((item) => item.id === target)
  if (exact !== undefined) return exact
  const matches = (wanted: string) => (item: PlanItem) =>
    item.metadata.stageId.toLowerCase() === wanted
    || (item.metadata.aliases ?? []).some((alias) => alias.toLowerCase() === wanted)
  // A stage id may itself contain `:` (db:migrate), so the whole target is tried before its last part.
  const whole = items.find(matches(target.toLowerCase()))
  if (whole !== undefined) return whole
  const wanted = target.slice(target.lastIndexOf(":") + 1).toLowerCase()
  return items.find((item) =>
    item.metadata.stageId.toLowerCase() === wanted
    || (item.metadata.aliases ?? []).some((alias) => alias.toLowerCase() === wanted)
  )
}

/**
 * PLN-1..3 with D-4: builds the plan; a given target must match a stage, and is the plan's `targetId`
 * and the only `selected` item. Without a target: the first default-target item, else the first
 * runnable, else the first item.
 */
export const buildPlan = (pipeline: PipelineDefinition, target: string | undefined): PlanResult | UnknownTarget => {
  const items = pipeline.stages.map((stage, index) => toItem(pipeline, stage, index))
  const notes = pipeline.description === undefined ? {} : { notes: pipeline.description }
  if (target !== undefined) {
    const chosen = matchTarget(items, target)
    if (chosen === undefined) {
      return new UnknownTarget({ target, pipelineId: pipeline.id, valid: pipeline.stages.map((s) => s.id) })
    }
    return {
      items: items.map((item) => (item === chosen ? { ...item, selected: true } : item)),
      ...notes,
      targetId: chosen.id
    }
  }
  const fallback = items.find((item) => item.metadata.defaultTarget === true)
    ?? items.find((item) => item.runnable)
    ?? items[0]
  return { items, ...notes, targetId: fallback?.id ?? null }
}

/** The stage id a plan's explicit target points at, when `--target` was given. */
export const targetedStageId = (plan: PlanResult): string | undefined =>
  plan.items.find((item) => item.selected === true)?.metadata.stageId
