/** Hud.mount on the EventBus (HUD-1): folds the bus's events, redraws at most every 120 ms, draws last at close. */
import { assert, describe, it } from "@effect/vitest"
import { Clock, ConfigProvider, Effect, Fiber, TestClock } from "effect"
import { hudColour, mount } from "../../src/hud/Hud.js"
import type { HudState } from "../../src/hud/HudState.js"
import type { HudRenderer } from "../../src/hud/HudView.js"
import { EventBusLive } from "../../src/layers/EventBus.js"
import { EventBus } from "../../src/services/EventBus.js"
import { output, runCompleted, runStarted, stageCompleted, stageStarted } from "../support/hudEvents.js"

/** A renderer that records every draw (the last entry, status `unmounted`, is the unmount). */
const recorder = Effect.sync(() => {
  const log: Array<HudState> = []
  return {
    draws: Effect.sync((): ReadonlyArray<HudState> => [...log]),
    renderer: (state: HudState): HudRenderer => {
      log.push(state)
      return {
        update: (next) => void log.push(next),
        unmount: () => void log.push({ ...(log.at(-1) ?? state), status: "unmounted" })
      }
    }
  }
})

describe("Hud.mount", () => {
  it.effect("100k output lines in 5k chunks cost at most one redraw per 120 ms", () =>
    Effect.gen(function*() {
      const bus = yield* EventBus
      const { draws, renderer } = yield* recorder
      const fiber = yield* Effect.fork(Effect.scoped(Effect.gen(function*() {
        const hud = yield* mount({ renderer })
        yield* bus.publish(runStarted(["noisy"]))
        yield* bus.publish(stageStarted("noisy", 1, 0))
        for (let chunk = 0; chunk < 5_000; chunk++) {
          yield* bus.publish(output("noisy", 1, Array.from({ length: 20 }, (_, i) => `line ${chunk * 20 + i}`).join("\n") + "\n"))
          if (chunk % 500 === 0) yield* TestClock.adjust("100 millis")
        }
        yield* bus.publish(stageCompleted("noisy", 1, 1))
        yield* bus.publish(runCompleted("succeeded", 1))
        yield* TestClock.adjust("200 millis")
        return yield* hud.state
      })))
      const final = yield* Fiber.join(fiber)
      const all = yield* draws
      // 1.2 s of TestClock: about ten ticks, plus the first frame, the close and the unmount.
      assert.isAtMost(all.length, 14)
      assert.strictEqual(final.status, "succeeded")
      assert.strictEqual(all.at(-2)?.status, "succeeded")
      assert.strictEqual(all.at(-2)?.stages[0]?.status, "succeeded")
      assert.strictEqual(all.at(-1)?.status, "unmounted")
    }).pipe(Effect.provide(EventBusLive)))

  it.effect("closing after the run draws the events published before, and nothing redraws once taken down", () =>
    Effect.gen(function*() {
      const bus = yield* EventBus
      const { draws, renderer } = yield* recorder
      yield* Effect.scoped(Effect.gen(function*() {
        yield* mount({ renderer })
        yield* bus.publish(runStarted(["a"]))
        yield* bus.publish(stageStarted("a", 1, 0))
        yield* bus.publish(stageCompleted("a", 1, 1, "succeeded", "fine"))
        yield* bus.publish(runCompleted("succeeded", 1))
      }))
      const closed = (yield* draws).length
      yield* TestClock.adjust("5 seconds")
      const all = yield* draws
      assert.strictEqual(all.length, closed)
      assert.strictEqual(all.at(-2)?.stages[0]?.summary, "fine")
    }).pipe(Effect.provide(EventBusLive)))

  it.effect("a line logged through note() is drawn with the next frame; a close without a run waits settleWithin", () =>
    Effect.gen(function*() {
      const { draws, renderer } = yield* recorder
      const fiber = yield* Effect.fork(Effect.scoped(Effect.gen(function*() {
        const hud = yield* mount({ renderer, settleWithin: "1 second" })
        hud.note({ level: "warning", text: "careful" })
        yield* TestClock.adjust("150 millis")
      })))
      const start = yield* Clock.currentTimeMillis
      yield* Effect.repeat(TestClock.adjust("100 millis"), { until: () => fiber.unsafePoll() !== null })
      yield* Fiber.join(fiber)
      assert.isAtLeast((yield* Clock.currentTimeMillis) - start, 1_150)
      assert.deepStrictEqual((yield* draws).at(-2)?.notes, [{ level: "warning", text: "careful" }])
    }).pipe(Effect.provide(EventBusLive)), 5000)

  it.effect("an approval: drawn, then the HUD steps aside (taken down) and comes back with a new view", () =>
    Effect.gen(function*() {
      const { draws, renderer } = yield* recorder
      const fiber = yield* Effect.fork(Effect.scoped(Effect.gen(function*() {
        const hud = yield* mount({ renderer, settleWithin: "1 second" })
        yield* hud.stepAside({ stageId: "deploy", title: "Deploy", command: "make deploy" })
        const aside = yield* draws
        yield* TestClock.adjust("1 second")
        // Aside: the frame with the approval, then unmounted; nothing drawn while the question is asked.
        assert.strictEqual((yield* draws).length, aside.length)
        yield* hud.comeBack
        return aside
      })))
      yield* Effect.repeat(TestClock.adjust("100 millis"), { until: () => fiber.unsafePoll() !== null })
      const aside = yield* Fiber.join(fiber)
      assert.deepStrictEqual(aside.at(-2)?.approval, { stageId: "deploy", title: "Deploy", command: "make deploy" })
      assert.strictEqual(aside.at(-1)?.status, "unmounted")
      const all = yield* draws
      // Back: a new view (its first frame without the approval), then the close.
      const back = all[aside.length]
      assert.strictEqual(back?.approval, null)
      assert.strictEqual(all.at(-1)?.status, "unmounted")
    }).pipe(Effect.provide(EventBusLive)), 5000)

  it.effect("draws in colour unless NO_COLOR is set (not empty) or the caller says otherwise", () =>
    Effect.gen(function*() {
      const withEnv = (env: Record<string, string>, options: { readonly colour?: boolean } = {}) =>
        hudColour(options).pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))
      assert.isTrue(yield* withEnv({}))
      assert.isTrue(yield* withEnv({ NO_COLOR: "" }))
      assert.isFalse(yield* withEnv({ NO_COLOR: "1" }))
      assert.isFalse(yield* withEnv({ NO_COLOR: "1", FORCE_COLOR: "1" }))
      assert.isTrue(yield* withEnv({ NO_COLOR: "1" }, { colour: true }))
      assert.isFalse(yield* withEnv({}, { colour: false }))
    }))
})
