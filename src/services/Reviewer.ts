import { Context, type Effect } from "effect"
import type { BuildResult, ReviewResult, TestResult } from "../domain/RunSummary.js"
import type { AgentFailure, TaskContext } from "../domain/TaskManager.js"

/** Judges a built and tested subtask (SPEC TM-4, TM-6). The CLI's reviewer approves a succeeded pipeline. */
export class Reviewer extends Context.Tag("orchestrator/Reviewer")<
  Reviewer,
  {
    readonly review: (request: {
      readonly task: TaskContext
      readonly build: BuildResult
      readonly test: TestResult
      readonly runId: string
    }) => Effect.Effect<ReviewResult, AgentFailure>
  }
>() {}
