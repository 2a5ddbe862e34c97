/** The cluster's settings (CODEX_CLUSTER_*), decoded once for the engine and the runner. */
import { clusterSection, decodeSettings } from "../domain/Settings.js"

export const clusterSettings = decodeSettings(clusterSection)
