import { Context, type Effect } from "effect"
import type { FileAccessError } from "../domain/FileErrors.js"
import type { InstructionStampMismatch } from "../domain/Instructions.js"

/** What a run records about the agent instructions it ran under (manifest `instructions_*`, INS-3). */
export interface ResolvedInstructions {
  /** SHA-256 hex of the combined bodies; null when no file contributes. */
  readonly hash: string | null
  /** The contributing files, repo-relative, in source order. */
  readonly sources: ReadonlyArray<string>
}

/**
 * The repository's agent instruction files (SPEC INS-1..3, DECISIONS D-15), read when a run is
 * prepared so a bad root file stops it before anything is written. Rules are in domain/Instructions.ts.
 */
export class Instructions extends Context.Tag("orchestrator/Instructions")<
  Instructions,
  {
    /**
     * Reads every source now (not cached: the files may change between runs). Fails only for the
     * root `AGENTS.md`; an optional file with a bad stamp is logged as a warning and skipped.
     */
    readonly resolve: Effect.Effect<ResolvedInstructions, InstructionStampMismatch | FileAccessError>
  }
>() {}
