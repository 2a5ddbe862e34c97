import { type Duration, Effect, Layer, PubSub, Queue, Ref, Stream, SubscriptionRef } from "effect"
import type { EventOfType, LogEvent, OrchestratorEvent, OrchestratorEventType } from "../domain/Events.js"
import { EventBus } from "../services/EventBus.js"

/**
 * A handler registered with `on`: its event type, how many events it has handled and, for `log`
 * handlers, how many its channel dropped before it took them (handled + dropped is what it is done with).
 */
interface Handled {
  readonly type: OrchestratorEventType
  readonly count: SubscriptionRef.SubscriptionRef<number>
  readonly dropped: Ref.Ref<number> | undefined
}

/** How many events the handler is done with: handled, or dropped before it could take them. */
const doneWith = (entry: Handled) =>
  Effect.zipWith(SubscriptionRef.get(entry.count), entry.dropped === undefined ? Effect.succeed(0) : Ref.get(entry.dropped), (n, d) => n + d)

const caughtUp = (entry: Handled, target: number) =>
  entry.count.changes.pipe(Stream.mapEffect(() => doneWith(entry)), Stream.takeUntil((n) => n >= target), Stream.runDrain)

const ofType = <T extends OrchestratorEventType>(type: T) => (event: OrchestratorEvent): event is EventOfType<T> =>
  event.type === type

/** How many `log` chunks a subscriber may leave untaken before the oldest are dropped. */
export const logCapacity = 256

/** One subscription to the log channel: its own sliding queue, and how many chunks it lost. */
interface LogSubscription {
  readonly queue: Queue.Queue<LogEvent>
  readonly dropped: Ref.Ref<number>
}

/**
 * The bus on an unbounded PubSub: `publish` never waits, whatever the subscribers do. Its events
 * carry summaries, so a subscriber that falls behind holds little. Output (`log`) goes to a sliding
 * queue per log subscription instead, bounded to `logCapacity`, which counts what it drops. Handlers
 * registered with `on` count what they have handled, which is what `settled` waits for.
 */
export const EventBusLive = Layer.scoped(
  EventBus,
  Effect.gen(function*() {
    const hub = yield* Effect.acquireRelease(PubSub.unbounded<OrchestratorEvent>(), PubSub.shutdown)
    const published = yield* Ref.make(0)
    const logsPublished = yield* Ref.make(0)
    const handled = yield* Ref.make<ReadonlyArray<Handled>>([])
    const logSubscriptions = yield* Ref.make<ReadonlyArray<LogSubscription>>([])

    const subscribeMain = Effect.map(PubSub.subscribe(hub), (queue) => Stream.fromQueue(queue))
    const subscribeLogQueue = Effect.acquireRelease(
      Effect.gen(function*() {
        const subscription: LogSubscription = { queue: yield* Queue.sliding<LogEvent>(logCapacity), dropped: yield* Ref.make(0) }
        yield* Ref.update(logSubscriptions, (all) => [...all, subscription])
        return subscription
      }),
      (subscription) =>
        Ref.update(logSubscriptions, (all) => all.filter((other) => other !== subscription)).pipe(
          Effect.zipRight(Queue.shutdown(subscription.queue))
        )
    )
    // One chunk at a time: a stream that took a batch would hold it outside the bounded queue.
    const logStream = (subscription: LogSubscription) => Stream.fromQueue(subscription.queue, { maxChunkSize: 1 })
    const subscribeLogs = Effect.map(subscribeLogQueue, logStream)
    const subscribe = Effect.zipWith(subscribeMain, subscribeLogs, (main, logs): Stream.Stream<OrchestratorEvent> =>
      Stream.merge(main, logs))

    const publishLog = (event: LogEvent) =>
      Ref.update(logsPublished, (n) => n + 1).pipe(
        Effect.zipRight(Ref.get(logSubscriptions)),
        Effect.flatMap((subscriptions) =>
          Effect.forEach(subscriptions, ({ dropped, queue }) =>
            Effect.flatMap(Queue.size(queue), (size) =>
              // A full sliding queue drops its oldest chunk to take this one.
              (size >= logCapacity ? Ref.update(dropped, (n) => n + 1) : Effect.void).pipe(Effect.zipRight(Queue.offer(queue, event)))
            ), { discard: true })
        )
      )

    /** What `settled` waits for: each handler caught up with what its channel had published. */
    const targets = Effect.zipWith(Ref.get(published), Ref.get(logsPublished), (main, logs) => (entry: Handled) =>
      entry.type === "log" ? logs : main)

    return EventBus.of({
      publish: (event) =>
        event.type === "log"
          ? publishLog(event)
          : Ref.update(published, (n) => n + 1).pipe(Effect.zipRight(PubSub.publish(hub, event)), Effect.asVoid),
      subscribe,
      subscribeTo: (type) =>
        Effect.map(
          type === "log" ? subscribeLogs : subscribeMain,
          (events: Stream.Stream<OrchestratorEvent>) => Stream.filter(events, ofType(type))
        ),
      wantsLogs: Effect.map(Ref.get(logSubscriptions), (all) => all.length > 0),
      on: (type, handler) =>
        Effect.gen(function*() {
          const matches = ofType(type)
          const run = (event: OrchestratorEvent) =>
            matches(event)
              ? handler(event).pipe(
                Effect.catchAllCause((cause) => Effect.logWarning(`A ${type} subscriber failed; the run is not affected.`, cause))
              )
              : Effect.void
          // Subscribed first, then counted: every event published from here on reaches the handler.
          const log = type === "log" ? yield* subscribeLogQueue : undefined
          const events = log === undefined ? yield* subscribeMain : logStream(log)
          const count = yield* SubscriptionRef.make(yield* Ref.get(log === undefined ? published : logsPublished))
          const entry: Handled = { type, count, dropped: log?.dropped }
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
        const target = yield* targets
        yield* Effect.forEach(yield* Ref.get(handled), (entry) => caughtUp(entry, target(entry)), { discard: true })
      }),
      settle: (within: Duration.DurationInput) =>
        Effect.gen(function*() {
          const target = yield* targets
          const entries = yield* Ref.get(handled)
          // Waited for together, so the bound is on the whole wait, not on each handler.
          yield* Effect.forEach(entries, (entry) => caughtUp(entry, target(entry)), { concurrency: "unbounded", discard: true }).pipe(
            Effect.timeoutOption(within)
          )
          const behind = yield* Effect.filter(entries, (entry) => Effect.map(doneWith(entry), (n) => n < target(entry)))
          return behind.map((entry) => entry.type)
        })
    })
  })
)
