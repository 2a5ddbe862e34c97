import { type Duration, Effect, Layer, PubSub, Ref, Stream, SubscriptionRef } from "effect"
import type { EventOfType, OrchestratorEvent, OrchestratorEventType } from "../domain/Events.js"
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

/**
 * The bus on an unbounded PubSub: `publish` never waits, whatever the subscribers do. Events carry
 * summaries, never output chunks, so a subscriber that falls behind holds little. Handlers registered
 * with `on` count what they have handled, which is what `settled` waits for.
 */
export const EventBusLive = Layer.scoped(
  EventBus,
  Effect.gen(function*() {
    const hub = yield* Effect.acquireRelease(PubSub.unbounded<OrchestratorEvent>(), PubSub.shutdown)
    const published = yield* Ref.make(0)
    const handled = yield* Ref.make<ReadonlyArray<Handled>>([])

    const subscribe = Effect.map(PubSub.subscribe(hub), (queue) => Stream.fromQueue(queue))

    return EventBus.of({
      publish: (event) => Ref.update(published, (n) => n + 1).pipe(Effect.zipRight(PubSub.publish(hub, event)), Effect.asVoid),
      subscribe,
      subscribeTo: (type) => Effect.map(subscribe, Stream.filter(ofType(type))),
      on: (type, handler) =>
        Effect.gen(function*() {
          // Subscribed first, then counted: every event published from here on reaches the handler.
          const events = yield* subscribe
          const count = yield* SubscriptionRef.make(yield* Ref.get(published))
          const entry: Handled = { type, count }
          // A handler whose scope has closed handles nothing more: `settled` must stop waiting for it.
          yield* Effect.acquireRelease(
            Ref.update(handled, (all) => [...all, entry]),
            () => Ref.update(handled, (all) => all.filter((other) => other !== entry))
          )
          const matches = ofType(type)
          yield* events.pipe(
            Stream.runForEach((event) =>
              (matches(event)
                ? handler(event).pipe(
                  Effect.catchAllCause((cause) => Effect.logWarning(`A ${type} subscriber failed; the run is not affected.`, cause))
                )
                : Effect.void).pipe(Effect.ensuring(SubscriptionRef.update(count, (n) => n + 1)))
            ),
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
