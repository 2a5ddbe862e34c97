/**
 * Loads the OTLP exporter on first use, so that no OpenTelemetry module is read unless tracing is on.
 * The CLI bundle replaces this module (scripts/bundle.mjs): there the exporter is a bundle of its own
 * that shares the CLI bundle's `effect`, required on demand (the bundle runs as a vm Script, without `import()`).
 */
export const loadOtlpExport = (): Promise<typeof import("./OtlpExport.js")> => import("./OtlpExport.js")
