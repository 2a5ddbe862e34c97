/**
 * D-2 for an interrupted run (issue 16 item 8): Ctrl-C during `start` or `resume` still prints the
 * run's document on stdout (`--format json` included), as for any finished run, once the engine has
 * recorded it `cancelled`. The run is the first one created (`run:created`; a resumed run's
 * `run:started`), which is the command's own: child runs of nested stages come later. Interrupted
 * before any run exists, there is nothing to print.
 */
import { Effect, Option, Ref } from "effect"
import type { CliManifest } from "../domain/Manifest.js"
import { EventBus } from "../services/EventBus.js"
import { RunEngine } from "../services/RunEngine.js"
import { RunStore } from "../services/RunStore.js"

/** `run`, printing the run with `print` if it is interrupted once the run exists. */
export const printedIfCancelled = (print: (manifest: CliManifest) => Effect.Effect<void>) =>
<A, E, R>(run: Effect.Effect<A, E, R>) =>
  Effect.scoped(Effect.gen(function*() {
    const bus = yield* EventBus
    const engine = yield* RunEngine
    const store = yield* RunStore
    const started = yield* Ref.make(Option.none<{ readonly runId: string; readonly taskId: string }>())
    const remember = (event: { readonly runId: string; readonly taskId: string }) =>
      Ref.update(started, (first) => (Option.isSome(first) ? first : Option.some({ runId: event.runId, taskId: event.taskId })))
    yield* bus.on("run:created", remember)
    yield* bus.on("run:started", remember)
    return yield* run.pipe(Effect.onInterrupt(() =>
      Effect.flatMap(Ref.get(started), (first) =>
        Option.isNone(first)
          ? Effect.void
          : engine.status(first.value).pipe(
            Effect.flatMap((view) => store.read(view.layout)),
            Effect.flatMap(print),
            Effect.catchAll((error) => Effect.logError(`The cancelled run could not be printed: ${error.message}`))
          ))
    ))
  }))
