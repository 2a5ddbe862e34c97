/**
 * How a command stage ends up in the manifest (SPEC RUN-4..6, LOG-2, DECISIONS D-8, D-14): the entry's
 * status and summary, the error file of a failed stage, the privacy totals and execution records,
 * and whether the run goes on.
 */
import { Clock, Effect } from "effect"
import type { ApprovalDecision } from "../../domain/Approval.js"
import {
  appendSummary,
  type CliManifest,
  type CommandEntry,
  type HandleRecord,
  type PrivacyDecision,
  type PrivacySection,
  type ToolRun,
  truncateDetails
} from "../../domain/Manifest.js"
import { redact } from "../../domain/Privacy.js"
import { commandEntryStatus, commandSummary, recordedExitCode } from "../../domain/StageSummary.js"
import { type ToolMetric, withToolMetric } from "../../domain/Tfgrpo.js"
import type { CommandStage } from "../../domain/Pipeline.js"
import type { PrivacyMode } from "../../domain/Privacy.js"
import type { ProcessSpawnError } from "../../services/ProcessRunner.js"
import type { RunFiles } from "../../services/RunStore.js"

/** The stage whose outcome is recorded, in its run. */
export interface StageRef {
  readonly files: RunFiles
  readonly stage: CommandStage
  /** 1-based, as in the manifest and the file names. */
  readonly index: number
  readonly privacyMode: PrivacyMode
}

/** How the stage's last attempt ended, or why it never started. */
export type Finish =
  | { readonly _tag: "Exited"; readonly exitCode: number | null; readonly signal: string | null }
  | { readonly _tag: "SpawnFailed"; readonly error: ProcessSpawnError }
  | { readonly _tag: "TimedOut"; readonly timeoutMs: number }
  | { readonly _tag: "NotApproved"; readonly decision: ApprovalDecision }

export interface Recorded {
  readonly patchEntry: (patch: Partial<CommandEntry>) => (m: CliManifest) => CliManifest
  readonly stdout: string
  readonly stderr: string
  readonly stdoutTruncated: boolean
  readonly stderrTruncated: boolean
  readonly startedMs: number
  readonly attempts: number
  /** The manifest's privacy section with this stage's chunks counted (absent: the stage printed nothing). */
  readonly privacy?: (m: CliManifest) => PrivacySection
  readonly privacyDecisions?: ReadonlyArray<PrivacyDecision>
  /** Present when the stage's process ran (not for a stage refused approval). */
  readonly records?: { readonly handle: HandleRecord; readonly toolRun: ToolRun }
  /** TFG-2: the stage's tool metric, in a TF-GRPO run. */
  readonly toolMetric?: ToolMetric
}

/** RUN-4/RUN-5 and D-8: entry status, summary, error file, and whether the run stops. */
export const recordOutcome = (ctx: StageRef, finish: Finish, out: Recorded) =>
  Effect.gen(function*() {
    const { files, index, stage } = ctx
    const endMs = yield* Clock.currentTimeMillis
    const seconds = ((endMs - out.startedMs) / 1000).toFixed(2)

    const exitCode = finish._tag === "Exited" ? recordedExitCode(finish.exitCode, finish.signal) : null
    const succeeded = exitCode === 0
    // The command said it had nothing to do: its output says why, as a success's would.
    const notApplicable = !succeeded && exitCode !== null && exitCode === stage.skipExitCode
    const summary = finish._tag === "Exited"
      ? commandSummary({ exitCode: notApplicable ? 0 : exitCode ?? 0, signal: finish.signal, stdoutTail: out.stdout, stderrTail: out.stderr }, stage.summaryHint)
      : finish._tag === "TimedOut"
      ? `Timed out after ${finish.timeoutMs} ms; the process group was killed.`
      : finish._tag === "NotApproved"
      ? `Not approved: ${finish.decision.reason}`
      : `Execution error: ${finish.error.message}`
    const status = commandEntryStatus(exitCode, stage)

    const errorFile = succeeded || notApplicable ? null : yield* writeStageError(ctx, finish, out, { exitCode, endMs })
    const blocking = status === "failed"
    const detail = finish._tag === "TimedOut"
      ? `stage:${stage.id}:timeout`
      : finish._tag === "SpawnFailed"
      ? `stage:${stage.id}:error`
      : finish._tag === "NotApproved"
      ? `stage:${stage.id}:${finish.decision.source === "prompt" ? "approval-denied" : "approval-required"}`
      : `stage:${stage.id}:failed`
    const line = finish._tag === "TimedOut"
      ? `Stage '${stage.title}' timed out after ${finish.timeoutMs} ms.`
      : finish._tag === "SpawnFailed"
      ? `Stage '${stage.title}' could not run: ${finish.error.message}`
      : finish._tag === "NotApproved"
      ? `Stage '${stage.title}' was not approved: ${finish.decision.reason}`
      : `Stage '${stage.title}' failed with exit code ${exitCode}.`

    if (out.privacyDecisions !== undefined) yield* files.appendPrivacyDecisions(out.privacyDecisions)
    yield* files.update(
      (m) => {
        const patched = out.patchEntry({
          status,
          completed_at: new Date(endMs).toISOString(),
          exit_code: exitCode,
          summary,
          error_file: errorFile,
          ...(stage.retry === undefined ? {} : { attempts: out.attempts })
        })({
          ...m,
          ...(out.privacy === undefined ? {} : { privacy: out.privacy(m) }),
          ...(out.records === undefined ? {} : {
            handles: [...(m.handles ?? []), out.records.handle],
            toolRuns: [...(m.toolRuns ?? []), out.records.toolRun]
          }),
          ...(out.toolMetric === undefined || m.tfgrpo === undefined || m.tfgrpo === null
            ? {}
            : { tfgrpo: withToolMetric(m.tfgrpo, out.toolMetric) })
        })
        return blocking ? { ...patched, status_detail: detail, summary: appendSummary(patched.summary, line) } : patched
      },
      { force: true }
    )

    const tries = stage.retry === undefined || out.attempts === 1 ? "" : ` after ${out.attempts} attempts`
    const report = `[${index}/${(yield* files.manifest).commands.length}] ${stage.id} ${status}${tries} in ${seconds}s`
    yield* status === "succeeded"
      ? Effect.logInfo(report)
      : Effect.logWarning(`${report}: ${ctx.privacyMode === "enforce" ? redact(summary).text : summary}`)
    return blocking ? "stop" as const : "continue" as const
  })

/** LOG-2: the error file of a stage that did not succeed; returns its run-relative path. */
const writeStageError = (
  ctx: StageRef,
  finish: Finish,
  out: Recorded,
  end: { readonly exitCode: number | null; readonly endMs: number }
) =>
  Effect.gen(function*() {
    const { files, index, stage } = ctx
    const exitCode = end.exitCode
    const path = files.layout.errorFile(index, stage.id)
    const manifest = yield* files.manifest
    yield* files.writeErrorFile(path, {
      run_id: manifest.run_id,
      task_id: manifest.task_id,
      command_index: index,
      command_id: stage.id,
      command: stage.command,
      reason: stage.allowFailure === true
        ? "command-allow-failure"
        : finish._tag === "TimedOut"
        ? "command-timeout"
        : finish._tag === "SpawnFailed"
        ? "command-error"
        : finish._tag === "NotApproved"
        ? finish.decision.source === "prompt" ? "approval-denied" : "approval-required"
        : "command-failed",
      details: truncateDetails({
        exit_code: exitCode,
        sandbox_state: "sandboxed",
        stderr: out.stderr.trim(),
        ...(finish._tag === "Exited" && finish.signal !== null ? { signal: finish.signal } : {}),
        ...(finish._tag === "SpawnFailed" ? { error: finish.error.message } : {}),
        ...(finish._tag === "TimedOut" ? { timeout_ms: finish.timeoutMs } : {}),
        ...(finish._tag === "NotApproved" ? { approval: finish.decision.reason } : {}),
        ...(stage.retry === undefined ? {} : { attempts: out.attempts }),
        ...(out.stdoutTruncated ? { stdout_truncated: true } : {}),
        ...(out.stderrTruncated ? { stderr_truncated: true } : {})
      }),
      created_at: new Date(end.endMs).toISOString()
    })
    return files.layout.relative(path)
  })
