/**
 * What `plan` prints (SPEC CLI-5 with DECISIONS B-2): text (a graph's stages with their needs, then
 * its levels), JSON (CLI-5's document plus the graph's nodes and edges), and a Mermaid flowchart to
 * paste into Markdown.
 */
import { Options } from "@effect/cli"
import { oneLine } from "../domain/OneLine.js"
import type { CommandStage } from "../domain/Pipeline.js"
import type { RetryPolicy } from "../domain/Retry.js"
import { dependenciesOf, isGraph, levelsOf } from "../domain/StageGraph.js"
import type { PlanView } from "../services/RunEngine.js"

export const planFormat = Options.choice("format", ["text", "json", "mermaid"]).pipe(
  Options.withDescription("text: a readable summary; json: one JSON document on stdout; mermaid: a Mermaid flowchart of the stages"),
  Options.withDefault("text")
)

/** B-2: nodes (with their level) and edges from each need to the stage that needs it. */
const graphOf = (view: PlanView) => {
  const stages = view.pipeline.stages
  // Each computed once and looked up per stage: per stage they made `plan` quadratic (a serial
  // pipeline of 3 000 stages took 1.4 s of CPU, 0.9 s of it here).
  const deps = dependenciesOf(stages)
  const levels = levelsOf(stages)
  const levelOf = new Map(levels.flatMap((level, n) => level.map((position) => [position, n + 1] as const)))
  return {
    serial: !isGraph(stages),
    nodes: stages.map((stage, p) => ({
      id: stage.id,
      title: stage.title,
      kind: stage.kind,
      level: levelOf.get(p) ?? 0,
      needs: deps[p]?.map((d) => stages[d]?.id ?? "") ?? [],
      lock: stage.lock ?? null
    })),
    edges: deps.flatMap((needs, p) => needs.map((d) => ({ from: stages[d]?.id ?? "", to: stages[p]?.id ?? "" }))),
    levels: levels.map((level) => level.map((p) => stages[p]?.id ?? ""))
  }
}

/**
 * Mermaid label text: quotes and angle brackets as entities, so any title is safe inside `["..."]`;
 * `#` first, as Mermaid would read a title's own `#35;` or `#quot;` as the character it names.
 */
const mermaidLabel = (text: string) =>
  text.replaceAll("#", "#35;").replaceAll("&", "#amp;").replaceAll("\"", "#quot;").replaceAll("<", "#lt;").replaceAll(">", "#gt;")

/** B-2: `flowchart TD`, one node a stage (`s<n>` in pipeline order), an arrow from each need to its stage. */
export const planMermaid = (view: PlanView) => {
  const stages = view.pipeline.stages
  return [
    "flowchart TD",
    ...stages.map((stage, p) => `  s${p + 1}["${mermaidLabel(stage.id === stage.title ? stage.id : `${stage.id}: ${stage.title}`)}"]`),
    ...dependenciesOf(stages).flatMap((deps, p) => deps.map((d) => `  s${d + 1} --> s${p + 1}`))
  ].join("\n")
}

/** CLI-5: the JSON form of a plan. */
export const planJson = (view: PlanView) => ({
  pipeline: {
    id: view.pipeline.id,
    title: view.pipeline.title,
    description: view.pipeline.description ?? null,
    source: view.source
  },
  stages: view.pipeline.stages.map((stage, i) =>
    stage.kind === "command"
      ? {
        index: i + 1,
        id: stage.id,
        title: stage.title,
        kind: stage.kind,
        command: stage.command,
        cwd: stage.cwd ?? null,
        env: stage.env ?? null,
        allowFailure: stage.allowFailure === true,
        summaryHint: stage.summaryHint ?? null,
        timeoutMs: stage.timeoutMs ?? null,
        skipExitCode: stage.skipExitCode ?? null,
        retry: stage.retry ?? null,
        approvalRequired: stage.approvalRequired === true,
        approvalKey: stage.approvalKey ?? null,
        executionMode: stage.executionMode ?? null,
        runsOn: stage.runsOn ?? null,
        cache: stage.cache ?? null
      }
      : { index: i + 1, id: stage.id, title: stage.title, kind: stage.kind, pipeline: stage.pipeline, optional: stage.optional === true }
  ),
  plan: view.plan,
  targetId: view.plan.targetId,
  graph: graphOf(view)
})

/**
 * `<label><value>` as lines: a value's line breaks (a multi-line command) continue under the value,
 * indented, and its control characters are escaped, so no value prints a line at the margin of its own.
 */
const field = (label: string, value: string): ReadonlyArray<string> =>
  value.split(/\r?\n/).map((line, n) => `${n === 0 ? label : " ".repeat(label.length)}${oneLine(line)}`)

/** A retry policy in words, with RET-1's defaults for what it leaves out. */
const retryText = (retry: RetryPolicy) => {
  const factor = retry.factor ?? 2
  return [
    `${retry.attempts} attempt${retry.attempts === 1 ? "" : "s"}`,
    `first wait ${retry.initialDelayMs ?? 250} ms`,
    factor === 2 ? "doubling" : `×${factor}`,
    ...(retry.maxDelayMs === undefined ? [] : [`at most ${retry.maxDelayMs} ms`]),
    ...(retry.onExitCodes === undefined ? [] : [`on exit codes ${retry.onExitCodes.join(", ")}`])
  ].join(", ")
}

/** What a command stage does besides running its command, one line each (none when it does nothing more). */
const behaviourLines = (stage: CommandStage): ReadonlyArray<string> => {
  const cache = stage.cache
  const cacheParts = cache === undefined ? [] : [
    ...(cache.inputs === undefined ? [] : [`inputs ${cache.inputs.join(", ")}`]),
    ...(cache.env === undefined ? [] : [`env ${cache.env.join(", ")}`]),
    ...(cache.outputs === undefined ? [] : [`outputs ${cache.outputs.join(", ")}`])
  ]
  const runsOn = stage.runsOn === undefined ? "" : `, on runners labelled ${stage.runsOn.join(", ")}`
  return [
    ...(stage.skipExitCode === undefined ? [] : [`skipExitCode: ${stage.skipExitCode}`]),
    ...(stage.retry === undefined ? [] : [`retry: ${retryText(stage.retry)}`]),
    ...(stage.approvalRequired === true ? [`approval: required${stage.approvalKey === undefined ? "" : ` (key ${stage.approvalKey})`}`] : []),
    ...(stage.executionMode === undefined && runsOn === "" ? [] : [`runs: ${stage.executionMode ?? "in the run's mode"}${runsOn}`]),
    ...(cache === undefined ? [] : [`cache: ${cacheParts.length === 0 ? "on" : cacheParts.join("; ")}`])
  ].flatMap((line) => field("     ", line))
}

/** CLI-5: the text form of a plan. */
export const planText = (view: PlanView) => {
  const stages = view.pipeline.stages
  const graph = isGraph(stages)
  const lines = [`Pipeline: ${view.pipeline.id} — ${view.pipeline.title} [${view.source}]`]
  if (view.pipeline.description !== undefined) lines.push(...field("Description: ", view.pipeline.description))
  lines.push("Stages:")
  if (view.pipeline.stages.length === 0) lines.push("  (none)")
  view.pipeline.stages.forEach((stage, i) => {
    const selected = view.plan.items[i]?.selected === true ? " <- target" : ""
    lines.push(`  ${i + 1}. [${stage.kind}] ${stage.title} (${stage.id})${selected}`)
    if (stage.kind === "command") {
      lines.push(...field("     command: ", stage.command))
      if (stage.cwd !== undefined) lines.push(...field("     cwd: ", stage.cwd))
      if (stage.env !== undefined) lines.push(...field("     env: ", Object.entries(stage.env).map(([k, v]) => `${k}=${v}`).join(", ")))
      if (stage.allowFailure === true) lines.push("     allowFailure: true")
      if (stage.timeoutMs !== undefined) lines.push(`     timeoutMs: ${stage.timeoutMs}`)
      if (stage.summaryHint !== undefined) lines.push(...field("     summaryHint: ", stage.summaryHint))
      lines.push(...behaviourLines(stage))
    } else {
      lines.push(`     pipeline: ${stage.pipeline}`)
      if (stage.optional === true) lines.push("     optional: true")
    }
    if (graph) lines.push(`     needs: ${stage.needs === undefined || stage.needs.length === 0 ? "(nothing)" : stage.needs.join(", ")}`)
    if (stage.lock !== undefined) lines.push(`     lock: ${stage.lock}`)
  })
  if (graph) {
    lines.push("Levels (stages of a level may run at once):")
    levelsOf(stages).forEach((level, n) => lines.push(`  ${n + 1}. ${level.map((p) => stages[p]?.id).join(", ")}`))
  }
  if (view.pipeline.description !== undefined) lines.push(...field("Notes: ", view.pipeline.description))
  return lines.join("\n")
}

