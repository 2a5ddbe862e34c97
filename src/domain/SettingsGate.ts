/**
 * The `gate` and `codex` sections of the settings (see Settings.ts, which re-exports them: import
 * them from there). Apart only to keep Settings.ts a readable size.
 */
import { Config, Option } from "effect"
import { flag, given, text, trimmedText } from "./SettingsKinds.js"

const clusterDatabaseVariable = "CODEX_CLUSTER_DATABASE_URL"

/**
 * `codex`: where the Codex CLI keeps its files (`CODEX_HOME`, else `$HOME/.codex`), for `prompts
 * install`'s default folder. Decoded by that command; it cannot fail.
 */
export const codexSection = Config.all({
  codexHome: Config.map(text("CODEX_HOME"), Option.getOrUndefined),
  home: Config.map(text("HOME"), Option.getOrUndefined)
})

/** Unset, empty or blank is undefined; otherwise the value as given (DECISIONS D-3). */
const nonBlank = (name: string) => Config.map(given(name), (value) => Option.getOrUndefined(Option.filter(value, (v) => v.trim().length > 0)))

/**
 * `gate`: the review gate's variables (SPEC GRD-1..5), decoded by `guard`, `review` and `doctor`; it
 * cannot fail. The diff budget's limits stay text: a value that is not a number falls back to the
 * default with a warning (GRD-2), which the command prints. Blank counts as unset.
 */
export const gateSection = Config.all({
  /** GRD-1, GRD-2: the pull request's base, used when it names a commit. */
  baseSha: nonBlank("BASE_SHA"),
  /** GRD-2: the base after BASE_SHA. */
  diffBudgetBase: nonBlank("DIFF_BUDGET_BASE"),
  maxFiles: nonBlank("DIFF_BUDGET_MAX_FILES"),
  maxLines: nonBlank("DIFF_BUDGET_MAX_LINES"),
  /** GRD-2, GRD-3: why an over-budget change is accepted (trimmed). */
  overrideReason: Config.map(trimmedText("DIFF_BUDGET_OVERRIDE_REASON"), Option.getOrUndefined),
  /** GRD-5: the evidence manifest, `MANIFEST` before the one the engine gives a stage. */
  manifest: nonBlank("MANIFEST"),
  stageManifestPath: nonBlank("CODEX_ORCHESTRATOR_MANIFEST_PATH"),
  /** GRD-5: the hand-off note. */
  notes: nonBlank("NOTES"),
  /** GRD-5: a pipeline ran the budget as its own stage (`DIFF_BUDGET_STAGE`), or it is skipped on purpose. */
  diffBudgetStage: nonBlank("DIFF_BUDGET_STAGE"),
  skipDiffBudget: nonBlank("SKIP_DIFF_BUDGET"),
  /** GRD-5: the codex executable (default `codex`), and whether its review gets Chrome DevTools (ENV-6). */
  codexBin: Config.map(nonBlank("CODEX_BIN"), (value) => value ?? "codex"),
  reviewDevtools: flag("CODEX_REVIEW_DEVTOOLS"),
  /** `doctor`: the cluster database as given (checked there, a bad URL being one of its findings). */
  clusterDatabaseUrl: nonBlank(clusterDatabaseVariable)
})
export type GateSection = Config.Config.Success<typeof gateSection>
