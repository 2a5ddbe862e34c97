import { Context, type Effect } from "effect"
import type { LearningSection } from "../domain/LearningRecords.js"
import type { CliManifest } from "../domain/Manifest.js"
import type { RunLayout } from "../domain/RunLayout.js"

/**
 * The learning pipeline (SPEC LRN-1..7, DECISIONS D-17): after a succeeded run, snapshot the working
 * tree, synthesize a scenario from the run and replay it on the clean tree.
 */
export class Learning extends Context.Tag("orchestrator/Learning")<
  Learning,
  {
    /** `LEARNING_PIPELINE_ENABLED` is exactly `1` (LRN-1): callers skip `capture` otherwise. */
    readonly enabled: boolean
    /**
     * Captures a succeeded run (a run in any other state, or with learning off, gets the initial
     * section and nothing is written). Writes `<runDir>/learning/` and the storage copy, and returns
     * the manifest's new `learning` section. Never fails: every problem ends in the section, as a
     * status, a reason and alerts, so learning can never fail the run (LRN-1).
     */
    readonly capture: (input: { readonly manifest: CliManifest; readonly layout: RunLayout }) => Effect.Effect<LearningSection>
  }
>() {}
