/**
 * `codex-orchestrator init [--task id]`: scaffolds a repository for the orchestrator (seed README,
 * "Customizing for New Projects"). The list of files written is the result, on stdout; what to do
 * next goes to stderr.
 */
import { Command, Options } from "@effect/cli"
import { Console, Effect, Either, Layer, Option } from "effect"
import { resolveTaskId } from "../domain/Ids.js"
import { scaffoldPipelineId } from "../domain/ProjectTemplates.js"
import { GitLive } from "../layers/Git.js"
import { ProjectSetupLive } from "../layers/ProjectSetup.js"
import { BaseConfig } from "../services/BaseConfig.js"
import { Git } from "../services/Git.js"
import { ProjectSetup } from "../services/ProjectSetup.js"
import { processLayer } from "./gateLayers.js"
import { UsageError } from "./usage.js"

const task = Options.text("task").pipe(
  Options.withDescription("The first task's id: the spec, checklist and mirrors are named after it (default: $MCP_RUNNER_TASK_ID, else 0101)"),
  Options.optional
)

const firstCommit = `\`git init && git add -A && git commit -m "Scaffold the orchestrator"\``
const why = "the spec guard and the diff budget compare commits"

/**
 * The first thing to do with the scaffold: commit it, in a repository; outside one, there is nothing
 * to commit to, so make one first; without git, install it.
 */
const firstStep = (root: string) =>
  Effect.flatMap(Git, (git) => git.run(["rev-parse", "--is-inside-work-tree"], root)).pipe(
    Effect.map((inside) =>
      inside.exitCode === 0 && inside.stdout.trim() === "true"
        ? "commit these files"
        : `${root} is not in a git repository, and ${why}: ${firstCommit} there`
    ),
    Effect.catchTag("GitUnavailable", (error) =>
      Effect.succeed(`git could not be run (${error.reason}), and ${why}: install git, then ${firstCommit} in ${root}`))
  )

/** `init`: the scaffold, all or nothing. */
export const init = Command.make("init", { task }, (flags) =>
  Effect.gen(function*() {
    const base = yield* BaseConfig
    const taskId = yield* Either.match(resolveTaskId(base.envTaskId, Option.getOrUndefined(flags.task)), {
      onLeft: (error) => Effect.fail(new UsageError({ reason: error.message })),
      onRight: Effect.succeed
    })
    const written = yield* (yield* ProjectSetup).init(taskId).pipe(
      Effect.catchTag("InitRefused", (error) => Effect.fail(new UsageError({ reason: error.message })))
    )
    yield* Console.log(written.map((file) => `wrote ${file}`).join("\n"))
    yield* Console.error(
      `Next: ${yield* firstStep(base.roots.repoRoot)}, then \`codex-orchestrator start\` runs the "${scaffoldPipelineId}" pipeline of ` +
        `codex.orchestrator.json; \`NOTES="Goal: ... | Summary: ... | Risks: ..." codex-orchestrator start ` +
        `implementation-gate --task ${taskId}\` runs the review gate.`
    )
  })).pipe(
  Command.withDescription(
    "Scaffolds this repository (CODEX_ORCHESTRATOR_ROOT, default the working directory) for the orchestrator: " +
      `codex.orchestrator.json with a default pipeline "${scaffoldPipelineId}" (the built-in diagnostics, then the docs ` +
      "check), tasks/index.json with the task, tasks/specs/<task>-kickoff.md dated today (last_review), the task's " +
      "checklist tasks/tasks-<task>-kickoff.md mirrored into .agent/task/ and docs/TASKS.md, docs/PRD.md, " +
      "docs/TECH_SPEC.md, docs/ACTION_PLAN.md, .agent/SOPs/review-gate.md and AGENTS.md. Writes nothing when any of " +
      "these exists (exit 2, naming them); prints the files written. " +
      "Example: codex-orchestrator init --task 0001"
  ),
  Command.provide(Layer.merge(ProjectSetupLive, GitLive.pipe(Layer.provide(processLayer))))
)
