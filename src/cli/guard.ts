/**
 * `codex-orchestrator guard spec | diff-budget | docs` (SPEC GRD-1, GRD-2, GRD-4): the review gate's
 * checks, on the repository at CODEX_ORCHESTRATOR_ROOT (default: the working directory). The report
 * is the result, on stdout; a failed check exits 1 after printing it, bad input exits 2.
 */
import { Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { budgetFails, defaultMaxFiles, defaultMaxLines, limitFromEnv, renderBudget } from "../domain/DiffBudget.js"
import { renderDocsCheck } from "../domain/DocsCheck.js"
import { decodeSettings, gateSection } from "../domain/Settings.js"
import { renderSpecGuard } from "../domain/SpecGuard.js"
import { Guards } from "../services/Guards.js"
import { gateLayer } from "./gateLayers.js"
import { CheckFailed, printJson, UsageError } from "./usage.js"

/** The review gate's variables (Settings.ts, `gate` section). */
export const gateSettings = decodeSettings(gateSection)

/** What is wrong with the repository or the request rather than with the change: exit 2, one line (D-1). */
const badInput: ReadonlySet<string> = new Set([
  "NotAGitRepository",
  "UnknownRevision",
  "DocsSyncError",
  "GitUnavailable",
  "ReviewNotReady",
  "InvalidFile"
])

/** Turns the bad-input errors into UsageError (exit 2); anything else (an unwritable file) stays as it is (exit 1). */
export const asUsageError = <A, E extends { readonly _tag: string; readonly message: string }, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.catchIf(
    effect,
    (error) => badInput.has(error._tag),
    (error) => Effect.fail(new UsageError({ reason: error.message }))
  )

const dryRun = Options.boolean("dry-run").pipe(Options.withDescription("Report the problems but exit 0"))

const spec = Command.make("spec", { dryRun }, (flags) =>
  asUsageError(Effect.gen(function*() {
    const report = yield* (yield* Guards).spec({ baseSha: (yield* gateSettings).baseSha })
    const { failed, lines } = renderSpecGuard(report, flags.dryRun)
    yield* Console.log(lines.join("\n"))
    if (failed) return yield* new CheckFailed({ check: "spec guard" })
  }))).pipe(Command.withDescription(
  "Spec guard: when code changed (src/, app/, server/, migrations/, db/migrations/, prisma/migrations/), a spec " +
    "must have changed too (tasks/specs/, docs/design/specs/ or tasks/index.json); every *.md directly in tasks/specs/ " +
    "and docs/design/specs/ needs a `last_review: YYYY-MM-DD` line at most 30 days old. Changes are taken from " +
    "<base>...HEAD (base: $BASE_SHA if it names a commit, else origin/main, else the first commit), or HEAD~1..HEAD " +
    "when that is empty. Exit 0 OK, 1 issues, 2 not a git repository."
))

const budgetFlags = {
  base: Options.text("base").pipe(Options.withDescription("Diff the working tree against this ref (default: $BASE_SHA, $DIFF_BUDGET_BASE, origin/main, the first commit)"), Options.optional),
  commit: Options.text("commit").pipe(Options.withDescription("Measure only this commit's own changes (the working tree is ignored)"), Options.optional),
  maxFiles: Options.integer("max-files").pipe(Options.withDescription(`Most changed files allowed (default: $DIFF_BUDGET_MAX_FILES, else ${defaultMaxFiles})`), Options.optional),
  maxLines: Options.integer("max-lines").pipe(Options.withDescription(`Most lines added + deleted allowed (default: $DIFF_BUDGET_MAX_LINES, else ${defaultMaxLines})`), Options.optional),
  format: Options.choice("format", ["text", "json"]).pipe(Options.withDescription("text: the report; json: one JSON document"), Options.withDefault("text")),
  dryRun
}

/** A limit: the flag (0 or more, else exit 2), else the environment variable's `raw` text (lenient, GRD-2), else the default. */
export const limit = (flag: Option.Option<number>, flagName: string, name: string, raw: string | undefined, fallback: number) =>
  Effect.gen(function*() {
    if (Option.isSome(flag)) {
      if (flag.value < 0) return yield* new UsageError({ reason: `${flagName} must be 0 or more (got ${flag.value}).` })
      return flag.value
    }
    const { value, warning } = limitFromEnv(name, raw, fallback)
    if (warning !== undefined) yield* Console.error(`warning: ${warning}`)
    return value
  })

const diffBudget = Command.make("diff-budget", budgetFlags, (flags) =>
  asUsageError(Effect.gen(function*() {
    if (Option.isSome(flags.base) && Option.isSome(flags.commit)) {
      return yield* new UsageError({ reason: "--base and --commit measure different things; give one of them." })
    }
    const gate = yield* gateSettings
    const report = yield* (yield* Guards).diffBudget({
      base: Option.getOrUndefined(flags.base),
      commit: Option.getOrUndefined(flags.commit),
      envBase: [gate.baseSha, gate.diffBudgetBase],
      maxFiles: yield* limit(flags.maxFiles, "--max-files", "DIFF_BUDGET_MAX_FILES", gate.maxFiles, defaultMaxFiles),
      maxLines: yield* limit(flags.maxLines, "--max-lines", "DIFF_BUDGET_MAX_LINES", gate.maxLines, defaultMaxLines),
      overrideReason: gate.overrideReason
    })
    yield* flags.format === "json"
      ? printJson({ ...report, dry_run: flags.dryRun, passed: !budgetFails(report, flags.dryRun) })
      : Console.log(renderBudget(report, flags.dryRun).join("\n"))
    if (budgetFails(report, flags.dryRun)) return yield* new CheckFailed({ check: "diff budget" })
  }))).pipe(Command.withDescription(
  "Diff budget: changed files and lines (added + deleted) against limits (default 25 files / 800 lines), counting " +
    "untracked files and skipping package-lock.json, .runs/, archives/, dist/, node_modules/ and out/. Over budget: " +
    "exit 1, unless DIFF_BUDGET_OVERRIDE_REASON says why the change must be large (accepted, exit 0) or --dry-run. " +
    "Exit 2 on bad flags, an unknown ref, or outside a git repository."
))

const docs = Command.make("docs", {
  sync: Options.boolean("sync").pipe(Options.withDescription("Mirror the task's checklist (tasks/tasks-<id>-<slug>.md) into .agent/task/ and docs/TASKS.md instead of checking")),
  task: Options.text("task").pipe(Options.withDescription("With --sync: the task id (or <id>-<slug>) from tasks/index.json"), Options.optional)
}, (flags) =>
  asUsageError(Effect.gen(function*() {
    const guards = yield* Guards
    if (flags.sync) {
      if (Option.isNone(flags.task)) return yield* new UsageError({ reason: "--sync needs --task <id> (an id from tasks/index.json)." })
      const written = yield* guards.syncDocs(flags.task.value)
      return yield* Console.log(written.length === 0 ? "docs:sync: up to date" : written.map((file) => `docs:sync: wrote ${file}`).join("\n"))
    }
    if (Option.isSome(flags.task)) return yield* new UsageError({ reason: "--task is only used with --sync." })
    const findings = yield* guards.docs
    yield* Console.log(renderDocsCheck(findings).join("\n"))
    if (findings.length > 0) return yield* new CheckFailed({ check: "docs check" })
  }))).pipe(Command.withDescription(
  "Docs check: README.md, AGENTS.md and the *.md under .agent/, .ai-dev-tasks/, docs/ and tasks/ may only refer to " +
    "npm scripts in package.json (`npm run x`), pipelines that exist (`codex-orchestrator start x`) and repository " +
    "paths that exist (backticked, first segment at the root). Prints <file>:<line>: <rule>: <reference> per problem; " +
    "exit 1 if any. --sync --task <id> writes the task's checklist mirrors instead."
))

/** `guard`: the repository checks (spec, docs, diff budget) a review gate runs. */
export const guard = Command.make("guard").pipe(
  Command.withDescription("The review gate's checks on this repository: spec, diff-budget, docs (see each one's --help)."),
  Command.withSubcommands([spec, diffBudget, docs]),
  Command.provide(gateLayer)
)
