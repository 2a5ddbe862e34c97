/**
 * The learning pipeline's steps (SPEC LRN-2..6) over the services that touch the world: git and the
 * scenario's commands through the ProcessRunner, records through Files, the tarball and the diff
 * through SnapshotArchive. The rules (statuses, alerts, scenario picking) are the pure functions of
 * domain/Learning*.ts; this module sequences the steps (learningSnapshot, learningScenario,
 * learningValidation) and turns every failure into a status.
 */
import { Path } from "@effect/platform"
import { Cause, Effect, Ref } from "effect"
import { initialLearningSection, type LearningSection } from "../../domain/LearningRecords.js"
import { onSnapshotCaptured, onValidated } from "../../domain/LearningStatus.js"
import type { CliManifest } from "../../domain/Manifest.js"
import type { PrivacyMode } from "../../domain/Privacy.js"
import type { RunLayout } from "../../domain/RunLayout.js"
import { Files } from "../../services/Files.js"
import { ProcessRunner } from "../../services/ProcessRunner.js"
import { SnapshotArchive } from "../../services/SnapshotArchive.js"
import { type LearningServices, makeCaptureContext } from "./learningContext.js"
import { synthesizeRunScenario } from "./learningScenario.js"
import { captureSnapshot } from "./learningSnapshot.js"
import { validateScenario } from "./learningValidation.js"
import { filesForPrivacy } from "./runFiles.js"

export interface LearningSettings {
  /** LRN-1: `LEARNING_PIPELINE_ENABLED` is exactly `1`. */
  readonly enabled: boolean
  /** `LEARNING_SNAPSHOT_DIR`, absolute; `<runsRoot>/learning-snapshots` when undefined (LAY-4). */
  readonly snapshotDir: string | undefined
  /** The `<uuid>` of the `learning-snapshot-<uuid>` tag: random, fixed in tests to script git. */
  readonly snapshotId: Effect.Effect<string>
  /**
   * PRIV-1: in `enforce`, the records under `learning/` (scenario, validation log, git evidence,
   * payload) are redacted like every file of the run (D-13); the tarball and diff stay byte for byte.
   */
  readonly privacyMode: PrivacyMode
}

export const makeLearning = (settings: LearningSettings) =>
  Effect.gen(function*() {
    const services: LearningServices = {
      files: filesForPrivacy(yield* Files, settings.privacyMode),
      archive: yield* SnapshotArchive,
      runner: yield* ProcessRunner,
      path: yield* Path.Path
    }

    const capture = (manifest: CliManifest, layout: RunLayout, section: Ref.Ref<LearningSection>) =>
      Effect.gen(function*() {
        const { context, dir } = yield* makeCaptureContext(services, { layout, section, snapshotDir: settings.snapshotDir })
        yield* services.files.makeDirectory(dir)

        const captured = yield* captureSnapshot(context, settings.snapshotId)
        if (captured._tag === "None") return yield* Ref.get(section)
        yield* Ref.update(section, (s) => onSnapshotCaptured(s, captured.value.snapshot, captured.value.queue))

        const scenario = yield* synthesizeRunScenario(context, manifest)
        if (scenario._tag === "NeedsManual") return scenario.section

        const { logPath, outcome } = yield* validateScenario(context, scenario.scenario, scenario.scenarioPath)
        return onValidated(yield* Ref.get(section), logPath, outcome)
      })

    /**
     * Whatever goes wrong outside the steps above (a folder we cannot create, a record we cannot
     * write, a defect) ends in the section as `snapshot_failed`, with the alerts raised so far.
     */
    const safeCapture = (input: { readonly manifest: CliManifest; readonly layout: RunLayout }) =>
      !settings.enabled || input.manifest.status !== "succeeded"
        ? Effect.succeed(initialLearningSection)
        : Effect.gen(function*() {
          const section = yield* Ref.make<LearningSection>(initialLearningSection)
          return yield* capture(input.manifest, input.layout, section).pipe(
            Effect.catchAllCause((cause) => {
              if (Cause.isInterruptedOnly(cause)) return Effect.interrupt
              const failure = Cause.squash(cause)
              const reason = `Learning pipeline failed: ${failure instanceof Error ? failure.message : String(failure)}`
              return Effect.map(Ref.get(section), (s): LearningSection => ({
                ...s,
                validation: { ...s.validation, status: "snapshot_failed", reason, last_error: reason }
              }))
            })
          )
        })

    return { enabled: settings.enabled, capture: safeCapture }
  })
