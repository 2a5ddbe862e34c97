import { Path } from "@effect/platform"
import { Duration, Effect, Either, Layer, Option, Schema } from "effect"
import { budgetFails, renderBudget } from "../domain/DiffBudget.js"
import {
  buildReviewPrompt,
  codexHelpTimeout,
  listsReview,
  notesTemplate,
  reviewArgv,
  type ReviewScope
} from "../domain/ReviewPrompt.js"
import { parseTaskId } from "../domain/Ids.js"
import { shellCommand } from "../domain/Shell.js"
import { Files } from "../services/Files.js"
import { Git } from "../services/Git.js"
import { Guards } from "../services/Guards.js"
import { BaseConfig } from "../services/BaseConfig.js"
import { ProcessRunner } from "../services/ProcessRunner.js"
import { ReviewHandoff, ReviewNotReady, ReviewOverBudget, type ReviewRequest } from "../services/ReviewHandoff.js"
import { runForText } from "./internal/processText.js"
import { ManifestTask, reviewInputs } from "./internal/reviewInputs.js"

/** A codex whose --help does not answer within codexHelpTimeout. */
const unanswered = (codex: string) =>
  new ReviewNotReady({
    reason: `"${codex} --help" did not answer within ${Duration.toSeconds(codexHelpTimeout)} s; check the Codex CLI (or point CODEX_BIN at one that answers).`
  })

/** The review hand-off on the repository at the configured root (GRD-5). */
export const ReviewHandoffLive = Layer.effect(
  ReviewHandoff,
  Effect.gen(function*() {
    const guards = yield* Guards
    const git = yield* Git
    const files = yield* Files
    const runner = yield* ProcessRunner
    const path = yield* Path.Path
    const config = yield* BaseConfig
    const root = config.roots.repoRoot
    const inputs = reviewInputs(files, path, config.roots)

    /** The codex executable must run and list a `review` command. */
    const checkCodex = (codex: string) =>
      Effect.gen(function*() {
        const missing = new ReviewNotReady({
          reason: `codex is not available: "${codex}" could not be run; install the Codex CLI or set CODEX_BIN to its path.`
        })
        const help = yield* runForText(runner, { command: shellCommand([codex, "--help"]), cwd: root, env: {} }).pipe(
          Effect.catchTag("ProcessSpawnError", () => Effect.fail(missing)),
          Effect.timeoutFail({ duration: codexHelpTimeout, onTimeout: () => unanswered(codex) })
        )
        if (help.exit.exitCode === 127 || help.exit.exitCode === 126) return yield* missing
        if (!listsReview(`${help.stdout}\n${help.stderr}`)) {
          return yield* new ReviewNotReady({
            reason: `"${codex} --help" lists no review command; update the Codex CLI (or point CODEX_BIN at one that has codex review).`
          })
        }
      })

    const gitSummary = (scope: ReviewScope) => {
      const args = scope._tag === "Commit"
        ? ["show", "--stat", "--format=%h %s", scope.commit]
        : scope._tag === "Base"
        ? ["diff", "--stat", scope.base]
        : ["status", "--short"]
      return Effect.map(git.run(args, root), (r) => r.stdout.split("\n").slice(0, 40).join("\n"))
    }

    const devtoolsScript = Effect.gen(function*() {
      const script = path.join(root, "scripts", "codex-devtools.sh")
      const probe = yield* runForText(runner, { command: shellCommand(["test", "-x", script]), cwd: root, env: {} })
      return probe.exit.exitCode === 0 ? script : undefined
    })

    const run = Effect.fn("ReviewHandoff.run")(function*(request: ReviewRequest) {
      // The task names a folder under the runs folder and a checklist file: an id (ID-1), never a path.
      if (request.task !== undefined) {
        yield* Either.mapLeft(parseTaskId(request.task), (error) => new ReviewNotReady({ reason: error.message }))
      }
      const budget = request.skipDiffBudget ? undefined : yield* guards.diffBudget({
        ...request.diffBudget,
        base: request.base,
        commit: request.commit
      })
      if (budget !== undefined) {
        const lines = renderBudget(budget, false)
        if (budgetFails(budget, false)) return yield* new ReviewOverBudget({ lines })
        yield* Effect.forEach(lines, request.onProgress, { discard: true })
      }
      const manifestPath = yield* inputs.findManifest(request)
      yield* checkCodex(request.codex)
      const notes = request.notes?.trim() ?? ""
      if (notes.length === 0) {
        return yield* new ReviewNotReady({ reason: `NOTES is required for a review hand-off: NOTES="${notesTemplate}"` })
      }
      const manifestText = (yield* files.readText(manifestPath)) ?? ""
      const task = request.task ??
        Option.getOrUndefined(Option.map(Schema.decodeUnknownOption(ManifestTask)(manifestText), (m) => m.task_id)) ??
        path.basename(path.dirname(path.dirname(path.dirname(manifestPath))))
      const scope: ReviewScope = request.commit !== undefined
        ? { _tag: "Commit", commit: request.commit }
        : request.base !== undefined
        ? { _tag: "Base", base: request.base }
        : { _tag: "Uncommitted" }
      const prompt = buildReviewPrompt({
        task,
        manifestPath: path.relative(root, manifestPath) || manifestPath,
        ...(yield* inputs.taskContext(task)),
        notes,
        scope,
        gitSummary: yield* gitSummary(scope),
        overrideReason: request.diffBudget.overrideReason
      })
      const promptPath = path.join(path.dirname(manifestPath), "review-prompt.md")
      yield* files.writeAtomic(promptPath, prompt)
      yield* request.onProgress(`[run-review] prompt saved to ${path.relative(root, promptPath) || promptPath}`)
      const argv = reviewArgv({
        codex: request.codex,
        devtools: request.devtools,
        devtoolsScript: request.devtools ? yield* devtoolsScript : undefined,
        title: request.title,
        prompt
      })
      const exit = yield* runner.run({ command: shellCommand(argv), cwd: root, env: {} }, { onStart: () => Effect.void, onOutput: request.onOutput })
      return { manifestPath, promptPath, budget, exitCode: exit.exitCode }
    })

    return ReviewHandoff.of({ run })
  })
)
