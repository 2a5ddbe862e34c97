/**
 * TestClock helpers for programs that mix TestClock sleeps with real promises (hashing, response
 * bodies): wait in real time until the program asks for a given sleep, then let it pass.
 */
import { Chunk, Duration, Effect, TestClock } from "effect"

/** One real millisecond, so that real promises in the program can settle. */
export const liveTick = Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 1)))

/**
 * Waits (in real time) until the program sleeps for exactly `ms` from now, then lets that much
 * TestClock time pass; dies when it never does within about 5 000 real ticks.
 */
export const passSleep = (ms: number) =>
  Effect.gen(function*() {
    for (let tick = 0; tick < 5_000; tick++) {
      const now = yield* TestClock.currentTimeMillis
      if (Chunk.some(yield* TestClock.sleeps(), (at) => at === now + ms)) return yield* TestClock.adjust(Duration.millis(ms))
      yield* liveTick
    }
    return yield* Effect.dieMessage(`the program never slept ${ms} ms`)
  })
