/**
 * Manifest sections a command stage hands to the engine. A stage process cannot write the run's
 * manifest itself: the engine owns it and its next write (a heartbeat, the stage's end) would drop
 * anything else. So a stage writes `manifest-sections.json` beside the manifest
 * (`dirname($CODEX_ORCHESTRATOR_MANIFEST_PATH)`), and when the stage ends the engine adopts the
 * sections listed here into the manifest. Only these keys are adopted: a stage cannot rewrite the
 * run's status, its commands or its token.
 */
import { DesignManifestSections } from "./DesignRecord.js"

export const stageSectionsFileName = "manifest-sections.json"

/** DES-3: what the design toolkit's writer stage records in the manifest. */
export const StageSections = DesignManifestSections
export type StageSections = typeof StageSections.Type
