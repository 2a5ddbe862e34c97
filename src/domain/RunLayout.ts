/**
 * Where a run's files live (SPEC LAY-1..3). Absolute paths for writing, and the repo-relative form
 * that goes into JSON artifacts. Pure: the path implementation is passed in.
 */
import type { Path } from "@effect/platform"
import { slugify } from "./Ids.js"

/** The absolute roots every path hangs from: the repository, the runs root and the out root. */
export interface Roots {
  readonly repoRoot: string
  readonly runsRoot: string
  readonly outRoot: string
}

/** NN in per-stage file names: the 1-based index, at least two digits. */
export const stageFileStem = (index: number, stageId: string) => `${String(index).padStart(2, "0")}-${slugify(stageId)}`

/** Every path of one run (LAY-1, LAY-3): its folder, manifest, logs, error files, tokens and compatibility pointers. */
export const makeRunLayout = (path: Path.Path, roots: Roots, taskId: string, runId: string) => {
  const cliDir = path.join(roots.runsRoot, taskId, "cli")
  const runDir = path.join(cliDir, runId)
  const relative = (absolute: string) => path.relative(roots.repoRoot, absolute)
  return {
    roots,
    taskId,
    runId,
    cliDir,
    runDir,
    manifest: path.join(runDir, "manifest.json"),
    runnerLog: path.join(runDir, "runner.ndjson"),
    commandsDir: path.join(runDir, "commands"),
    errorsDir: path.join(runDir, "errors"),
    heartbeat: path.join(runDir, ".heartbeat"),
    resumeToken: path.join(runDir, ".resume-token"),
    owner: path.join(runDir, ".owner.json"),
    runSummary: path.join(runDir, "run-summary.json"),
    /** The prompt a run was started with, kept for the learning pipeline's scenario (LRN-5). */
    prompt: path.join(runDir, "prompt.md"),
    privacyLog: path.join(runDir, "privacy-decisions.ndjson"),
    cloudSyncRecord: path.join(runDir, "cloud-sync.json"),
    /** The task's metrics lines (MET-1), one per finished run; this run's line goes there. */
    taskMetrics: path.join(roots.runsRoot, taskId, "metrics.json"),
    compatDir: path.join(roots.runsRoot, taskId, "mcp", runId),
    compatManifest: path.join(roots.runsRoot, taskId, "mcp", runId, "manifest.json"),
    localMcpDir: path.join(roots.runsRoot, "local-mcp", runId),
    localMcpManifest: path.join(roots.runsRoot, "local-mcp", runId, "manifest.json"),
    stageLog: (index: number, stageId: string) => path.join(runDir, "commands", `${stageFileStem(index, stageId)}.ndjson`),
    errorFile: (index: number, stageId: string) => path.join(runDir, "errors", `${stageFileStem(index, stageId)}.json`),
    relative
  }
}
/** The paths of one run, as makeRunLayout builds them. */
export type RunLayout = ReturnType<typeof makeRunLayout>
