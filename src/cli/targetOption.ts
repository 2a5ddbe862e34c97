/**
 * `--target` (D-4, CLI-10) as each command takes it: the same flag, said for what it does there. A
 * resume leaves the other entries as the run recorded them (RUN-9), and a plan records nothing.
 */
import { Options } from "@effect/cli"

const targetWith = (description: string) =>
  Options.text("target").pipe(Options.withAlias("target-stage"), Options.withDescription(description), Options.optional)

/** start's: the one stage the new run runs. */
export const startTarget = targetWith("Run only this stage (id, alias or <pipeline>:<stage>); the others are recorded skipped")

/** plan's: the plan shown with that target. */
export const planTarget = targetWith(
  "Show the plan with this stage as its target (id, alias or <pipeline>:<stage>): start --target would run only it"
)

/** resume's: the stage re-run; the others keep their entries. */
export const resumeTarget = targetWith(
  "Re-run only this stage (id, alias or <pipeline>:<stage>), even one that succeeded; the other stages keep what the run " +
    "recorded (default: the run's recorded target, else $CODEX_ORCHESTRATOR_TARGET_STAGE)"
)
