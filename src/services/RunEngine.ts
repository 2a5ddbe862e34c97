import { Context, type Duration, type Effect, type Stream } from "effect"
import type { ApprovalPolicy } from "../domain/Approval.js"
import type { CloudSyncRecord } from "../domain/CloudSyncRecord.js"
import type { GroupSizeExceedsCapacity, GroupSizeTooSmall, InvalidGroupSetting } from "../domain/TfgrpoGroup.js"
import type { ExecutionMode } from "../domain/ExecutionMode.js"
import type { SchedulerInsufficientSlots, SchedulerMinExceedsMax } from "../domain/Scheduler.js"
import type { FileAccessError, InvalidFile } from "../domain/FileErrors.js"
import type { InvalidId } from "../domain/Ids.js"
import type { InstructionStampMismatch } from "../domain/Instructions.js"
import type { CliManifest, RunOwner, StatusManifest } from "../domain/Manifest.js"
import type { ExperienceWordLimitInvalid, PromptPackStampMismatch } from "../domain/PromptPacks.js"
import type { ExecRunNotResumable, PipelineChanged, ResumeInProgress, ResumeTokenMismatch, RunNotFound, RunStillActive } from "../domain/RunErrors.js"
import type { PipelineCycle, PipelineDefinition, PipelineNotFound, PipelineSource } from "../domain/Pipeline.js"
import type { PlanResult, UnknownTarget } from "../domain/Plan.js"
import type { RunLayout } from "../domain/RunLayout.js"
import type { TargetExcludesNeeds } from "../domain/StageGraph.js"

/** What to plan: the pipeline, the task and the target, each optional. */
export interface PlanRequest {
  /** A pipeline id; without one, `defaultPipeline` then `diagnostics` (CFG-9). */
  readonly pipelineId?: string | undefined
  /**
   * A pipeline given whole instead of by id (`exec`'s one-stage pipeline, EXEC-2); `pipelineId` is
   * ignored then. Its nested stages still name catalog pipelines.
   */
  readonly pipeline?: PipelineDefinition | undefined
  /** `--task`; overrides `MCP_RUNNER_TASK_ID` (ENV-4). */
  readonly taskId?: string | undefined
  /** `--target`; falls back to `CODEX_ORCHESTRATOR_TARGET_STAGE` (CLI-10). */
  readonly target?: string | undefined
}

/** What to start: a plan request plus the run's parent, approval policy, execution mode and prompt. */
export interface StartRequest extends PlanRequest {
  readonly parentRunId?: string | undefined
  /** D-14 / D-21: who approves stages marked `approvalRequired` (default `on-request`). */
  readonly approvalPolicy?: ApprovalPolicy | undefined
  /** `--execution-mode` / `--cloud`: one mode for the run instead of the mode policy's choice (MODE-1). */
  readonly executionMode?: ExecutionMode | undefined
  /**
   * What the run was asked to do (`--prompt-file`), kept as `prompt.md` in the run folder. The learning
   * pipeline replays a command it shows when the run itself has no successful command (LRN-5).
   */
  readonly prompt?: string | undefined
  /** B-2 `--concurrency`: at most this many stages at once, across nested runs too. */
  readonly concurrency?: number | undefined
  /** B-2 `--fail-fast`: the first failed stage cancels the running ones. */
  readonly failFast?: boolean | undefined
  /** B-5 `--no-cache`: false runs every stage, neither reading nor filling the stage cache. */
  readonly cache?: boolean | undefined
}

/** Names an existing run: its id, under `--task` or the environment's task. */
export interface RunRequest {
  readonly runId: string
  readonly taskId?: string | undefined
}

/** Which run to resume and how (RUN-9, D-7): its token, who resumes and why, a stage to re-run, a new policy or mode. */
export interface ResumeRequest extends RunRequest {
  /** Must equal the manifest's resume_token when given (D-7). */
  readonly token?: string | undefined
  readonly actor?: string | undefined
  readonly reason?: string | undefined
  /** Re-run only this stage, whatever its status. */
  readonly target?: string | undefined
  /** Replaces the run's recorded approval policy from now on (D-14). */
  readonly approvalPolicy?: ApprovalPolicy | undefined
  readonly executionMode?: ExecutionMode | undefined
  /** B-2, as for start. */
  readonly concurrency?: number | undefined
  readonly failFast?: boolean | undefined
  /** B-5, as for start. */
  readonly cache?: boolean | undefined
}

/** What `status` reads of a run: its manifest, paths, staleness (D-9), owner and cloud upload. */
export interface StatusView {
  /** The part of the manifest status reads; the whole manifest is RunStore's `read(layout)`. */
  readonly manifest: StatusManifest
  readonly layout: RunLayout
  /** D-9: not finished, and the heartbeat is older than heartbeat_stale_after_seconds. */
  readonly stale: boolean
  readonly owner: RunOwner | undefined
  /** The run's cloud upload (`cloud-sync.json`), when there was one. */
  readonly cloudSync?: CloudSyncRecord | undefined
}

/** What `plan` returns: the task, the resolved pipeline and where it came from, and the plan. */
export interface PlanView {
  readonly taskId: string
  readonly pipeline: PipelineDefinition
  readonly source: PipelineSource
  readonly plan: PlanResult
}

/** A run after `start` or `resume`: its manifest as last written, and its paths. */
export interface RunOutcome {
  readonly manifest: CliManifest
  readonly layout: RunLayout
  /** `resume` only: true when the run had already succeeded and was left as it is (nothing ran, nothing written; RUN-9). */
  readonly alreadySucceeded?: boolean | undefined
}

/** Input the user can fix; nothing is written for a run that fails with one of these (DECISIONS D-1). */
export type BadInput =
  | InvalidId
  | InvalidFile
  | PipelineNotFound
  | PipelineCycle
  | UnknownTarget
  | TargetExcludesNeeds
  | RunNotFound
  | ResumeTokenMismatch
  | RunStillActive
  | ResumeInProgress
  | PipelineChanged
  | ExecRunNotResumable
  | InstructionStampMismatch
  | PromptPackStampMismatch
  | ExperienceWordLimitInvalid
  | InvalidGroupSetting
  | GroupSizeTooSmall
  | GroupSizeExceedsCapacity
  | SchedulerMinExceedsMax
  | SchedulerInsufficientSlots

/**
 * Every tag of BadInput, as a record the compiler checks against the union: a tag missing here or
 * one that is not in BadInput fails the type check, so the exit codes cannot drift from the type.
 * (A record of tags rather than the classes themselves keeps this contract free of their modules.)
 */
const badInputTagRecord: { readonly [Tag in BadInput["_tag"]]: true } = {
  InvalidId: true,
  InvalidFile: true,
  PipelineNotFound: true,
  PipelineCycle: true,
  UnknownTarget: true,
  TargetExcludesNeeds: true,
  RunNotFound: true,
  ResumeTokenMismatch: true,
  RunStillActive: true,
  ResumeInProgress: true,
  PipelineChanged: true,
  ExecRunNotResumable: true,
  InstructionStampMismatch: true,
  PromptPackStampMismatch: true,
  ExperienceWordLimitInvalid: true,
  InvalidGroupSetting: true,
  GroupSizeTooSmall: true,
  GroupSizeExceedsCapacity: true,
  SchedulerMinExceedsMax: true,
  SchedulerInsufficientSlots: true
}

/** The tags of BadInput, for exit codes (D-1: 2). */
export const badInputTags: ReadonlySet<string> = new Set(Object.keys(badInputTagRecord))

/**
 * Plans and runs pipelines: the whole of SPEC RUN-1 (prepare, bootstrap, the TaskManager's plan →
 * build → test → review, run summary, metrics, `run:completed`). `start` resolves everything before
 * it creates the run folder, so bad input leaves nothing behind; once the run exists, stage failures
 * end in the manifest (`failed`), not in the error channel. Only I/O failures of our own files escape.
 * Returns once the subscribers of `run:completed` (persistence, cloud sync) are done.
 */
export class RunEngine extends Context.Tag("orchestrator/RunEngine")<
  RunEngine,
  {
    readonly plan: (request: PlanRequest) => Effect.Effect<PlanView, BadInput | FileAccessError>
    /** A run that enforce mode refuses (CP-4) is an outcome: its manifest is `failed`, `control-plane-validation-failed`. */
    readonly start: (request: StartRequest) => Effect.Effect<RunOutcome, BadInput | FileAccessError>
    /** Reads a run; never writes (CLI-7). */
    readonly status: (request: RunRequest) => Effect.Effect<StatusView, BadInput | FileAccessError>
    /** The run's status now, then again whenever it changes, until it is finished. */
    readonly watch: (request: RunRequest, interval: Duration.Duration) => Stream.Stream<StatusView, BadInput | FileAccessError>
    /**
     * RUN-9 with D-7: re-runs the stages that did not succeed, on the same run id. A run with a fresh
     * heartbeat and a live owner is refused; a crashed one is taken over.
     */
    readonly resume: (request: ResumeRequest) => Effect.Effect<RunOutcome, BadInput | FileAccessError>
  }
>() {}

/** The RunEngine's methods as a type, for code that implements or wraps the service. */
export type RunEngineService = Context.Tag.Service<RunEngine>
