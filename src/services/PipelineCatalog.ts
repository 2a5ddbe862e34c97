import { Context, type Effect } from "effect"
import type { FileAccessError, InvalidFile } from "../domain/FileErrors.js"
import type { PipelineCatalogData, TaskMetadata } from "../domain/Pipeline.js"

/**
 * Where pipelines come from: the repository's `codex.orchestrator.json` and the built-ins shipped
 * as data in `pipelines/` (SPEC CFG-1, CFG-6). Resolution rules are pure (domain/Pipeline.ts).
 */
export class PipelineCatalog extends Context.Tag("orchestrator/PipelineCatalog")<
  PipelineCatalog,
  {
    /** Reads and validates every source; a malformed file fails with every bad field listed. */
    readonly load: Effect.Effect<PipelineCatalogData, InvalidFile | FileAccessError>
    /**
     * EXEC-4: the `notify` list of `codex.orchestrator.json` (empty without one), read without the
     * pipelines' warnings: the CLI asks only when neither `--notify` nor the environment names a target.
     */
    readonly notifyTargets: Effect.Effect<ReadonlyArray<string>, InvalidFile | FileAccessError>
    /** CFG-12: the task's slug and title from `tasks/index.json` (missing file or entry: the id). */
    readonly taskMetadata: (taskId: string) => Effect.Effect<TaskMetadata, InvalidFile | FileAccessError>
  }
>() {}
