/**
 * The engine's side of StageSections (domain/StageSections.ts): when a command stage ends, the
 * sections it left in `manifest-sections.json` beside the manifest are adopted into the manifest.
 * A file that cannot be read or decoded is a warning: it never changes how the stage ended.
 */
import type { Path } from "@effect/platform"
import { Effect } from "effect"
import { decodeJsonFile } from "../../domain/FileErrors.js"
import { StageSections, stageSectionsFileName } from "../../domain/StageSections.js"
import type { Files } from "../../services/Files.js"
import type { RunFiles } from "../../services/RunStore.js"

export const makeSectionAdopter = (files: Files["Type"], path: Path.Path) => (run: RunFiles) =>
  Effect.gen(function*() {
    const file = path.join(run.layout.runDir, stageSectionsFileName)
    const text = yield* files.readText(file)
    if (text === undefined) return
    const sections = yield* decodeJsonFile(StageSections, run.layout.relative(file))(text)
    const { design_toolkit_artifacts, design_toolkit_summary } = sections
    yield* run.update((manifest) => ({
      ...manifest,
      ...(design_toolkit_artifacts === undefined ? {} : { design_toolkit_artifacts }),
      ...(design_toolkit_summary === undefined ? {} : { design_toolkit_summary })
    }))
  }).pipe(Effect.catchAll((error) => Effect.logWarning(`manifest sections not adopted: ${error.message}`)))
