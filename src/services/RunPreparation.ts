import { Context, type Effect } from "effect"
import type { ControlPlaneValidationFailed } from "../domain/ControlPlane.js"
import type { FileAccessError } from "../domain/FileErrors.js"
import type { RunHandle } from "../domain/RunHandle.js"
import type { RunLayout } from "../domain/RunLayout.js"
import type { BadInput, PlanRequest, PlanView, ResumeRequest, StartRequest } from "./RunEngine.js"

/**
 * What `reopen` found: a run taken over to be continued, or a run that had already succeeded, which
 * has nothing to re-run and is left as it is (no resume event, no second metrics line).
 */
export type Reopened =
  | { readonly _tag: "Resumed"; readonly run: RunHandle }
  | { readonly _tag: "AlreadySucceeded"; readonly layout: RunLayout }

/**
 * The first phase (SPEC RUN-1 up to execution, RUN-9, DECISIONS D-1, D-7): everything a run needs is
 * checked before anything is written, then the run is created (or a crashed one taken over) and
 * handed out as a RunHandle, the only way to execute and complete it.
 */
export class RunPreparation extends Context.Tag("orchestrator/RunPreparation")<
  RunPreparation,
  {
    /** What `start` would run; writes nothing. */
    readonly plan: (request: PlanRequest) => Effect.Effect<PlanView, BadInput | FileAccessError>
    /**
     * RUN-1 up to execution: everything checked (the TF-GRPO guardrails and the schedule included),
     * the `queued` run folder (LAY-2), the control-plane validation (CP-4) and the scheduler plan
     * (SCH-4). In enforce mode an invalid request fails the run (manifest `failed`).
     */
    readonly bootstrap: (request: StartRequest) => Effect.Effect<RunHandle, BadInput | ControlPlaneValidationFailed | FileAccessError>
    /**
     * RUN-9 with D-7: token and owner checks, the takeover, the resume event. A run that already
     * succeeded, resumed without a target, is checked the same way, then left untouched.
     */
    readonly reopen: (request: ResumeRequest) => Effect.Effect<Reopened, BadInput | ControlPlaneValidationFailed | FileAccessError>
  }
>() {}
