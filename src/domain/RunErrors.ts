/**
 * Why an existing run cannot be read or resumed. All are the user's to fix (exit 2, DECISIONS D-1),
 * and each message says where we looked or what to do.
 */
import { Schema } from "effect"
import { oneLine } from "./OneLine.js"

/** No run with this id in the task's folder under the runs root. */
export class RunNotFound extends Schema.TaggedError<RunNotFound>()("RunNotFound", {
  runId: Schema.String,
  taskId: Schema.String,
  runsDir: Schema.String,
  /** The run's folder exists without its manifest.json: being created, or left half written or deleted. */
  folderOnly: Schema.optional(Schema.Boolean)
}) {
  override get message() {
    if (this.folderOnly === true) {
      return `Run '${this.runId}' of task '${this.taskId}' has a folder (${this.runsDir}/${this.runId}) but no manifest.json: ` +
        "it is being created, or was left half written or half deleted; there is nothing to show or resume yet."
    }
    return `Run '${this.runId}' not found for task '${this.taskId}' in ${this.runsDir}. ` +
      `Check the run id, or pass --task (or set MCP_RUNNER_TASK_ID) to the task that started it.`
  }
}

/**
 * A resume whose token (`--token`, else the run folder's `.resume-token`) differs from the manifest's
 * (D-7), or, without `--token`, a run folder that has no `.resume-token` (`missing`).
 */
export class ResumeTokenMismatch extends Schema.TaggedError<ResumeTokenMismatch>()("ResumeTokenMismatch", {
  runId: Schema.String,
  source: Schema.Literal("flag", "file", "missing")
}) {
  override get message() {
    if (this.source === "missing") {
      return `Resume token missing for run ${this.runId}: the run folder has no .resume-token (deleted, or the folder was ` +
        `copied without its hidden files). Pass --token <resume_token> (the manifest's resume_token) to resume it.`
    }
    return this.source === "flag"
      ? `Resume token mismatch for run ${this.runId}: --token does not match the manifest's resume_token.`
      : `Resume token mismatch for run ${this.runId}: the run folder's .resume-token does not match the manifest's ` +
        `resume_token (the folder was changed or mixed up). Pass --token <resume_token> to resume it anyway.`
  }
}

/** A resume refused because the run's owner process is alive and its heartbeat fresh (D-7): a run has one writer. */
export class RunStillActive extends Schema.TaggedError<RunStillActive>()("RunStillActive", {
  runId: Schema.String,
  pid: Schema.Number,
  host: Schema.String,
  heartbeatAgeSeconds: Schema.Number,
  /**
   * The run is a child run (RUN-7) resumed on its own while the run `runId` names, being resumed, would
   * settle it: the child of its stage `stageId`, or of that stage of its child run `parentRunId` (deeper down).
   */
  childOf: Schema.optional(Schema.Struct({ runId: Schema.String, stageId: Schema.String, parentRunId: Schema.optional(Schema.String) }))
}) {
  override get message() {
    if (this.childOf !== undefined) {
      const stage = this.childOf.parentRunId === undefined
        ? `its stage ${this.childOf.stageId}`
        : `stage ${this.childOf.stageId} of its child run ${this.childOf.parentRunId}`
      return `Cannot resume run ${this.childOf.runId}: the child run ${this.runId} of ${stage} is running on its own ` +
        `(pid ${this.pid} on ${this.host}, last heartbeat ${this.heartbeatAgeSeconds}s ago). Wait for it to finish, or stop that process ` +
        `first, then resume ${this.childOf.runId}; a run has one writer at a time.`
    }
    return `Run ${this.runId} is still running (pid ${this.pid} on ${this.host}, last heartbeat ${this.heartbeatAgeSeconds}s ago). ` +
      `Wait for it to finish, or stop that process first; a run has one writer at a time.`
  }
}

/** A resume refused because another orchestrator has just claimed the same run. */
export class ResumeInProgress extends Schema.TaggedError<ResumeInProgress>()("ResumeInProgress", {
  runId: Schema.String,
  /** The run's task: the command to copy names it, else status would look in the default task. */
  taskId: Schema.optional(Schema.String)
}) {
  override get message() {
    const look = this.taskId === undefined ? `status --run ${this.runId}` : `codex-orchestrator status --run ${this.runId} --task ${this.taskId}`
    return `Run ${this.runId} is being resumed by another orchestrator right now. Check it with: ${look}`
  }
}

/**
 * RUN-9: a run `exec` made (EXEC-2) runs a one-stage pipeline given on exec's command line, which no
 * catalog holds, so resume has nothing to run it with. `command` is what its stage ran, when recorded.
 */
export class ExecRunNotResumable extends Schema.TaggedError<ExecRunNotResumable>()("ExecRunNotResumable", {
  runId: Schema.String,
  taskId: Schema.String,
  command: Schema.NullOr(Schema.String)
}) {
  override get message() {
    const again = this.command === null
      ? "Run its command again with codex-orchestrator exec."
      : `Run the command again: codex-orchestrator exec --task ${this.taskId} -- ${oneLine(this.command)}`
    return `Run ${this.runId} was made by exec: its one-stage pipeline was given on exec's command line, not in ` +
      `codex.orchestrator.json, so resume has nothing to run it with. ${again}`
  }
}

/** CFG-11: stage i of the pipeline pairs with commands[i] of the manifest, so the stages must still match. */
export class PipelineChanged extends Schema.TaggedError<PipelineChanged>()("PipelineChanged", {
  runId: Schema.String,
  pipelineId: Schema.String,
  recorded: Schema.Array(Schema.String),
  current: Schema.Array(Schema.String),
  /** Same stages, other `needs` (B-2): one line per stage whose dependencies changed. */
  needsChanged: Schema.optional(Schema.Array(Schema.String)),
  /** Same stages, another kind (a command stage now nested, or back): one line per stage. */
  kindChanged: Schema.optional(Schema.Array(Schema.String))
}) {
  override get message() {
    if (this.kindChanged !== undefined && this.kindChanged.length > 0) {
      return `Cannot resume run ${this.runId}: pipeline '${this.pipelineId}' changed the kind of its stages since the run ` +
        `started (${this.kindChanged.join("; ")}); its entries record the stages as they were. Restore the pipeline's stages, or start a new run.`
    }
    if (this.needsChanged !== undefined && this.needsChanged.length > 0) {
      return `Cannot resume run ${this.runId}: pipeline '${this.pipelineId}' changed its stage graph since the run ` +
        `started (${this.needsChanged.join("; ")}). Restore the pipeline's needs, or start a new run.`
    }
    return `Cannot resume run ${this.runId}: pipeline '${this.pipelineId}' now has stages [${this.current.join(", ")}] ` +
      `but the run recorded [${this.recorded.join(", ")}]. Restore the pipeline's stages, or start a new run.`
  }
}
