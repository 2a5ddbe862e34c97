import { Context } from "effect"

/**
 * Whether a run's trace is exported for someone outside (OpenTelemetry on): only then does a stage's
 * process get `TRACEPARENT` (the W3C trace context of its attempt's span), so tools that understand it
 * join the trace. Off by default: Effect's own spans exist either way, but their ids mean nothing
 * to anyone when nothing exports them.
 */
export class TracePropagation extends Context.Reference<TracePropagation>()("orchestrator/TracePropagation", {
  defaultValue: () => false
}) {}
