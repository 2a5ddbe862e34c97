/**
 * Guardrail status (SPEC MAN-5): how the run's guard commands fared. A guardrail command is a
 * command entry whose command contains `spec-guard` (the original's script) or calls one of our
 * guard subcommands (`codex-orchestrator guard spec|diff-budget|docs`); nested entries never count.
 */
import { Schema } from "effect"
import type { CommandEntry } from "./ManifestStatus.js"

export const GuardrailCounts = Schema.Struct({
  total: Schema.Int,
  succeeded: Schema.Int,
  failed: Schema.Int,
  skipped: Schema.Int,
  other: Schema.Int
})

/** MAN-5: the manifest's `guardrail_status`. */
export const GuardrailStatus = Schema.Struct({
  present: Schema.Boolean,
  recommendation: Schema.NullOr(Schema.String),
  summary: Schema.String,
  computed_at: Schema.String,
  counts: GuardrailCounts
})
export type GuardrailStatus = typeof GuardrailStatus.Type

const guardSubcommand = /\bcodex-orch(?:estrator)?\s+guard\s+(?:spec|diff-budget|docs)\b/

/** Whether a stage's command is a guardrail (MAN-5): the original's spec-guard script or a `guard` subcommand. */
export const isGuardrailCommand = (command: string): boolean => command.includes("spec-guard") || guardSubcommand.test(command)

const missingRecommendation =
  "Guardrail command missing; run scripts/run-mcp-diagnostics.sh --no-watch to capture reviewer diagnostics."
const failedRecommendation =
  "Guardrail command failed; re-run scripts/run-mcp-diagnostics.sh --no-watch to gather failure artifacts."

export const computeGuardrailStatus = (
  commands: ReadonlyArray<CommandEntry>,
  guardrailsRequired: boolean,
  computedAt: string
): GuardrailStatus => {
  const guards = commands.filter((c) => c.kind === "command" && c.command !== null && isGuardrailCommand(c.command))
  const count = (status: CommandEntry["status"]) => guards.filter((g) => g.status === status).length
  const counts = {
    total: guards.length,
    succeeded: count("succeeded"),
    failed: count("failed"),
    skipped: count("skipped"),
    other: guards.length - count("succeeded") - count("failed") - count("skipped")
  }
  const summary = counts.total === 0
    ? "Guardrails: spec-guard command not found."
    : counts.failed > 0
    ? `Guardrails: spec-guard failed (${counts.failed}/${counts.total} failed).`
    : counts.succeeded === counts.total
    ? `Guardrails: spec-guard succeeded (${counts.total} passed).`
    : counts.skipped === counts.total
    ? `Guardrails: spec-guard skipped (all ${counts.total} skipped).`
    : `Guardrails: spec-guard partial (${
      [
        counts.succeeded > 0 ? `${counts.succeeded} passed` : "",
        counts.skipped > 0 ? `${counts.skipped} skipped` : "",
        counts.other > 0 ? `${counts.other} pending` : ""
      ].filter((part) => part.length > 0).join(", ")
    } of ${counts.total}).`
  const recommendation = counts.total === 0
    ? (guardrailsRequired ? missingRecommendation : null)
    : counts.failed > 0
    ? failedRecommendation
    : null
  return { present: counts.succeeded > 0, recommendation, summary, computed_at: computedAt, counts }
}
