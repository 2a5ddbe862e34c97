import { Context, type Duration, type Effect, type Scope, type Stream } from "effect"
import type { EventOfType, LogEvent, OrchestratorEvent, OrchestratorEventType } from "../domain/Events.js"

/** Every event but `log`: what a run tells about its plan, stages, attempts and completion. */
export type LifecycleEvent = Exclude<OrchestratorEvent, LogEvent>

/** What `settle` names a handler by: its event type, or `lifecycle` for an `onLifecycle` handler. */
export type HandlerKind = OrchestratorEventType | "lifecycle"

/**
 * Typed run events (SPEC EVT-1, EVT-2) on a PubSub. Publishing never waits for subscribers: each
 * subscription has its own unbounded queue, so a slow subscriber only falls behind, and a failing
 * one only ends its own stream. Stage output (`log` events) goes through a channel of its own that
 * keeps at most `logCapacity` chunks a subscriber has not taken yet, dropping the oldest: output
 * can be far larger than memory, and only the subscribers that ask for `log` (by type or wildcard)
 * get it, so a busy `run:completed` handler never holds output.
 */
export class EventBus extends Context.Tag("orchestrator/EventBus")<
  EventBus,
  {
    readonly publish: (event: OrchestratorEvent) => Effect.Effect<void>
    /**
     * Every event published from now on (wildcard), until the scope closes. Subscribing is done when
     * this effect returns, so nothing published afterwards is missed. A stream never holds `start` or
     * `resume`: they return without waiting for what it has not read yet (unlike `on`).
     */
    readonly subscribe: Effect.Effect<Stream.Stream<OrchestratorEvent>, never, Scope.Scope>
    /** The events of one type from now on, until the scope closes. */
    readonly subscribeTo: <T extends OrchestratorEventType>(
      type: T
    ) => Effect.Effect<Stream.Stream<EventOfType<T>>, never, Scope.Scope>
    /**
     * Runs `handler` for every event of `type` in a fiber of the scope. A handler that fails or dies
     * is logged and the next event is handled; the publisher never sees it.
     *
     * A handler holds `RunEngine.start`/`resume`: before returning they wait until every `on` handler
     * has handled the events published so far, or until the subscriber grace runs out
     * (`subscriberGrace` in the settings, `CODEX_ORCHESTRATOR_SUBSCRIBER_GRACE_SECONDS`, 120 s by
     * default), and then return with a warning naming the handlers still busy. A slow
     * `on("run:completed", ...)` therefore delays `start`; use `subscribe` for work that must not.
     */
    readonly on: <T extends OrchestratorEventType, E, R>(
      type: T,
      handler: (event: EventOfType<T>) => Effect.Effect<void, E, R>
    ) => Effect.Effect<void, never, Scope.Scope | R>
    /**
     * Runs `handler` for every event but `log`, one at a time in the order they were published, in a
     * fiber of the scope (a watcher that writes a run out in order, `--jsonl`). Failures are handled
     * as `on`'s are, and `settled` waits for it too.
     */
    readonly onLifecycle: <E, R>(
      handler: (event: LifecycleEvent) => Effect.Effect<void, E, R>
    ) => Effect.Effect<void, never, Scope.Scope | R>
    /**
     * Waits until every handler registered with `on` or `onLifecycle` has handled every event published before this
     * call (a `log` handler: until its queue is empty and it is waiting on it, since what its channel
     * dropped was never going to be handled). The CLI waits for it before exiting, so uploads and snapshots are not cut off.
     */
    readonly settled: Effect.Effect<void>
    /**
     * `settled`, bounded: waits at most `within` and returns the event types of the handlers that had
     * not caught up by then (empty when all had). A handler that never finishes cannot hold a caller
     * forever; what it was doing is cut off when its scope closes.
     */
    readonly settle: (within: Duration.DurationInput) => Effect.Effect<ReadonlyArray<HandlerKind>>
    /**
     * Whether any subscription takes `log` events now. The engine turns output into text only then,
     * so a run nobody watches pays nothing for them.
     */
    readonly wantsLogs: Effect.Effect<boolean>
  }
>() {}
