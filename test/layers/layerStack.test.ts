/**
 * stackOn, the app graph's provideMerge built in one pass (kept for start-up time; the saving is
 * measured in its comment): it must behave as Layer.provideMerge does where the graph relies on it.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Ref } from "effect"
import { stackOn } from "../../src/layers/internal/layerStack.js"

class A extends Context.Tag("test/A")<A, { readonly value: string }>() {}
class B extends Context.Tag("test/B")<B, { readonly value: string }>() {}
class Log extends Context.Tag("test/Log")<Log, Ref.Ref<ReadonlyArray<string>>>() {}

const note = (line: string) => Effect.flatMap(Log, (log) => Ref.update(log, (all) => [...all, line]))

/** A layer that logs when it is built and when it is released. */
const tracked = <I, S extends { readonly value: string }>(tag: Context.Tag<I, S>, service: S) =>
  Layer.scoped(tag, Effect.acquireRelease(Effect.as(note(`build ${service.value}`), service), () => note(`release ${service.value}`)))

describe("stackOn", () => {
  it.effect("provides the lower layer to the upper one and keeps both outputs", () =>
    Effect.gen(function*() {
      const upper = Layer.effect(B, Effect.map(A, (a) => ({ value: `b over ${a.value}` })))
      const both = yield* Effect.all([A, B]).pipe(Effect.provide(upper.pipe(stackOn(Layer.succeed(A, { value: "a" })))))
      assert.deepStrictEqual(both.map((s) => s.value), ["a", "b over a"])
    }))

  it.effect("a later layer wins over an earlier one for the same service", () =>
    Effect.gen(function*() {
      const stack = Layer.succeed(A, { value: "custom" }).pipe(stackOn(Layer.succeed(A, { value: "default" })))
      assert.strictEqual((yield* Effect.provide(A, stack)).value, "custom")
    }))

  it.effect("builds bottom first, releases in reverse order, and builds a layer shared with the rest of the app once", () =>
    Effect.gen(function*() {
      const log = yield* Ref.make<ReadonlyArray<string>>([])
      const shared = tracked(A, { value: "a" })
      const stack = tracked(B, { value: "b" }).pipe(stackOn(shared))
      yield* Effect.scoped(Layer.build(Layer.merge(stack, shared))).pipe(Effect.provideService(Log, log))
      assert.deepStrictEqual(yield* Ref.get(log), ["build a", "build b", "release b", "release a"])
    }))
})
