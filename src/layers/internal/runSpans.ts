/**
 * The spans of a run's trace (issue 22): one per run (nested runs included), per stage and per
 * attempt, with the attributes a tracing UI filters on. They are Effect spans: whatever tracer the
 * program has (the OTLP exporter of `--otel-endpoint`, an embedder's own) receives them.
 */
import { Effect, Option } from "effect"
import type { CliManifest } from "../../domain/Manifest.js"
import type { Stage } from "../../domain/Pipeline.js"
import type { ActiveRun } from "../../services/RunBootstrap.js"
import { TracePropagation } from "../../services/TracePropagation.js"

/** How an entry ended, on the span that covered it. */
const annotateEntry = (manifest: CliManifest, position: number) => {
  const entry = manifest.commands[position]
  return entry === undefined
    ? Effect.void
    : Effect.annotateCurrentSpan({
      "codex.status": entry.status,
      ...(entry.exit_code === null ? {} : { "codex.exit_code": entry.exit_code })
    })
}

/** A run, from its first stage to its final status: the root of its trace, or a child of its parent stage. */
export const runSpan = (run: ActiveRun) => <A extends { readonly manifest: CliManifest }, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.tap(({ manifest }) => Effect.annotateCurrentSpan("codex.status", manifest.status)),
    Effect.withSpan(`run ${run.input.pipeline.id}`, {
      attributes: {
        "codex.task": run.input.taskId,
        "codex.run": run.files.layout.runId,
        "codex.pipeline": run.input.pipeline.id,
        ...(run.input.parentRunId === null ? {} : { "codex.parent_run": run.input.parentRunId })
      }
    })
  )

/** A stage of a run, command or nested pipeline; its exit code and status are read from the manifest after it. */
export const stageSpan = (run: ActiveRun, stage: Stage, position: number, executor: string) =>
<A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.tap(() => Effect.flatMap(run.files.manifest, (manifest) => annotateEntry(manifest, position))),
    Effect.withSpan(`stage ${stage.id}`, {
      attributes: {
        "codex.task": run.input.taskId,
        "codex.run": run.files.layout.runId,
        "codex.pipeline": run.input.pipeline.id,
        "codex.stage": stage.id,
        "codex.stage_kind": stage.kind,
        "codex.executor": stage.kind === "command" ? executor : "nested-run"
      }
    })
  )

/** One attempt of a command stage; `exitCode` reads the code from what the attempt returns (null: none). */
export const attemptSpan = <A>(stageId: string, attempt: number, exitCode: (a: A) => number | null) =>
<E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.tap((a) => {
      const code = exitCode(a)
      return code === null ? Effect.void : Effect.annotateCurrentSpan("codex.exit_code", code)
    }),
    Effect.withSpan(`attempt ${attempt}`, { attributes: { "codex.stage": stageId, "codex.attempt": attempt } })
  )

/**
 * `TRACEPARENT` for a stage's process (W3C trace context: version, trace id, the current span as
 * parent, sampled flag) when runs are traced for someone outside (TracePropagation); else nothing.
 */
export const traceParentEnv: Effect.Effect<Readonly<Record<string, string>>> = Effect.gen(function*() {
  if (!(yield* TracePropagation)) return {}
  const span = yield* Effect.option(Effect.currentSpan)
  return Option.match(span, {
    onNone: () => ({}),
    onSome: ({ sampled, spanId, traceId }) => ({ TRACEPARENT: `00-${traceId}-${spanId}-${sampled ? "01" : "00"}` })
  })
})
