import { Context, type Duration, type Effect, type Stream } from "effect"
import type { FileAccessError } from "../domain/FileErrors.js"
import type { BadInput, RunRequest, StatusView } from "./RunEngine.js"

/**
 * Reads runs without writing anything (SPEC CLI-7, D-9): the manifest, its owner, whether it is
 * stale, and its cloud sync record. `status` needs nothing else, so it starts without the engine.
 */
export class RunReader extends Context.Tag("orchestrator/RunReader")<
  RunReader,
  {
    readonly status: (request: RunRequest) => Effect.Effect<StatusView, BadInput | FileAccessError>
    /** The run's status now, then again whenever it changes, until it is finished. */
    readonly watch: (request: RunRequest, interval: Duration.Duration) => Stream.Stream<StatusView, BadInput | FileAccessError>
  }
>() {}
