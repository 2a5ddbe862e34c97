/** Manifests of finished runs for the learning pipeline's tests. */
import type { CliManifest, CommandEntry } from "../../src/domain/Manifest.js"
import type { RunLayout } from "../../src/domain/RunLayout.js"
import { memorySnapshotId } from "../../src/layers/Learning.js"
import type { ScriptedProcess } from "../../src/layers/ProcessRunner.js"
import { queuedManifest } from "./manifests.js"

/** The commit of the scripted repository (`snapshotGitScripts`). */
export const scriptedCommit = "0123456789abcdef0123456789abcdef01234567"

const printed = (data: string): ScriptedProcess => ({ output: [{ stream: "stdout", data }] })

/** The git commands of a snapshot in a clean repository at `scriptedCommit` holding README.md, for ProcessRunnerMemory. */
export const snapshotGitScripts: Readonly<Record<string, ScriptedProcess>> = {
  "git rev-parse HEAD": printed(`${scriptedCommit}\n`),
  "git ls-files -z --cached --others --exclude-standard": printed("README.md\0"),
  "git ls-files -z --deleted": printed(""),
  [`git tag -f learning-snapshot-${memorySnapshotId} ${scriptedCommit}`]: {},
  "git rev-parse --show-prefix": printed("\n"),
  "git status --porcelain -z --untracked-files=all -- .": printed("")
}

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
