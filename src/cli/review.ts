/**
 * `codex-orchestrator review` (SPEC GRD-5): the hand-off to `codex review`. codex's output is the
 * result (stdout/stderr as codex printed them); the budget report and the prompt's path go to stderr.
 */
import { Command, Options } from "@effect/cli"
import { Effect, Layer, Option } from "effect"
import { defaultMaxFiles, defaultMaxLines } from "../domain/DiffBudget.js"
import { skipsDiffBudget } from "../domain/ReviewPrompt.js"
import { ReviewHandoffLive } from "../layers/ReviewHandoff.js"
import { ReviewHandoff } from "../services/ReviewHandoff.js"
import { gateLayer } from "./gateLayers.js"
import { asUsageError, gateSettings, limit } from "./guard.js"
import { stderrLine, writeBytes, writeStderr, writeStdout } from "./streams.js"
import { CheckFailed } from "./usage.js"

const flags = {
  manifest: Options.text("manifest").pipe(Options.withDescription("The evidence manifest (default: $MANIFEST, $CODEX_ORCHESTRATOR_MANIFEST_PATH, else the newest run's)"), Options.optional),
  runsDir: Options.text("runs-dir").pipe(Options.withDescription("Where to look for the newest manifest (default: .runs, or $CODEX_ORCHESTRATOR_RUNS_DIR)"), Options.optional),
  task: Options.text("task").pipe(Options.withDescription("Only this task's runs; and the task named in the prompt (default: the manifest's)"), Options.optional),
  base: Options.text("base").pipe(Options.withDescription("Review the changes since this ref (forwarded to the diff budget)"), Options.optional),
  commit: Options.text("commit").pipe(Options.withDescription("Review this commit only (forwarded to the diff budget)"), Options.optional),
  title: Options.text("title").pipe(Options.withDescription("A title for the review (codex review --title)"), Options.optional),
  notes: Options.text("notes").pipe(Options.withDescription("The hand-off note (default: $NOTES): Goal: ... | Summary: ... | Risks: ... | Questions: ..."), Options.optional)
}

/** `review` (GRD-5): the hand-off to `codex review`, with the diff budget. */
export const review = Command.make("review", flags, (f) =>
  asUsageError(Effect.gen(function*() {
    const handoff = yield* ReviewHandoff
    const gate = yield* gateSettings
    const outcome = yield* handoff.run({
      manifest: Option.getOrUndefined(f.manifest) ?? gate.manifest ?? gate.stageManifestPath,
      runsDir: Option.getOrUndefined(f.runsDir),
      task: Option.getOrUndefined(f.task),
      base: Option.getOrUndefined(f.base),
      commit: Option.getOrUndefined(f.commit),
      title: Option.getOrUndefined(f.title),
      notes: Option.getOrUndefined(f.notes) ?? gate.notes,
      skipDiffBudget: skipsDiffBudget(gate.diffBudgetStage, gate.skipDiffBudget),
      diffBudget: {
        maxFiles: yield* limit(Option.none(), "--max-files", "DIFF_BUDGET_MAX_FILES", gate.maxFiles, defaultMaxFiles),
        maxLines: yield* limit(Option.none(), "--max-lines", "DIFF_BUDGET_MAX_LINES", gate.maxLines, defaultMaxLines),
        envBase: [gate.baseSha, gate.diffBudgetBase],
        overrideReason: gate.overrideReason
      },
      codex: gate.codexBin,
      devtools: gate.reviewDevtools,
      // A slow reader slows codex rather than filling our memory; one that has gone (`| head`) gets nothing more.
      onOutput: (stream, chunks) => Effect.forEach(chunks, (bytes) => writeBytes(stream, bytes), { discard: true }),
      onProgress: (line) => writeStderr(stderrLine(line))
    }).pipe(
      Effect.catchTag("ReviewOverBudget", (error) =>
        Effect.zipRight(
          writeStdout(`${error.lines.join("\n")}\n`),
          Effect.fail(new CheckFailed({ check: "diff budget" }))
        ))
    )
    if (outcome.exitCode !== 0) {
      yield* writeStderr(stderrLine(`[run-review] failed: codex review exited with code ${outcome.exitCode ?? "null (killed)"}`))
      return yield* new CheckFailed({ check: "codex review" })
    }
  }))).pipe(
  Command.withDescription(
    "Hand the change to `codex review`: runs the diff budget first (skipped with DIFF_BUDGET_STAGE=1 or " +
      "SKIP_DIFF_BUDGET=1; over budget: its report on stdout, exit 1), finds the evidence manifest, builds the prompt " +
      "(task, manifest, task checklist and PRD bullets, NOTES, a review checklist, the scope) and saves it next to the " +
      "manifest as review-prompt.md, then runs `codex review [--title t] <prompt>` ($CODEX_BIN, default codex; " +
      "CODEX_REVIEW_DEVTOOLS=1 uses scripts/codex-devtools.sh when executable, else enables the Chrome DevTools MCP " +
      "server). Exit 0 when codex review succeeded, 1 when it failed, 2 when something is missing (manifest, NOTES, codex). " +
      "Example: codex-orchestrator review --commit HEAD --title 'Fix review' --notes 'Goal: fix | Summary: one commit | Risks: low'"
  ),
  Command.provide(ReviewHandoffLive.pipe(Layer.provideMerge(gateLayer)))
)
