/**
 * One executor's view of the runners' load (issue 18): how many of its attempts each runner has, the
 * runners that just refused one (full with other orchestrators' stages), and a signal completed
 * whenever one of its attempts ends, so a stage waiting for a slot wakes when one may be free.
 */
import { Clock, Deferred, Duration, Effect, Ref } from "effect"
import { chooseRunner, type RunnerChoice, type RunnerLoad, type ShardMap } from "./shardMap.js"

const counted = (load: RunnerLoad, runner: string | undefined, delta: number): RunnerLoad => {
  if (runner === undefined) return load
  const inFlight = new Map(load.inFlight).set(runner, Math.max(0, (load.inFlight.get(runner) ?? 0) + delta))
  // One of ours left there: a slot is free now, whoever filled the others.
  const fullUntil = delta < 0 ? new Map([...load.fullUntil].filter(([name]) => name !== runner)) : load.fullUntil
  return { ...load, inFlight, fullUntil }
}

/** An attempt of ours ended on `runner`: the latest end (chooseRunner gives ties to the runner whose last end is oldest). */
const ended = (load: RunnerLoad, runner: string | undefined): RunnerLoad => {
  if (runner === undefined) return load
  const lastEnded = new Map(load.lastEnded)
  return { ...load, lastEnded: lastEnded.set(runner, Math.max(0, ...lastEnded.values()) + 1) }
}

export const makeRunnerLoad = (fullFor: Duration.DurationInput) =>
  Effect.gen(function*() {
    const load = yield* Ref.make<RunnerLoad>({ inFlight: new Map(), fullUntil: new Map() })
    const released = yield* Ref.make(yield* Deferred.make<void>())
    const pulse = Effect.flatMap(Deferred.make<void>(), (next) =>
      Effect.flatMap(Ref.getAndSet(released, next), (previous) => Deferred.succeed(previous, undefined)))
    return {
      /** Completed when one of this executor's attempts ends after this was read. */
      released: Ref.get(released),
      /**
       * Chooses a runner of `group` for `key` and, when it has a free slot, takes the slot in the same
       * step (stages choosing side by side each see the others' slots taken). Also says how long until
       * the first refusal lapses, for a wait while none is free.
       */
      take: (map: ShardMap, group: string, key: string) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Ref.modify(load, (current): [{ readonly choice: RunnerChoice | undefined; readonly lapse: number }, RunnerLoad] => {
            const choice = chooseRunner(map, group, current, key, now)
            const lapse = Math.min(...Array.from(current.fullUntil.values()).filter((until) => until > now).map((until) => until - now))
            return [{ choice, lapse }, choice?.free === true ? counted(current, choice.runner.name, 1) : current]
          })),
      /** The slot taken on `from` is counted on `to` instead (a record sent the attempt elsewhere). */
      move: (from: string | undefined, to: string | undefined) =>
        from === to ? Effect.void : Ref.update(load, (current) => counted(counted(current, from, -1), to, 1)),
      /** The attempt holding a slot on `runner` ended. */
      release: (runner: string | undefined) => Effect.zipRight(Ref.update(load, (current) => ended(counted(current, runner, -1), runner)), pulse),
      /** `runner` refused an attempt: taken as full for a while, unless one of ours ends there sooner. */
      refusedBy: (runner: string | undefined) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Ref.update(load, (current) => ({
            ...current,
            fullUntil: runner === undefined ? current.fullUntil : new Map(current.fullUntil).set(runner, now + Duration.toMillis(fullFor))
          })))
    }
  })
