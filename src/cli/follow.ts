/**
 * What `--follow` prints (DECISIONS B-2): a stage's output as it arrives, raw while one stage runs;
 * while more than one runs, each line prefixed with `[<stage id>] ` (a line cut across chunks is
 * held until its end, or until its stage completes) so that side-by-side stages stay readable.
 */
import { Effect } from "effect"
import { EventBus } from "../services/EventBus.js"
import { writeStderr } from "./streams.js"

export const makeFollowPrinter = (write: (text: string) => Effect.Effect<void>) => {
  const running = new Set<string>()
  const partial = new Map<string, string>()
  const flush = (id: string) => {
    const rest = partial.get(id)
    partial.delete(id)
    return rest === undefined ? Effect.void : write(`[${id}] ${rest}\n`)
  }
  return {
    started: (id: string) => Effect.sync(() => void running.add(id)),
    completed: (id: string) =>
      Effect.suspend(() => {
        running.delete(id)
        return flush(id)
      }),
    output: (id: string, text: string) =>
      Effect.suspend(() => {
        if (running.size <= 1 && !partial.has(id)) return write(text)
        const lines = `${partial.get(id) ?? ""}${text}`.split("\n")
        const rest = lines.pop() ?? ""
        if (rest.length > 0) partial.set(id, rest)
        else partial.delete(id)
        return lines.length === 0 ? Effect.void : write(lines.map((line) => `[${id}] ${line}\n`).join(""))
      })
  }
}

/**
 * `--follow`: the run's `log` events (EVT-2) to stderr while `run` runs; the engine settles the
 * handler before it returns, so the last lines are printed too. The bus's log channel is bounded: a
 * terminal that cannot keep up loses output lines here, never the run's memory.
 */
export const following = (on: boolean) => <A, E, R>(run: Effect.Effect<A, E, R>) =>
  on
    ? Effect.scoped(Effect.gen(function*() {
      const bus = yield* EventBus
      const printer = makeFollowPrinter(writeStderr)
      yield* bus.on("stage:started", (event) => printer.started(event.stageId))
      yield* bus.on("stage:completed", (event) => printer.completed(event.stageId))
      yield* bus.on("log", (event) => printer.output(event.stageId, event.message))
      return yield* run
    }))
    : run
