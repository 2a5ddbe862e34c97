/**
 * The `yaml` package, required on first use (as chromium.ts requires playwright-core): the pipeline
 * catalog needs it only when a design.config.yaml must decide the default pipeline, and the CLI
 * bundle stays free of it (scripts/bundle.mjs stubs the copy @effect/cli would pull in).
 */
import { createRequire } from "node:module"

export const loadYaml = (): typeof import("yaml") => createRequire(import.meta.url)("yaml")
