/** Manifests of finished runs for the learning pipeline's tests. */
import type { CliManifest, CommandEntry } from "../../src/domain/Manifest.js"
import type { RunLayout } from "../../src/domain/RunLayout.js"
import { queuedManifest } from "./manifests.js"

/** A command stage entry as the engine leaves it; `exit_code` follows the status unless given. */
export const commandEntry = (
  index: number,
  command: string | null,
  overrides: Partial<CommandEntry> = {}
): CommandEntry => ({
  index,
  id: `stage-${index}`,
  title: `Stage ${index}`,
  command,
  kind: "command",
  status: "succeeded",
  started_at: `2026-01-01T00:00:0${index}.000Z`,
  completed_at: `2026-01-01T00:00:0${index}.500Z`,
  exit_code: overrides.status === undefined || overrides.status === "succeeded" ? 0 : 1,
  summary: null,
  log_path: null,
  error_file: null,
  sub_run_id: null,
  ...overrides
})

/** A finished run of `commands` (a succeeded run by default). */
export const finishedManifest = (
  layout: RunLayout,
  commands: ReadonlyArray<CommandEntry>,
  status: CliManifest["status"] = "succeeded"
): CliManifest => ({
  ...queuedManifest(layout, layout.taskId, layout.runId, "2026-01-01T00:00:00.000Z"),
  status,
  completed_at: "2026-01-01T00:00:10.000Z",
  commands
})
