/**
 * Where runs' traces go (issue 22): `--otel-endpoint`, else the standard OpenTelemetry variable
 * below; the base URL of an OTLP/HTTP collector, to which `/v1/traces` is added.
 */

/** The OpenTelemetry SDKs' variable for the collector's base URL, honoured as they honour it. */
export const otelEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT"
