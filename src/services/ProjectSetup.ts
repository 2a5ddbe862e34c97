import { Context, type Effect } from "effect"
import type { PromptOutcome } from "../domain/CodexPrompts.js"
import type { FileAccessError } from "../domain/FileErrors.js"

/** What installing did with one prompt file. */
export interface InstalledPrompt {
  readonly path: string
  readonly outcome: PromptOutcome
}

/**
 * Setting a machine or a repository up for the orchestrator: the Codex CLI prompt files (seed
 * README, "Codex CLI prompts").
 */
export class ProjectSetup extends Context.Tag("orchestrator/ProjectSetup")<
  ProjectSetup,
  {
    /**
     * Writes every Codex prompt into `dir` (created if missing). A file equal to what we ship is left
     * alone, one equal to an earlier version is updated, one the user changed is kept unless `force`.
     */
    readonly installPrompts: (dir: string, force: boolean) => Effect.Effect<ReadonlyArray<InstalledPrompt>, FileAccessError>
  }
>() {}
