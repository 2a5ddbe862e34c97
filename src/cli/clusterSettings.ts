/** The cluster's settings (CODEX_CLUSTER_*), decoded once for the engine and the runner. */
import { Context } from "effect"
import { clusterRunnerSection, clusterSection, decodeSettings } from "../domain/Settings.js"

export const clusterSettings = decodeSettings(clusterSection)

/** A runner's: without the database URL, which its `--database-url` may give (runner.ts reads it). */
export const clusterRunnerSettings = decodeSettings(clusterRunnerSection)

/**
 * True for a command that only plans (`plan`): its engine runs nothing, so it does not load or
 * connect to the cluster even when a database URL is set (issue 18).
 */
export class PlanningOnly extends Context.Reference<PlanningOnly>()("orchestrator/PlanningOnly", { defaultValue: () => false }) {}
