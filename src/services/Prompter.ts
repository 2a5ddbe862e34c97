import { Context, type Effect } from "effect"

export interface ApprovalQuestion {
  readonly key: string
  readonly stageId: string
  readonly title: string
  readonly command: string
}

/**
 * Asks a person to approve a stage (DECISIONS D-14). `unavailable` when nobody can be asked
 * (no terminal); the caller turns that into a clear failure, never a silent grant.
 */
export class Prompter extends Context.Tag("orchestrator/Prompter")<
  Prompter,
  {
    readonly ask: (question: ApprovalQuestion) => Effect.Effect<"granted" | "denied" | "unavailable">
  }
>() {}
