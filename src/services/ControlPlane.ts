import { Context, type Effect } from "effect"
import type { ControlPlaneMode, ControlPlaneSection, ControlPlaneValidationFailed } from "../domain/ControlPlane.js"
import type { RunRequestV2 } from "../domain/RunRequest.js"
import type { GroupSettings, InvalidGroupSetting } from "../domain/TfgrpoGroup.js"
import type { FileAccessError } from "../domain/FileErrors.js"

export interface ValidateOptions {
  /** The task whose drift report the validation is counted in. */
  readonly taskId: string
}

/**
 * The control-plane guard of a run (SPEC CP-1, CP-4, CP-5, CP-8): validates the run request built
 * with `buildRunRequest`, counts it in the task's drift report, and returns the manifest's
 * `control_plane` section. In `enforce` mode an invalid request fails with
 * ControlPlaneValidationFailed (which carries the section) after the drift report is updated.
 */
export class ControlPlane extends Context.Tag("orchestrator/ControlPlane")<
  ControlPlane,
  {
    /** CP-1: `CODEX_CONTROL_PLANE_MODE`, else `CODEX_CONTROL_PLANE_ENFORCE`; `shadow` by default. */
    readonly mode: ControlPlaneMode
    /**
     * The TF-GRPO variables (CP-3, CP-7). A value that does not parse fails here, when a run needs
     * it, not when the layer is built, so commands that start no run are not affected.
     */
    readonly groupSettings: Effect.Effect<GroupSettings, InvalidGroupSetting>
    readonly validate: (
      request: RunRequestV2,
      options: ValidateOptions
    ) => Effect.Effect<ControlPlaneSection, ControlPlaneValidationFailed | FileAccessError>
  }
>() {}
