/**
 * The execution records of a command stage that ran (SPEC EXE-6, RET-2, TFG-2): its handle (its exec
 * events as frames), its tool-run record, and its TF-GRPO tool metric.
 */
import type { CliManifest, HandleRecord, ToolRun } from "../../domain/Manifest.js"
import type { CommandStage } from "../../domain/Pipeline.js"
import { costUsdOf, type ToolMetric } from "../../domain/Tfgrpo.js"
import type { AttemptState } from "./stageAttempts.js"
import { exitOf } from "./stageAttempts.js"
import type { Finish } from "./stageOutcome.js"
import { iso } from "../../domain/Time.js"
import { attemptStatus } from "../../domain/StageSummary.js"

export interface StageRecordInput {
  readonly manifest: CliManifest
  readonly stage: CommandStage
  readonly index: number
  readonly cwd: string
  readonly ids: {
    readonly correlationId: string
    readonly sessionId: string
    readonly persisted: boolean
    readonly handleId: string
  }
  readonly approvalSource: string
  readonly createdAt: string
  readonly startedMs: number
  readonly finishedMs: number
}

export const stageRecordsOf = (input: StageRecordInput, finish: Finish, state: AttemptState) => {
  const { manifest, stage, ids } = input
  const { exitCode, signal } = exitOf(finish)
  const status = attemptStatus(exitCode, stage.skipExitCode)
  const handle: HandleRecord = {
    handle_id: ids.handleId,
    correlation_id: ids.correlationId,
    stage_id: stage.id,
    pipeline_id: manifest.pipeline_id,
    status: "closed",
    frame_count: state.frames,
    latest_sequence: state.frames,
    created_at: input.createdAt,
    metadata: { run_id: manifest.run_id }
  }
  const toolRun: ToolRun = {
    id: `cli-command:${manifest.run_id}:${stage.id}:${input.startedMs}`,
    tool: "cli:command",
    description: stage.title,
    approvalSource: input.approvalSource,
    retryCount: Math.max(0, state.attempts - 1),
    attemptCount: state.attempts,
    sandboxState: status === "failed" ? "failed" : "sandboxed",
    status,
    startedAt: iso(input.startedMs),
    completedAt: iso(input.finishedMs),
    metadata: {
      stageId: stage.id,
      pipelineId: manifest.pipeline_id,
      runId: manifest.run_id,
      commandIndex: input.index,
      exec: {
        command: stage.command,
        args: [],
        cwd: input.cwd,
        sessionId: ids.sessionId,
        persisted: ids.persisted,
        correlationId: ids.correlationId,
        handleId: ids.handleId,
        exitCode,
        signal
      }
    }
  }
  const observer = state.stdoutObserver
  const toolMetric: ToolMetric | undefined = observer === undefined ? undefined : {
    tool: stage.id,
    tokens: observer.tokens(),
    costUsd: costUsdOf(observer.tokens()),
    latencyMs: Math.max(0, input.finishedMs - input.startedMs),
    attempts: state.attempts,
    status: toolRun.status,
    sandboxState: toolRun.sandboxState
  }
  return { handle, toolRun, toolMetric }
}
