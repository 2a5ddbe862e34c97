/**
 * The learning pipeline (SPEC LRN-1..7, DECISIONS D-17), as one import: its records
 * (`LearningRecords.ts`), the scenario picking (`LearningSynthesis.ts`), the snapshot's file lists
 * (`LearningSnapshotPaths.ts`) and the status machine (`LearningStatus.ts`).
 *
 * src/index.ts and the engine import from here; both are being reshaped by the architecture issue
 * (issue 15). Import the modules themselves; remove this one when it lands.
 */
export * from "./LearningRecords.js"
export * from "./LearningSnapshotPaths.js"
export * from "./LearningStatus.js"
export * from "./LearningSynthesis.js"
