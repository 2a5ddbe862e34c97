import { type Duration, Effect, Layer, PubSub, Ref, Stream, SubscriptionRef } from "effect"
import type { EventOfType, LogEvent, OrchestratorEvent, OrchestratorEventType } from "../domain/Events.js"
import { EventBus } from "../services/EventBus.js"

/** A handler registered with `on`: its event type and how many published events it has handled. */
interface Handled {
  readonly type: OrchestratorEventType
  readonly count: SubscriptionRef.SubscriptionRef<number>
}

const caughtUp = (entry: Handled, target: number) =>
  entry.count.changes.pipe(Stream.takeUntil((n) => n >= target), Stream.runDrain)

const ofType = <T extends OrchestratorEventType>(type: T) => (event: OrchestratorEvent): event is EventOfType<T> =>
  event.type === type

/** How many `log` chunks a subscriber may leave untaken before the oldest are dropped. */
export const logCapacity = 256

/**
 * The bus on an unbounded PubSub: `publish` never waits, whatever the subscribers do. Its events
 * carry summaries, so a subscriber that falls behind holds little. Output (`log`) has a sliding
 * PubSub of its own, bounded to `logCapacity`. Handlers registered with `on` count what they have
 * handled, which is what `settled` waits for.
 */
export const EventBusLive = Layer.scoped(
  EventBus,
  Effect.gen(function*() {
    const hub = yield* Effect.acquireRelease(PubSub.unbounded<OrchestratorEvent>(), PubSub.shutdown)
    const logHub = yield* Effect.acquireRelease(PubSub.sliding<LogEvent>(logCapacity), PubSub.shutdown)
    const published = yield* Ref.make(0)
    const handled = yield* Ref.make<ReadonlyArray<Handled>>([])
    const logSubscribers = yield* Ref.make(0)

    const subscribeMain = Effect.map(PubSub.subscribe(hub), (queue) => Stream.fromQueue(queue))
    const subscribeLogs = Effect.zipRight(
      Effect.acquireRelease(Ref.update(logSubscribers, (n) => n + 1), () => Ref.update(logSubscribers, (n) => n - 1)),
      Effect.map(PubSub.subscribe(logHub), (queue) => Stream.fromQueue(queue))
    )
    const subscribe = Effect.zipWith(subscribeMain, subscribeLogs, (main, logs): Stream.Stream<OrchestratorEvent> =>
      Stream.merge(main, logs))

    return EventBus.of({
      publish: (event) =>
        event.type === "log"
          ? Effect.asVoid(PubSub.publish(logHub, event))
          : Ref.update(published, (n) => n + 1).pipe(Effect.zipRight(PubSub.publish(hub, event)), Effect.asVoid),
      subscribe,
      subscribeTo: (type) =>
        Effect.map(
          type === "log" ? subscribeLogs : subscribeMain,
          (events: Stream.Stream<OrchestratorEvent>) => Stream.filter(events, ofType(type))
        ),
      wantsLogs: Effect.map(Ref.get(logSubscribers), (n) => n > 0),
      on: (type, handler) =>
        Effect.gen(function*() {
          const matches = ofType(type)
          const run = (event: OrchestratorEvent) =>
            matches(event)
              ? handler(event).pipe(
                Effect.catchAllCause((cause) => Effect.logWarning(`A ${type} subscriber failed; the run is not affected.`, cause))
              )
              : Effect.void
          // Lossy by design: nothing to count, and `settled` does not wait for it.
          if (type === "log") return yield* Effect.forkScoped(Stream.runForEach(yield* subscribeLogs, run))
          // Subscribed first, then counted: every event published from here on reaches the handler.
          const events = yield* subscribeMain
          const count = yield* SubscriptionRef.make(yield* Ref.get(published))
          const entry: Handled = { type, count }
          // A handler whose scope has closed handles nothing more: `settled` must stop waiting for it.
          yield* Effect.acquireRelease(
            Ref.update(handled, (all) => [...all, entry]),
            () => Ref.update(handled, (all) => all.filter((other) => other !== entry))
          )
          yield* events.pipe(
            Stream.runForEach((event) => run(event).pipe(Effect.ensuring(SubscriptionRef.update(count, (n) => n + 1)))),
            Effect.forkScoped
          )
        }),
      settled: Effect.gen(function*() {
        const target = yield* Ref.get(published)
        yield* Effect.forEach(yield* Ref.get(handled), (entry) => caughtUp(entry, target), { discard: true })
      }),
      settle: (within: Duration.DurationInput) =>
        Effect.gen(function*() {
          const target = yield* Ref.get(published)
          const entries = yield* Ref.get(handled)
          // Waited for together, so the bound is on the whole wait, not on each handler.
          yield* Effect.forEach(entries, (entry) => caughtUp(entry, target), { concurrency: "unbounded", discard: true }).pipe(
            Effect.timeoutOption(within)
          )
          const behind = yield* Effect.filter(entries, (entry) => Effect.map(SubscriptionRef.get(entry.count), (n) => n < target))
          return behind.map((entry) => entry.type)
        })
    })
  })
)
