import { Context, type Effect, Schema } from "effect"
import type { PromptOutcome } from "../domain/CodexPrompts.js"
import type { FileAccessError } from "../domain/FileErrors.js"

/** What installing did with one prompt file. */
export interface InstalledPrompt {
  readonly path: string
  readonly outcome: PromptOutcome
}

/** `init` found files it would have to overwrite; it wrote nothing. Bad input (exit 2). */
export class InitRefused extends Schema.TaggedError<InitRefused>()("InitRefused", {
  root: Schema.String,
  existing: Schema.Array(Schema.String)
}) {
  override get message() {
    const verb = this.existing.length === 1 ? "exists" : "exist"
    return `init writes nothing over existing files, and ${this.existing.join(", ")} already ${verb} in ${this.root}; ` +
      "move them aside (or run init in a repository without them)."
  }
}

/**
 * Setting a machine or a repository up for the orchestrator: the Codex CLI prompt files (seed
 * README, "Codex CLI prompts") and a new repository's scaffold ("Customizing for New Projects").
 */
export class ProjectSetup extends Context.Tag("orchestrator/ProjectSetup")<
  ProjectSetup,
  {
    /**
     * Writes every Codex prompt into `dir` (created if missing). A file equal to what we ship is left
     * alone, one equal to an earlier version is updated, one the user changed is kept unless `force`.
     */
    readonly installPrompts: (dir: string, force: boolean) => Effect.Effect<ReadonlyArray<InstalledPrompt>, FileAccessError>
    /**
     * Scaffolds the repository root for task `taskId`: config, task index, dated spec, checklists,
     * docs, `.agent/` and AGENTS.md. All or nothing: when any of them exists, nothing is written.
     * Returns the files written (relative to the root).
     */
    readonly init: (taskId: string) => Effect.Effect<ReadonlyArray<string>, FileAccessError | InitRefused>
  }
>() {}
