/**
 * A Promise facade for code that does not use Effect: `createOrchestrator(options)` builds the app
 * once on a ManagedRuntime, and its methods return Promises. One of the package's two edges that run
 * effects (the other is the CLI's, src/cli/edge.ts). A failure rejects with the engine's own tagged
 * error (`error._tag`: `PipelineNotFound`, `InvalidSetting`, ...), never a wrapper.
 *
 * Disposal: `dispose()` interrupts what is still running, closes event subscriptions and releases
 * the app's resources; call it once when done (a Node process with a live orchestrator still exits,
 * but an `on` handler still running would be cut off without its finalizers).
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Cause, Effect, Exit, Layer, Logger, LogLevel, ManagedRuntime, Scope } from "effect"
import type { EventOfType, OrchestratorEventType } from "./domain/Events.js"
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

/** Builds the orchestrator; the app's layers are built on the first call and shared by the later ones. */
export const createOrchestrator = (options: OrchestratorOptions = {}): Orchestrator => {
  const runtime = ManagedRuntime.make(layerOf(options))
  // Rejects with the failure itself (a tagged error), or the defect, rather than a FiberFailure.
  const run = <A, E>(effect: Effect.Effect<A, E, RunEngine | EventBus>): Promise<A> =>
    runtime.runPromiseExit(effect).then((exit) =>
      Exit.match(exit, {
        onSuccess: (value) => value,
        onFailure: (cause) => {
          throw Cause.squash(cause)
        }
      })
    )
  const engine = <A, E>(f: (engine: RunEngine["Type"]) => Effect.Effect<A, E>) => run(Effect.flatMap(RunEngine, f))
  return {
    start: (request) => engine((e) => e.start(request)),
    resume: (request) => engine((e) => e.resume(request)),
    plan: (request) => engine((e) => e.plan(request)),
    status: (request) => engine((e) => e.status(request)),
    on: (type, handler) =>
      run(Effect.gen(function*() {
        const scope = yield* Scope.make()
        const bus = yield* EventBus
        yield* bus.on(type, (event) => Effect.promise(() => Promise.resolve(handler(event)))).pipe(Scope.extend(scope))
        return () => run(Scope.close(scope, Exit.void))
      })),
    dispose: () => runtime.dispose()
  }
}
