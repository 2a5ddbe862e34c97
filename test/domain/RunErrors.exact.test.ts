/** The resume and run-lookup errors' messages to the exact text (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import {
  PipelineChanged,
  ResumeInProgress,
  ResumeTokenMismatch,
  RunNotFound,
  RunStillActive
} from "../../src/domain/RunErrors.js"

describe("RunErrors messages, exactly", () => {
  it("RunNotFound names the run, the task, the folder and the fix", () => {
    const error = new RunNotFound({ runId: "r1", taskId: "t1", runsDir: "/tmp/runs" })
    assert.strictEqual(
      error.message,
      "Run 'r1' not found for task 't1' in /tmp/runs. " +
        "Check the run id, or pass --task (or set MCP_RUNNER_TASK_ID) to the task that started it."
    )
  })

  it("ResumeTokenMismatch words the flag and the file apart", () => {
    assert.strictEqual(
      new ResumeTokenMismatch({ runId: "r1", source: "flag" }).message,
      "Resume token mismatch for run r1: --token does not match the manifest's resume_token."
    )
    assert.strictEqual(
      new ResumeTokenMismatch({ runId: "r1", source: "file" }).message,
      "Resume token mismatch for run r1: the run folder's .resume-token does not match the manifest's " +
        "resume_token (the folder was changed or mixed up). Pass --token <resume_token> to resume it anyway."
    )
    assert.strictEqual(
      new ResumeTokenMismatch({ runId: "r1", source: "missing" }).message,
      "Resume token missing for run r1: the run folder has no .resume-token (deleted, or the folder was copied " +
        "without its hidden files). Pass --token <resume_token> (the manifest's resume_token) to resume it."
    )
  })

  it("RunStillActive names the owner and the heartbeat's age", () => {
    const error = new RunStillActive({ runId: "r1", pid: 42, host: "box", heartbeatAgeSeconds: 3 })
    assert.strictEqual(
      error.message,
      "Run r1 is still running (pid 42 on box, last heartbeat 3s ago). " +
        "Wait for it to finish, or stop that process first; a run has one writer at a time."
    )
  })

  it("ResumeInProgress says how to look at the run", () => {
    assert.strictEqual(
      new ResumeInProgress({ runId: "r1" }).message,
      "Run r1 is being resumed by another orchestrator right now. Check it with: status --run r1"
    )
    // With its task, the command to copy finds the run (without --task, status looks in the default task).
    assert.strictEqual(
      new ResumeInProgress({ runId: "r1", taskId: "t" }).message,
      "Run r1 is being resumed by another orchestrator right now. Check it with: codex-orchestrator status --run r1 --task t"
    )
  })

  it("PipelineChanged lists the stages, or the changed needs when there are some", () => {
    const stages = { runId: "r1", pipelineId: "p", recorded: ["a", "b"], current: ["a", "c"] }
    const expectedStages = "Cannot resume run r1: pipeline 'p' now has stages [a, c] " +
      "but the run recorded [a, b]. Restore the pipeline's stages, or start a new run."
    assert.strictEqual(new PipelineChanged(stages).message, expectedStages)
    assert.strictEqual(new PipelineChanged({ ...stages, needsChanged: [] }).message, expectedStages)
    assert.strictEqual(
      new PipelineChanged({ ...stages, needsChanged: ["b: needs [] -> [a]", "c: needs [a] -> []"] }).message,
      "Cannot resume run r1: pipeline 'p' changed its stage graph since the run " +
        "started (b: needs [] -> [a]; c: needs [a] -> []). Restore the pipeline's needs, or start a new run."
    )
  })
})
