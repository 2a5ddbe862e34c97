import { Context, type Effect, type Ref } from "effect"
import type { ControlPlaneValidationFailed } from "../domain/ControlPlane.js"
import type { GroupGuardrailError, GroupSettings } from "../domain/TfgrpoGroup.js"
import type { FileAccessError } from "../domain/FileErrors.js"
import type { TaskId } from "../domain/Ids.js"
import type { PipelineCatalogData, PipelineDefinition } from "../domain/Pipeline.js"
import type { PlanResult } from "../domain/Plan.js"
import type { PromptPackEntry } from "../domain/PromptPacks.js"
import type { SchedulerError } from "../domain/Scheduler.js"
import type { TfgrpoContext } from "../domain/Tfgrpo.js"
import type { ResolvedInstructions } from "./Instructions.js"
import type { RunFiles } from "./RunStore.js"

/** B-2: how the stages of a run (and its nested runs) are scheduled, as `start`/`resume` were asked. */
export interface RunSchedule {
  /** `--concurrency`: wins over the pipeline's `concurrency`. */
  readonly concurrency?: number | undefined
  /** `--fail-fast`: true wins over the pipeline's `failFast`. */
  readonly failFast?: boolean | undefined
}

/** Everything a run is created from, resolved before anything is written (D-1). */
export interface RunInput {
  readonly taskId: TaskId
  readonly pipeline: PipelineDefinition
  readonly plan: PlanResult
  readonly catalog: PipelineCatalogData
  readonly parentRunId: string | null
  /** RUN-7: a child run's, the parent's nested stage that makes it (recorded as `parent_stage_id`). */
  readonly parentStageId?: string | undefined
  readonly approvalPolicy: string | null
  /** CFG-12: from tasks/index.json, else the task id. */
  readonly taskSlug: string
  readonly taskTitle: string
  /** Resolved once when the run is prepared; nested runs record the same (INS-3). */
  readonly instructions: ResolvedInstructions
  /** INS-4: loaded with the instructions; nested runs record the same. */
  readonly promptPacks: ReadonlyArray<PromptPackEntry>
  /** CP-3: the TF-GRPO settings the request is built with. */
  readonly group: GroupSettings
  /** TFG-1: the run's TF-GRPO context; undefined when TF-GRPO is off. Nested runs record the same. */
  readonly tfgrpo: TfgrpoContext | undefined
  /** B-2: the scheduling flags; nested runs share them. */
  readonly schedule?: RunSchedule | undefined
}

/** The owner record's list of running stages' process groups (D-7; a graph runs several at once). */
export interface StageGroups {
  /** Adds a running stage's group to the record, and writes it. */
  readonly record: (pid: number) => Effect.Effect<void, FileAccessError>
  /** Its stage's process ended: the group is left out of the record's next write (none is made for it). */
  readonly forget: (pid: number) => Effect.Effect<void>
}

/**
 * A run this process owns and may execute: its files, what it was created from, and what executing
 * it collects for completing it. Internal to the engine's phases; embedders hold a RunHandle.
 */
export interface ActiveRun {
  readonly files: RunFiles
  readonly input: RunInput
  /** `--target`: only this stage runs. */
  readonly target: string | undefined
  /** D-4: a new run records the stages that are not targeted as skipped; a resumed one keeps them. */
  readonly markUntargeted: boolean
  /** The process groups of the stages running, in the owner record, for a takeover after a crash. */
  readonly stageGroups: StageGroups
  /** TFG-3: the first stdout lines of each command stage this process ran, by stage position. */
  readonly stdoutHeads: Ref.Ref<ReadonlyMap<number, ReadonlyArray<string>>>
}

/** Why a prepared run may not start after all: the control plane refused it, or its group does not fit. */
export type AdmissionError = ControlPlaneValidationFailed | GroupGuardrailError | SchedulerError

/**
 * The first phase's writing half (SPEC RUN-1 bootstrap, LAY-2, CP-4, SCH-4): creates a run's folder
 * and `queued` manifest, records this process as its owner, and admits it (control-plane validation,
 * scheduler plan). Used for the runs a user starts and for the child runs of nested stages (RUN-7).
 */
export class RunBootstrap extends Context.Tag("orchestrator/RunBootstrap")<
  RunBootstrap,
  {
    readonly create: (input: RunInput) => Effect.Effect<ActiveRun, AdmissionError | FileAccessError>
    /** A reopened run (RUN-9): this process becomes its owner and the run is admitted again. */
    readonly adopt: (
      files: RunFiles,
      input: RunInput,
      target: string | undefined
    ) => Effect.Effect<ActiveRun, AdmissionError | FileAccessError>
    /** TF-GRPO around a run (TFG-4): each prompt pack with its domain's top experiences. */
    readonly attachExperiences: (
      taskId: string,
      packs: ReadonlyArray<PromptPackEntry>
    ) => Effect.Effect<ReadonlyArray<PromptPackEntry>>
  }
>() {}
