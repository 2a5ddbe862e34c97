/** The orchestrator's version: what `--version` prints, and part of every stage cache key (B-5). */
export const orchestratorVersion = "0.1.0"
