import { Duration, Effect, Layer, PubSub, Queue, Ref, Schedule, Stream, SubscriptionRef } from "effect"
import type { EventOfType, LogEvent, OrchestratorEvent, OrchestratorEventType } from "../domain/Events.js"
import { EventBus, type HandlerKind, type LifecycleEvent } from "../services/EventBus.js"

/**
 * A handler registered with `on`: its event type and how many events it has handled. A lifecycle
 * handler has a queue of its own that only the events it matches are offered to (`offered` counts
 * them), so a stage's events wake no `run:completed` handler. A `log` handler is not counted: its
 * channel's queue tells whether it is done (see isCaughtUp).
 */
interface Handled {
  readonly type: HandlerKind
  readonly count: SubscriptionRef.SubscriptionRef<number>
  readonly logQueue: Queue.Queue<LogEvent> | undefined
  readonly events: Queue.Queue<OrchestratorEvent> | undefined
  readonly matches: (event: OrchestratorEvent) => boolean
  offered: number
}

/** A queue's size; a queue shut down (its subscription closed) counts as waited on and empty. */
const queueSize = (queue: Queue.Queue<LogEvent>) => Effect.catchAllCause(Queue.size(queue), () => Effect.succeed(-1))

/** How often `settled` looks at a `log` handler's queue. */
const logPollInterval = Duration.millis(5)

/**
 * Whether the handler is done with the first `target` events offered to it. A `log` handler may
 * have lost chunks to its sliding queue, so counting cannot tell; it is done when its queue is
 * empty and it waits on it (size -1: one taker), which it only does between chunks. A queue shut
 * down with its scope has nothing left either.
 */
const isCaughtUp = (entry: Handled, target: number) =>
  entry.logQueue === undefined
    ? Effect.map(SubscriptionRef.get(entry.count), (n) => n >= target)
    : Effect.map(queueSize(entry.logQueue), (size) => size < 0)

/** Waits for isCaughtUp: on each handled event, or for a `log` handler, polling its queue. */
const caughtUp = (entry: Handled, target: number) =>
  entry.logQueue === undefined
    ? entry.count.changes.pipe(Stream.takeUntil((n) => n >= target), Stream.runDrain)
    : Effect.asVoid(Effect.repeat(isCaughtUp(entry, target), { until: (done) => done, schedule: Schedule.spaced(logPollInterval) }))

/**
 * Offers a lifecycle event to the handlers that match it, all in one step: concurrent publishers
 * cannot interleave, so every handler sees the events in the same order.
 */
const offerToHandlers = (handled: Ref.Ref<ReadonlyArray<Handled>>, event: OrchestratorEvent) =>
  Effect.flatMap(Ref.get(handled), (entries) =>
    Effect.sync(() => {
      for (const entry of entries) {
        if (entry.events === undefined || !entry.matches(event)) continue
        entry.offered += 1
        Queue.unsafeOffer(entry.events, event)
      }
    }))

/** Each handler with what it has been offered so far: what `settled` waits for. */
const targets = (entries: ReadonlyArray<Handled>) => entries.map((entry) => [entry, entry.offered] as const)

const isLifecycle = (event: OrchestratorEvent): event is LifecycleEvent => event.type !== "log"

const ofType = <T extends OrchestratorEventType>(type: T) => (event: OrchestratorEvent): event is EventOfType<T> =>
  event.type === type

/** How many `log` chunks a subscriber may leave untaken before the oldest are dropped. */
export const logCapacity = 256

/**
 * The bus on an unbounded PubSub: `publish` never waits, whatever the subscribers do. Its events
 * carry summaries, so a subscriber that falls behind holds little. Output (`log`) goes to a sliding
 * queue per log subscription instead, bounded to `logCapacity`. Handlers registered with `on` count
 * what they have handled (log handlers: see caughtUp), which is what `settled` waits for.
 */
export const EventBusLive = Layer.scoped(
  EventBus,
  Effect.gen(function*() {
    const hub = yield* Effect.acquireRelease(PubSub.unbounded<OrchestratorEvent>(), PubSub.shutdown)
    const handled = yield* Ref.make<ReadonlyArray<Handled>>([])
    const logQueues = yield* Ref.make<ReadonlyArray<Queue.Queue<LogEvent>>>([])

    const subscribeMain = Effect.map(PubSub.subscribe(hub), (queue) => Stream.fromQueue(queue))
    const subscribeLogQueue = Effect.acquireRelease(
      Effect.tap(Queue.sliding<LogEvent>(logCapacity), (queue) => Ref.update(logQueues, (all) => [...all, queue])),
      (queue) => Ref.update(logQueues, (all) => all.filter((other) => other !== queue)).pipe(Effect.zipRight(Queue.shutdown(queue)))
    )
    // One chunk at a time: a stream that took a batch would hold it outside the bounded queue.
    const logStream = (queue: Queue.Queue<LogEvent>) => Stream.fromQueue(queue, { maxChunkSize: 1 })
    const subscribeLogs = Effect.map(subscribeLogQueue, logStream)
    const subscribe = Effect.zipWith(subscribeMain, subscribeLogs, (main, logs): Stream.Stream<OrchestratorEvent> =>
      Stream.merge(main, logs))

    // A full sliding queue drops its oldest chunk to take this one. A queue whose subscription is
    // closing may be shut down already: that subscriber wants nothing more, and publish must not fail.
    const publishLog = (event: LogEvent) =>
      Effect.flatMap(Ref.get(logQueues), (queues) =>
        Effect.forEach(queues, (queue) => Effect.catchAllCause(Queue.offer(queue, event), () => Effect.void), { discard: true }))

    /**
     * A handler of the events `matches` accepts, in publication order, in a fiber of the caller's
     * scope; `log` handlers take the log channel, all others a queue of their own fed by `publish`,
     * and are counted for `settled`.
     */
    const register = <A extends OrchestratorEvent, E, R>(
      kind: HandlerKind,
      matches: (event: OrchestratorEvent) => event is A,
      handler: (event: A) => Effect.Effect<void, E, R>
    ) =>
      Effect.gen(function*() {
        const run = (event: OrchestratorEvent) =>
          matches(event)
            ? handler(event).pipe(
              Effect.catchAllCause((cause) => Effect.logWarning(`A ${kind} subscriber failed; the run is not affected.`, cause))
            )
            : Effect.void
        const source = kind === "log"
          ? { logQueue: yield* subscribeLogQueue, events: undefined }
          : { logQueue: undefined, events: yield* Effect.acquireRelease(Queue.unbounded<OrchestratorEvent>(), Queue.shutdown) }
        const count = yield* SubscriptionRef.make(0)
        const entry: Handled = { type: kind, count, ...source, matches, offered: 0 }
        // Registered before this returns: every event published from here on reaches the handler.
        // A handler whose scope has closed handles nothing more: `settled` must stop waiting for it.
        yield* Effect.acquireRelease(
          Ref.update(handled, (all) => [...all, entry]),
          () => Ref.update(handled, (all) => all.filter((other) => other !== entry))
        )
        const counted = (event: OrchestratorEvent) => run(event).pipe(Effect.ensuring(SubscriptionRef.update(count, (n) => n + 1)))
        // Interruptible even where the subscriber is not (its scope's close must stop the loop, which never ends).
        yield* Effect.forkScoped(Effect.interruptible(
          source.logQueue === undefined
            ? Effect.forever(Effect.flatMap(Queue.take(source.events), counted))
            : Stream.runForEach(logStream(source.logQueue), run)
        ))
      })

    return EventBus.of({
      publish: (event) =>
        event.type === "log"
          ? publishLog(event)
          : Effect.zipRight(offerToHandlers(handled, event), PubSub.publish(hub, event)).pipe(Effect.asVoid),
      subscribe,
      subscribeTo: (type) =>
        Effect.map(
          type === "log" ? subscribeLogs : subscribeMain,
          (events: Stream.Stream<OrchestratorEvent>) => Stream.filter(events, ofType(type))
        ),
      wantsLogs: Effect.map(Ref.get(logQueues), (all) => all.length > 0),
      on: (type, handler) => register(type, ofType(type), handler),
      onLifecycle: (handler) => register("lifecycle", isLifecycle, handler),
      settled: Effect.gen(function*() {
        const waits = targets(yield* Ref.get(handled))
        yield* Effect.forEach(waits, ([entry, target]) => caughtUp(entry, target), { discard: true })
      }),
      settle: (within: Duration.DurationInput) =>
        Effect.gen(function*() {
          const waits = targets(yield* Ref.get(handled))
          // Waited for together, so the bound is on the whole wait, not on each handler.
          yield* Effect.forEach(waits, ([entry, target]) => caughtUp(entry, target), { concurrency: "unbounded", discard: true }).pipe(
            Effect.timeoutOption(within)
          )
          const behind = yield* Effect.filter(waits, ([entry, target]) => Effect.map(isCaughtUp(entry, target), (done) => !done))
          return behind.map(([entry]) => entry.type)
        })
    })
  })
)
