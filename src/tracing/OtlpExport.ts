/**
 * The OTLP/HTTP trace exporter of @effect/opentelemetry, JSON-encoded (any collector accepts it, and a
 * test can read it). In the CLI this module is a bundle of its own (dist/bin/otel.cjs), loaded only
 * when tracing is on; there its `effect` and `@effect/platform` imports are the CLI bundle's own
 * modules (scripts/bundle.mjs), which is why they are subpath imports.
 */
import * as OtlpSerialization from "@effect/opentelemetry/OtlpSerialization"
import * as OtlpTracer from "@effect/opentelemetry/OtlpTracer"
import * as Layer from "effect/Layer"

/** Every span of the program exported to `url` (the collector's `/v1/traces`), flushed when the layer's scope closes. */
export const otlpTracerLayer = (options: { readonly url: string; readonly serviceVersion: string }) =>
  OtlpTracer.layer({
    url: options.url,
    resource: { serviceName: "codex-orchestrator", serviceVersion: options.serviceVersion }
  }).pipe(Layer.provide(OtlpSerialization.layerJson))
