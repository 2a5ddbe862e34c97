import { Context, type Effect } from "effect"
import type { FileAccessError, InvalidFile } from "../domain/FileErrors.js"
import type { InvalidId } from "../domain/Ids.js"
import type { CliManifest } from "../domain/Manifest.js"
import type { PipelineCycle, PipelineDefinition, PipelineNotFound, PipelineSource } from "../domain/Pipeline.js"
import type { PlanResult, UnknownTarget } from "../domain/Plan.js"
import type { RunLayout } from "../domain/RunLayout.js"

export interface PlanRequest {
  /** A pipeline id; without one, `defaultPipeline` then `diagnostics` (CFG-9). */
  readonly pipelineId?: string | undefined
  /** `--task`; overrides `MCP_RUNNER_TASK_ID` (ENV-4). */
  readonly taskId?: string | undefined
  /** `--target`; falls back to `CODEX_ORCHESTRATOR_TARGET_STAGE` (CLI-10). */
  readonly target?: string | undefined
}

export interface StartRequest extends PlanRequest {
  readonly parentRunId?: string | undefined
  readonly approvalPolicy?: string | undefined
}

export interface PlanView {
  readonly taskId: string
  readonly pipeline: PipelineDefinition
  readonly source: PipelineSource
  readonly plan: PlanResult
}

export interface RunOutcome {
  readonly manifest: CliManifest
  readonly layout: RunLayout
}

/** Input the user can fix; nothing is written for a run that fails with one of these (DECISIONS D-1). */
export type BadInput = InvalidId | InvalidFile | PipelineNotFound | PipelineCycle | UnknownTarget

/**
 * Plans and runs pipelines (SPEC RUN-1, RUN-3..7). `start` resolves everything before it creates
 * the run folder, so bad input leaves nothing behind; once the run exists, stage failures end in
 * the manifest (`failed`), not in the error channel. Only I/O failures of our own files escape.
 */
export class RunEngine extends Context.Tag("orchestrator/RunEngine")<
  RunEngine,
  {
    readonly plan: (request: PlanRequest) => Effect.Effect<PlanView, BadInput | FileAccessError>
    readonly start: (request: StartRequest) => Effect.Effect<RunOutcome, BadInput | FileAccessError>
  }
>() {}
