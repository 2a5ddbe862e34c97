/**
 * `--otel-endpoint` (issue 22) for `exec`, `start` and `resume`: the command's work becomes one trace
 * (a root span for the command, the run, its stages and attempts under it) exported over OTLP/HTTP.
 * Without an endpoint nothing is loaded or changed: the OpenTelemetry code is read only when asked for.
 */
import { Options } from "@effect/cli"
import { Effect, Layer, Option } from "effect"
import { notHttpUrl, urlProblem } from "../domain/Notify.js"
import { oneLine } from "../domain/OneLine.js"
import { decodeSettings, type InvalidSetting, tracingSection } from "../domain/Settings.js"
import { otlpTracing } from "../Tracing.js"
import { UsageError, version } from "./usage.js"

export const otelEndpointOption = Options.text("otel-endpoint").pipe(
  Options.withDescription(
    "Export the run as an OpenTelemetry trace (a span per run, stage and attempt) over OTLP/HTTP to this " +
      "collector's base URL, e.g. http://localhost:4318 (default: $OTEL_EXPORTER_OTLP_ENDPOINT; unset: no tracing). " +
      "Stage commands get TRACEPARENT"
  ),
  Options.withPseudoName("url"),
  Options.optional
)

/** The collector: the flag, else the environment; a value that is not an http(s) URL is bad input (exit 2). */
const endpointOf = (flag: Option.Option<string>): Effect.Effect<Option.Option<string>, UsageError | InvalidSetting> =>
  Option.match(flag, {
    onNone: () => Effect.map(decodeSettings(tracingSection), ({ endpoint }) => endpoint),
    onSome: (url) => {
      const problem = urlProblem(url)
      if (problem === undefined) return Effect.succeed(Option.some(url))
      return Effect.fail(new UsageError({
        reason: problem === notHttpUrl
          ? `--otel-endpoint ${oneLine(url)} ${problem}; give one like http://localhost:4318.`
          : `--otel-endpoint ${oneLine(url)} ${problem}.`
      }))
    }
  })

/** The exporter on Node's fetch, both loaded on first use. */
const tracingLayer = (endpoint: string) =>
  otlpTracing(endpoint, version).pipe(
    Layer.provide(Layer.unwrapEffect(Effect.map(Effect.promise(() => import("@effect/platform/FetchHttpClient")), (m) => m.layer)))
  )

/** `command`'s work as one exported trace when an endpoint is given, else exactly as it is. */
export const traced = (flag: Option.Option<string>, command: string) => <A, E, R>(work: Effect.Effect<A, E, R>) =>
  Effect.flatMap(endpointOf(flag), (endpoint) =>
    Option.match(endpoint, {
      onNone: () => work,
      onSome: (url) => work.pipe(Effect.withSpan(`codex-orchestrator ${command}`), Effect.provide(tracingLayer(url)))
    }))
