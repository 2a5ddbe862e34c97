/**
 * OpenTelemetry for runs (issue 22). The engine's work is Effect spans (a run, its stages, their
 * attempts, nested runs inside their stage, with `codex.*` attributes), so any Effect tracer sees the
 * tree; `otlpTracing` is the one the CLI's `--otel-endpoint` uses, and it also hands each stage its
 * attempt's span as `TRACEPARENT`.
 */
import type { HttpClient } from "@effect/platform"
import { Effect, Layer } from "effect"
import { TracePropagation } from "./services/TracePropagation.js"
import { loadOtlpExport } from "./tracing/loadOtlp.js"

export { TracePropagation } from "./services/TracePropagation.js"

/** The traces URL of an OTLP/HTTP endpoint given as a base URL (as OTEL_EXPORTER_OTLP_ENDPOINT is): `<base>/v1/traces`. */
export const tracesUrl = (endpoint: string): string => `${endpoint.replace(/\/+$/, "")}/v1/traces`

/**
 * Every span of the program exported over OTLP/HTTP (JSON) to `endpoint`'s `/v1/traces`, and
 * `TRACEPARENT` for stage processes. @effect/opentelemetry is loaded when the layer is built; the spans
 * are flushed when its scope closes (a collector that does not answer costs at most a few seconds).
 */
export const otlpTracing = (endpoint: string, serviceVersion: string): Layer.Layer<TracePropagation, never, HttpClient.HttpClient> =>
  Layer.merge(
    Layer.unwrapEffect(
      Effect.map(Effect.promise(loadOtlpExport), ({ otlpTracerLayer }) => otlpTracerLayer({ url: tracesUrl(endpoint), serviceVersion }))
    ),
    Layer.succeed(TracePropagation, true)
  )
