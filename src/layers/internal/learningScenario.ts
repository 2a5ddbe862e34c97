/**
 * LRN-5: the learning scenario, synthesized from the run's commands, its prompt or the changed
 * files, and written as `learning/scenario.json`; or, when none gives a command, the partial
 * scenario that asks for a manual one.
 */
import { Effect, Ref } from "effect"
import { manualScenarioTemplate, ScenarioFile } from "../../domain/LearningRecords.js"
import { changedFiles } from "../../domain/LearningSnapshotPaths.js"
import { onManualScenarioNeeded, onScenarioSynthesized } from "../../domain/LearningStatus.js"
import {
  executionHistory,
  manualScenarioReason,
  pickEntrypoint,
  promptScenarioCommand,
  synthesizeScenario
} from "../../domain/LearningSynthesis.js"
import type { CliManifest } from "../../domain/Manifest.js"
import { isoNow } from "../../domain/Time.js"
import { jsonText } from "./jsonText.js"
import type { CaptureContext } from "./learningContext.js"

/**
 * The scenario to validate, with the section updated, or `NeedsManual` with the section that
 * records the request for a manual scenario (the capture ends there).
 */
export const synthesizeRunScenario = (ctx: CaptureContext, manifest: CliManifest) =>
  Effect.gen(function*() {
    const { at, excluded, files, layout, prompt, run, section } = ctx
    const { relative } = layout
    const generatedAt = yield* isoNow
    // The diff heuristic is only needed when neither the run nor its prompt gives a command to replay.
    const changed = pickEntrypoint(manifest.commands) === undefined &&
        (prompt === undefined || promptScenarioCommand(prompt) === undefined)
      ? yield* ctx.workTreeStatus.pipe(
        Effect.map((status) => status._tag === "Read" ? changedFiles(status.porcelainZ, excluded, status.prefix) : []),
        Effect.orElseSucceed(() => [])
      )
      : []
    const found = synthesizeScenario(manifest.commands, prompt, changed)
    const scenarioBody = {
      id: `learning-${layout.runId}`,
      validation: { requiresCleanFixture: true },
      context: {
        prompt: prompt ?? null,
        diff: changed.length === 0 ? null : changed.join("\n"),
        execution_history: executionHistory(manifest.commands)
      },
      generated_at: generatedAt
    }
    if (found === undefined) {
      // LRN-5 asks for a manual scenario on the second attempt without one. The CLI captures a
      // run once, after it succeeded, so there is no second attempt: the first is the last.
      const partialPath = at("scenario.partial.json")
      const partial: ScenarioFile = {
        ...scenarioBody,
        entrypoint: null,
        commands: [],
        reason: manualScenarioReason,
        manual_template: manualScenarioTemplate
      }
      yield* files.writeAtomic(partialPath, jsonText(partial satisfies typeof ScenarioFile.Encoded))
      const manual = onManualScenarioNeeded(yield* Ref.get(section), { run, partialPath: relative(partialPath), at: generatedAt })
      return { _tag: "NeedsManual", section: manual } as const
    }
    const scenarioPath = at("scenario.json")
    const scenario: ScenarioFile = { ...scenarioBody, entrypoint: found.command, commands: [found.command] }
    yield* files.writeAtomic(scenarioPath, jsonText(scenario satisfies typeof ScenarioFile.Encoded))
    yield* Ref.update(section, (s) =>
      onScenarioSynthesized(s, {
        path: relative(scenarioPath),
        generated_at: generatedAt,
        source: found.source,
        status: "synthesized",
        attempts: 1,
        partial_path: null,
        manual_template: null,
        approver: null,
        reason: null
      }))
    return { _tag: "Synthesized", scenario, scenarioPath } as const
  })
