import { Context, Effect, Layer } from "effect"

/** A layer seen only as something to build: any output, error and input. */
type Step = Layer.Layer<never, unknown, unknown>

/** The layers a stack builds, bottom first; a layer that is not a stack is one step. */
const stackSteps = new WeakMap<Step, ReadonlyArray<Step>>()

const stepsOf = (layer: Step): ReadonlyArray<Step> => stackSteps.get(layer) ?? [layer]

/**
 * `Layer.provideMerge` for the app's graph, built in one pass: `self.pipe(stackOn(that))` provides
 * `that` to `self` and keeps both outputs, as `Layer.provideMerge(that)` does, with the same types.
 * A chain of them is one layer that builds its layers one after the other, bottom first, in its own
 * scope (released in reverse order) and on the memo map of the build it is part of, so a layer shared
 * with the rest of the app is still built once.
 *
 * Why: every `provideMerge` link adds five layer nodes, each memoised with its own scope, deferred and
 * fiber-ref diff, and every `merge`/`mergeAll` forks a fiber per layer to build it and again to
 * release it. For the engine's ~20 layers that machinery, not the layers, was most of the cost:
 * measured ~45 ms to build and release the graph on the CLI's start-up path, and ~10 ms more idle
 * at exit while the parallel release scheduled its fibers.
 */
export const stackOn = <ROut2, E2, RIn2>(that: Layer.Layer<ROut2, E2, RIn2>) =>
<ROut, E, RIn>(self: Layer.Layer<ROut, E, RIn>): Layer.Layer<ROut | ROut2, E | E2, RIn2 | Exclude<RIn, ROut2>> => {
  const steps = [...stepsOf(that), ...stepsOf(self)]
  const stack: Step = Layer.scopedContext(Effect.gen(function*() {
    const scope = yield* Effect.scope
    const memoMap = yield* Layer.CurrentMemoMap
    let context: Context.Context<never> = Context.empty()
    for (const step of steps) {
      context = Context.merge(context, yield* Effect.provide(Layer.buildWithMemoMap(step, memoMap, scope), context))
    }
    return context
  }))
  stackSteps.set(stack, steps)
  // The steps are typed one link at a time by this function's signature; the loop only sees them as
  // layers, so the stack's own type is restored here.
  return stack as Layer.Layer<ROut | ROut2, E | E2, RIn2 | Exclude<RIn, ROut2>>
}
