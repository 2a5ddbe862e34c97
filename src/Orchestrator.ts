/**
 * A Promise facade for code that does not use Effect: `createOrchestrator(options)` builds the app
 * once on a ManagedRuntime, and its methods return Promises. One of the package's two edges that run
 * effects (the other is the CLI's, src/cli/edge.ts). A failure rejects with the engine's own tagged
 * error (`error._tag`: `PipelineNotFound`, `InvalidSetting`, ...), never a wrapper.
 *
 * Disposal: `dispose()` interrupts what is still running, closes event subscriptions and releases
 * the app's resources; call it once when done (a Node process with a live orchestrator still exits,
 * but an `on` handler still running would be cut off without its finalizers). A call still running
 * then, or made afterwards, rejects with `OrchestratorDisposed`.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Cause, Effect, Exit, Fiber, Layer, Logger, LogLevel, ManagedRuntime, Schema, Scope } from "effect"
import { type EventOfType, orchestratorEventTypes, type OrchestratorEventType } from "./domain/Events.js"
import { InvalidFile } from "./domain/FileErrors.js"
import { oneLine } from "./domain/OneLine.js"
import { type AppSettings, makeAppLayer } from "./layers/App.js"
import type { PipelineDefinition } from "./domain/Pipeline.js"
import { EventBus } from "./services/EventBus.js"
import {
  type PlanRequest,
  type PlanView,
  type ResumeRequest,
  type RunOutcome,
  RunEngine,
  type RunRequest,
  type StartRequest,
  type StatusView
} from "./services/RunEngine.js"

/** What the facade runs on: any layer that provides the engine and the event bus (TestKit.AppMemory, say). */
export type OrchestratorLayer = Layer.Layer<RunEngine | EventBus, unknown>

/** The production app from plain values, or a layer of your own. */
export type OrchestratorOptions =
  | {
    /** The settings (repository root, roots, privacy mode, subscriber grace...) over the environment's. */
    readonly settings?: AppSettings | undefined
    /** Pipelines defined in code, merged after the repository file's. */
    readonly pipelines?: ReadonlyArray<PipelineDefinition> | undefined
    /**
     * The least level of the engine's progress messages that is printed (Effect's logger, on the
     * console); `Info` by default (a line per run and stage), `Warning` or `None` for a quiet app.
     */
    readonly logLevel?: LogLevel.Literal | undefined
  }
  | { readonly layer: OrchestratorLayer }

/** The orchestrator as Promises. */
export interface Orchestrator {
  /** RunEngine.start: resolves with the run's manifest and paths once it has finished (a failed run resolves too). */
  readonly start: (request: StartRequest) => Promise<RunOutcome>
  /** RunEngine.resume. */
  readonly resume: (request: ResumeRequest) => Promise<RunOutcome>
  /** RunEngine.plan: the stages a pipeline would run; nothing is written. */
  readonly plan: (request: PlanRequest) => Promise<PlanView>
  /** RunEngine.status: a run's manifest, read. */
  readonly status: (request: RunRequest) => Promise<StatusView>
  /**
   * Calls `handler` for every event of `type` until the returned function is called. As with
   * EventBus.on, `start` waits for the handler (up to the subscriber grace) before it resolves.
   */
  readonly on: <T extends OrchestratorEventType>(
    type: T,
    handler: (event: EventOfType<T>) => void | Promise<void>
  ) => Promise<() => Promise<void>>
  /** Interrupts what runs, closes subscriptions and releases the app. The orchestrator is unusable afterwards. */
  readonly dispose: () => Promise<void>
}

const layerOf = (options: OrchestratorOptions): OrchestratorLayer =>
  "layer" in options
    ? options.layer
    : makeAppLayer({ settings: options.settings, pipelines: options.pipelines }).pipe(
      Layer.provide(NodeContext.layer),
      Layer.merge(Logger.minimumLogLevel(LogLevel.fromLiteral(options.logLevel ?? "Info")))
    )

/**
 * A facade call that did not finish because the orchestrator was disposed: called after `dispose()`
 * (`running` false), or still running when `dispose()` interrupted it (`running` true).
 */
export class OrchestratorDisposed extends Schema.TaggedError<OrchestratorDisposed>()("OrchestratorDisposed", {
  method: Schema.String,
  running: Schema.Boolean
}) {
  override get message() {
    return this.running
      ? `orchestrator.${this.method} was interrupted: the orchestrator was disposed while it ran (a run it started is recorded cancelled).`
      : `orchestrator.${this.method} was called after dispose(); create a new orchestrator to run more.`
  }
}

/** The methods whose request names a run (status, resume), not a pipeline: their example says so. */
const runMethods: ReadonlySet<string> = new Set(["status", "resume"])
const exampleRunRequest = `{ runId: "2026-11-25T09-26-45-555Z-2f16ce35", taskId: "demo" }`
const examplePipelineRequest = `{ pipelineId: "ci", taskId: "demo" }`

/**
 * A request that is no object (JavaScript passes anything): refused with the engine's error for a bad
 * request, where the engine would fail reading its fields with a TypeError.
 */
const requestShape = (method: string, request: unknown): Effect.Effect<void, InvalidFile> =>
  typeof request === "object" && request !== null
    ? Effect.void
    : Effect.fail(new InvalidFile({
      path: "the run request",
      issues: [`(root): must be an object such as ${runMethods.has(method) ? exampleRunRequest : examplePipelineRequest}, not ${
        oneLine(typeof request === "string" ? JSON.stringify(request) : String(request))
      }`]
    }))

/**
 * What `on` was given that it cannot subscribe (JavaScript passes anything): an event type no event has
 * would never call its handler, and a handler that is no function would fail at the first event.
 */
const subscriptionProblem = (type: unknown, handler: unknown): TypeError | undefined => {
  if (!orchestratorEventTypes.some((known) => known === type)) {
    const shown = oneLine(typeof type === "string" ? JSON.stringify(type) : String(type))
    return new TypeError(`orchestrator.on: ${shown} is no event type; the event types are ${orchestratorEventTypes.join(", ")}.`)
  }
  return typeof handler === "function" ? undefined : new TypeError(`orchestrator.on: the handler must be a function, not ${
    handler === null ? "null" : `a${typeof handler === "object" || typeof handler === "undefined" ? "n" : ""} ${typeof handler}`
  }.`)
}

/** Builds the orchestrator; the app's layers are built on the first call and shared by the later ones. */
export const createOrchestrator = (options: OrchestratorOptions = {}): Orchestrator => {
  const runtime = ManagedRuntime.make(layerOf(options))
  // Every call's fiber until it ends: dispose() interrupts them (closing the runtime alone would not).
  const running = new Set<Fiber.RuntimeFiber<unknown, unknown>>()
  let disposing: Promise<void> | undefined
  /** What a call rejects with: the failure itself (a tagged error) or the defect, rather than a FiberFailure. */
  const rejection = (method: string, cause: Cause.Cause<unknown>): unknown => {
    if (disposing !== undefined && Cause.isInterruptedOnly(cause)) return new OrchestratorDisposed({ method, running: true })
    const squashed = Cause.squash(cause)
    return squashed instanceof Error ? squashed : new Error(`orchestrator.${method} died: ${String(squashed)}`, { cause: squashed })
  }
  const run = <A, E>(method: string, effect: Effect.Effect<A, E, RunEngine | EventBus>): Promise<A> => {
    if (disposing !== undefined) return Promise.reject(new OrchestratorDisposed({ method, running: false }))
    const fiber = runtime.runFork(effect)
    running.add(fiber)
    return Effect.runPromise(Fiber.await(fiber)).then((exit) => {
      running.delete(fiber)
      return Exit.match(exit, {
        onSuccess: (value) => value,
        onFailure: (cause) => {
          throw rejection(method, cause)
        }
      })
    })
  }
  const engine = <A, E>(method: string, request: unknown, f: (engine: RunEngine["Type"]) => Effect.Effect<A, E>) =>
    run(method, Effect.flatMap(RunEngine, (e) => Effect.zipRight(requestShape(method, request), Effect.suspend(() => f(e)))))
  return {
    start: (request) => engine("start", request, (e) => e.start(request)),
    resume: (request) => engine("resume", request, (e) => e.resume(request)),
    plan: (request) => engine("plan", request, (e) => e.plan(request)),
    status: (request) => engine("status", request, (e) => e.status(request)),
    on: (type, handler) => {
      const problem = subscriptionProblem(type, handler)
      if (problem !== undefined) return Promise.reject(problem)
      return run("on", Effect.gen(function*() {
        const scope = yield* Scope.make()
        const bus = yield* EventBus
        yield* bus.on(type, (event) => Effect.promise(() => Promise.resolve(handler(event)))).pipe(Scope.extend(scope))
        // After dispose() the subscription is gone with the app: unsubscribing then has nothing to do.
        return () => (disposing === undefined ? run("unsubscribe", Scope.close(scope, Exit.void)) : Promise.resolve())
      }))
    },
    dispose: () => {
      disposing ??= Effect.runPromise(Fiber.interruptAll(running)).then(() => runtime.dispose())
      return disposing
    }
  }
}
