/**
 * Retries (SPEC RET-1, DECISIONS B-1): a stage may carry a `retry` policy; its attempts back off
 * exponentially. The delays are a pure function of the policy, and the Schedule that sleeps them is
 * built from the same function, so what the log announces (`exec:retry` `delay_ms`) is what happens.
 */
import { Duration, Schedule, Schema } from "effect"

/** A stage's `retry` setting (B-1, RET-1): how many attempts, and the exponential backoff between them. */
export const RetryPolicy = Schema.Struct({
  /** Total attempts, the first included. */
  attempts: Schema.Int.pipe(
    Schema.greaterThanOrEqualTo(1, { message: () => "must be an integer of at least 1 (the first attempt counts)" }),
    Schema.lessThanOrEqualTo(20, { message: () => "must be at most 20" })
  ),
  /** Delay before the first retry (RET-1: 250 ms). */
  initialDelayMs: Schema.optional(Schema.Int.pipe(Schema.nonNegative({ message: () => "must be a non-negative integer (milliseconds)" }))),
  factor: Schema.optional(Schema.Number.pipe(Schema.greaterThanOrEqualTo(1, { message: () => "must be at least 1" }))),
  maxDelayMs: Schema.optional(Schema.Int.pipe(Schema.positive({ message: () => "must be a positive integer (milliseconds)" }))),
  /** Retry only these exit codes; by default any failure (non-zero exit or timeout) is retried. */
  onExitCodes: Schema.optional(Schema.Array(Schema.Int))
})
export type RetryPolicy = typeof RetryPolicy.Type

/** Without `maxDelayMs`, waits are capped at a minute: 20 attempts would otherwise wait a day and a half. */
export const defaultMaxDelayMs = 60_000

/** The delay before retry number `retry` (1-based): initial × factor^(retry−1), capped. */
export const retryDelayMs = (policy: RetryPolicy, retry: number): number =>
  Math.min((policy.initialDelayMs ?? 250) * (policy.factor ?? 2) ** (retry - 1), policy.maxDelayMs ?? defaultMaxDelayMs)

/** The delays between the attempts of a policy, in order. */
export const retryDelays = (policy: RetryPolicy): ReadonlyArray<number> =>
  Array.from({ length: policy.attempts - 1 }, (_, i) => retryDelayMs(policy, i + 1))

/** The Schedule that spaces the retries (none for a single attempt). */
export const retrySchedule = (policy: RetryPolicy): Schedule.Schedule<unknown> => {
  const [first, ...rest] = retryDelays(policy).map((ms) => Duration.millis(ms))
  return first === undefined ? Schedule.stop : Schedule.fromDelays(first, ...rest)
}

/** Whether an attempt that ended this way is worth another one. Spawn errors never are (RET-1: fatal). */
export const isRetryableOutcome = (
  policy: RetryPolicy,
  outcome: { readonly _tag: "Exited"; readonly exitCode: number } | { readonly _tag: "TimedOut" } | { readonly _tag: "SpawnFailed" }
): boolean =>
  outcome._tag === "SpawnFailed"
    ? false
    : outcome._tag === "TimedOut"
    ? policy.onExitCodes === undefined
    : outcome.exitCode !== 0 && (policy.onExitCodes === undefined || policy.onExitCodes.includes(outcome.exitCode))
