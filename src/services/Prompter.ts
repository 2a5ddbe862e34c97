import { Context, type Effect, FiberRef, GlobalValue } from "effect"

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

/**
 * Something drawn on the terminal that a question must not be written over (the HUD, HUD-1): the
 * terminal prompter calls `aside` before it writes the question and `back` once it has the answer
 * (or was interrupted). Set for a run with `Effect.locally(currentPromptScreen, screen)`.
 */
export interface PromptScreen {
  readonly aside: (question: ApprovalQuestion) => Effect.Effect<void>
  readonly back: Effect.Effect<void>
}

/** The screen of the fiber that asks; none by default. */
export const currentPromptScreen: FiberRef.FiberRef<PromptScreen | undefined> = GlobalValue.globalValue(
  Symbol.for("orchestrator/currentPromptScreen"),
  () => FiberRef.unsafeMake<PromptScreen | undefined>(undefined)
)
