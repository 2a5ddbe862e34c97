import { Context, type Effect } from "effect"
import type { BuildResult, TestResult } from "../domain/RunSummary.js"
import type { AgentFailure, TaskContext } from "../domain/TaskManager.js"

/** Verifies a successful build (SPEC TM-4, TM-6). The CLI's tester reads the guardrail status (MAN-5). */
export class Tester extends Context.Tag("orchestrator/Tester")<
  Tester,
  {
    readonly test: (request: { readonly task: TaskContext; readonly build: BuildResult; readonly runId: string }) => Effect.Effect<
      TestResult,
      AgentFailure
    >
  }
>() {}
