import { Context, type Effect } from "effect"
import type { FileAccessError, InvalidFile } from "../domain/FileErrors.js"
import type { PromptPackEntry, PromptPackError } from "../domain/PromptPacks.js"

/**
 * The repository's prompt packs (SPEC INS-4, INS-5), read when a run is prepared so that a pack
 * with a bad stamp, a missing source or a malformed manifest stops it before anything is written.
 * Rules are in domain/PromptPacks.ts.
 */
export class PromptPacks extends Context.Tag("orchestrator/PromptPacks")<
  PromptPacks,
  {
    /**
     * Reads every pack now (not cached: packs may change between runs) and checks each stamp; also
     * checks TFGRPO_EXPERIENCE_MAX_WORDS (INS-5). No packs folder: no packs. Sorted by domain, then id.
     */
    readonly load: Effect.Effect<ReadonlyArray<PromptPackEntry>, PromptPackError | InvalidFile | FileAccessError>
  }
>() {}
