/**
 * What an embedding app can swap in the app's graph (App.ts): agents, executors, the mode policy,
 * each a layer that may carry its own requirements and errors.
 */
import type { Layer } from "effect"
import type { Builder } from "../services/Builder.js"
import type { CloudExecutor, Executor } from "../services/Executor.js"
import type { ExecutionModePolicy } from "../services/ExecutionModePolicy.js"
import type { Planner } from "../services/Planner.js"
import type { Reviewer } from "../services/Reviewer.js"
import type { Tester } from "../services/Tester.js"
import { stackOn } from "./internal/layerStack.js"

/** The agents an app may replace, any subset of them. */
export type Agent = Planner | Builder | Tester | Reviewer

/**
 * What an embedding app can swap in the graph; anything not given keeps the CLI's own. Each layer
 * may need services of its own and fail: what the app's graph does not provide shows in the
 * resulting layer's requirements, and its errors in the layer's error (a type parameter a knob).
 */
export interface AppCustomization<
  A extends Agent = never,
  AE = never,
  AR = never,
  CE = never,
  CR = never,
  XE = never,
  XR = never,
  ME = never,
  MR = never
> {
  /** Agents that replace the CLI's (any subset). The CLI's agents get the run's handle in `task.run`. */
  readonly agents?: Layer.Layer<A, AE, AR> | undefined
  /** Runs `cloud` subtasks (B-3); without one they run locally and record `cloud_fallback_reason`. */
  readonly cloudExecutor?: Layer.Layer<CloudExecutor, CE, CR> | undefined
  /** Replaces the local executor (`mcp` stages; the ProcessRunner's, by default). */
  readonly executor?: Layer.Layer<Executor, XE, XR> | undefined
  /** Replaces the MODE-1 policy. */
  readonly modePolicy?: Layer.Layer<ExecutionModePolicy, ME, MR> | undefined
}

/** `custom` instead of `fallback`, when given. */
export const replacing = <O, E1, R1, E2, R2>(
  custom: Layer.Layer<O, E1, R1> | undefined,
  fallback: Layer.Layer<O, E2, R2>
): Layer.Layer<O, E1 | E2, R1 | R2> => custom ?? fallback

/** `custom` on top of `base` (it sees base's services and wins over them), when given. */
export const stackedOn = <O1, E1, R1, O2, E2, R2>(
  custom: Layer.Layer<O1, E1, R1> | undefined,
  base: Layer.Layer<O2, E2, R2>
): Layer.Layer<O2, E1 | E2, R2 | Exclude<R1, O2>> => (custom === undefined ? base : custom.pipe(stackOn(base)))
