/**
 * The Notifier on the platform HttpClient (FetchHttpClient in the CLI; HttpClientMemory in tests,
 * with TestClock driving the backoff). Each target gets its own attempts on the Schedule of
 * `notifyRetryPolicy`; targets are posted to concurrently, so one slow endpoint delays no other.
 */
import { HttpClient, HttpClientError, HttpClientRequest } from "@effect/platform"
import { Duration, Effect, Layer, Ref, Schema } from "effect"
import { isRetryableStatus, notifyAttemptTimeoutMs, notifyRetryPolicy, shownTarget } from "../domain/Notify.js"
import { retryDelayMs, retrySchedule } from "../domain/Retry.js"
import { encodeRunSummary, type NotificationFailure, type RunSummaryEvent } from "../domain/RunSummaryEvent.js"
import { Notifier } from "../services/Notifier.js"
import { causeMessages } from "./internal/causeMessages.js"

/** One attempt that did not deliver: the answer's status, or why there was none. */
class DeliveryFailed extends Schema.TaggedError<DeliveryFailed>()("DeliveryFailed", {
  reason: Schema.String,
  retryable: Schema.Boolean,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message() {
    return this.reason
  }
}

/** The client's message with the causes under it: fetch says only "fetch failed", its cause says why (ECONNREFUSED ...). */
const describeClientError = (error: HttpClientError.HttpClientError) => [error.message, ...causeMessages(error, 3)].join(": ")

/**
 * The Notifier on the HttpClient it is given: the event is encoded once, each target gets up to 4
 * attempts (`notifyRetryPolicy`), and every failure is a logged warning and a line of the report.
 */
export const NotifierLive = Layer.effect(
  Notifier,
  Effect.gen(function*() {
    const http = yield* HttpClient.HttpClient

    const attempt = (target: string, body: string) =>
      Effect.gen(function*() {
        const response = yield* http.execute(
          HttpClientRequest.post(target).pipe(HttpClientRequest.bodyText(body, "application/json"))
        )
        if (response.status < 200 || response.status > 299) {
          return yield* new DeliveryFailed({ reason: `HTTP ${response.status}`, retryable: isRetryableStatus(response.status) })
        }
      }).pipe(
        Effect.catchIf(
          HttpClientError.isHttpClientError,
          (error) => new DeliveryFailed({ reason: describeClientError(error), retryable: true, cause: error })
        ),
        Effect.timeoutFail({
          duration: Duration.millis(notifyAttemptTimeoutMs),
          onTimeout: () => new DeliveryFailed({ reason: `no answer within ${notifyAttemptTimeoutMs / 1000} s`, retryable: true })
        })
      )

    /** Delivers to one target: undefined when it arrived, else the failure after the last attempt. */
    const deliverOne = (target: string, body: string) =>
      Effect.gen(function*() {
        const attempts = yield* Ref.make(0)
        // What a log line says of the target, in its reason too (a transport error names the URL it posted to).
        const shown = shownTarget(target)
        const hidden = (reason: string) =>
          [target, URL.canParse(target) ? new URL(target).href : target].reduce((text, url) => text.replaceAll(url, shown), reason)
        // Each failed attempt that another follows is a progress line: a target that does not answer
        // takes up to 10 s an attempt, and the command would otherwise seem to hang after the run.
        const said = (error: DeliveryFailed) =>
          Effect.flatMap(Ref.get(attempts), (n) =>
            error.retryable && n < notifyRetryPolicy.attempts
              ? Effect.log(
                `Run summary to ${shown}: attempt ${n} of ${notifyRetryPolicy.attempts} failed (${hidden(error.reason)}); next in ${
                  retryDelayMs(notifyRetryPolicy, n) / 1000
                } s`
              )
              : Effect.void)
        const outcome = yield* Ref.update(attempts, (n) => n + 1).pipe(
          Effect.zipRight(Effect.tapError(attempt(target, body), said)),
          Effect.retry({ schedule: retrySchedule(notifyRetryPolicy), while: (error) => error.retryable }),
          Effect.either
        )
        if (outcome._tag === "Right") return undefined
        const failure: NotificationFailure = { target, error: outcome.left.reason, attempts: yield* Ref.get(attempts) }
        yield* Effect.logWarning(
          `Could not deliver the run summary to ${shown} (${hidden(failure.error)}, ${failure.attempts} attempt(s)); the run is not affected.`
        )
        return failure
      })

    const deliver = Effect.fn("Notifier.deliver")(function*(targets: ReadonlyArray<string>, event: RunSummaryEvent) {
      const body = yield* encodeRunSummary(event, "compact")
      const failures = yield* Effect.forEach(targets, (target) => deliverOne(target, body), { concurrency: "unbounded" })
      const failed = failures.filter((failure): failure is NotificationFailure => failure !== undefined)
      return {
        targets,
        delivered: targets.filter((target) => !failed.some((failure) => failure.target === target)),
        failures: failed
      }
    })

    return Notifier.of({ deliver })
  })
)
