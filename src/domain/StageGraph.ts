/**
 * A pipeline as a graph of stages (DECISIONS B-2), as pure functions over stage positions: who needs
 * whom, the problems that stop a run before anything is written, levels for `plan`, which stages may
 * start now, and the critical path of a finished run. Works on the few fields it reads, so that
 * Pipeline.ts can check a pipeline's graph while it decodes it without an import cycle.
 */
import { Schema } from "effect"

/** What the graph reads of a stage. */
export interface GraphNode {
  readonly id: string
  readonly needs?: ReadonlyArray<string> | undefined
  readonly lock?: string | undefined
}

/** B-2: a pipeline is a graph once any stage declares `needs`; otherwise each stage needs the one before. */
export const isGraph = (stages: ReadonlyArray<GraphNode>): boolean => stages.some((stage) => stage.needs !== undefined)

/** B-2: the `needs` a run records on each entry: what a graph's stage declares; nothing for a serial pipeline. */
export const recordedNeedsOf = (stages: ReadonlyArray<GraphNode>): ReadonlyArray<ReadonlyArray<string> | undefined> => {
  const graph = isGraph(stages)
  return stages.map((stage) => (graph ? stage.needs ?? [] : undefined))
}

/**
 * B-2, RUN-9: how a pipeline's graph differs from the `needs` its run recorded, one line per stage
 * (`b: needs [a] -> [a, c]`); a serial pipeline's stages read `the stage before`. Empty when unchanged.
 */
export const needsChanges = (
  stages: ReadonlyArray<GraphNode>,
  recorded: ReadonlyArray<ReadonlyArray<string> | undefined>
): ReadonlyArray<string> => {
  const show = (needs: ReadonlyArray<string> | undefined) => (needs === undefined ? "the stage before" : `[${needs.join(", ")}]`)
  const key = (needs: ReadonlyArray<string> | undefined) => (needs === undefined ? "\u0001" : [...needs].sort().join("\u0000"))
  const now = recordedNeedsOf(stages)
  return stages.flatMap((stage, position) =>
    key(now[position]) === key(recorded[position]) ? [] : [`${stage.id}: needs ${show(recorded[position])} -> ${show(now[position])}`]
  )
}

/** The positions each stage waits for (serial: the one before; graph: exactly what it declares that exists). */
export const dependenciesOf = (stages: ReadonlyArray<GraphNode>): ReadonlyArray<ReadonlyArray<number>> => {
  if (!isGraph(stages)) return stages.map((_, position) => (position === 0 ? [] : [position - 1]))
  const positions = new Map(stages.map((stage, position) => [stage.id, position]))
  return stages.map((stage, self) => [
    ...new Set((stage.needs ?? []).flatMap((id) => {
      const position = positions.get(id)
      return position === undefined || position === self ? [] : [position]
    }))
  ])
}

/** One problem of a graph, at the `needs` of the stage it is about. */
export interface GraphIssue {
  readonly position: number
  readonly message: string
}

/**
 * The cycles among `needs` (self-needs excluded) that a depth-first search meets, one for each edge
 * back to a stage still open, each once, as the positions along it, first repeated last. Every group
 * of stages that need each other in a circle is reported, though not every circle within a group
 * (with a -> b -> d -> a and a -> c -> d -> a, the second may go unnamed): enumerating all of them can
 * take exponential time, and removing a need and validating again names the next.
 */
const cyclesOf = (stages: ReadonlyArray<GraphNode>): ReadonlyArray<ReadonlyArray<number>> => {
  const deps = dependenciesOf(stages)
  const state = stages.map(() => "new" as "new" | "open" | "closed")
  const stack: Array<number> = []
  const found = new Map<string, ReadonlyArray<number>>()
  const visit = (node: number): void => {
    state[node] = "open"
    stack.push(node)
    for (const next of deps[node] ?? []) {
      if (state[next] === "open") {
        const cycle = stack.slice(stack.indexOf(next))
        // The same cycle is found from any of its members: name it from its first stage in pipeline order.
        const start = cycle.indexOf(Math.min(...cycle))
        const rotated = [...cycle.slice(start), ...cycle.slice(0, start)]
        found.set(rotated.join(","), [...rotated, rotated[0] ?? next])
      } else if (state[next] === "new") visit(next)
    }
    stack.pop()
    state[node] = "closed"
  }
  stages.forEach((_, node) => {
    if (state[node] === "new") visit(node)
  })
  return [...found.values()]
}

/** B-2: unknown ids in `needs`, stages that need themselves, and the cycles (see `cyclesOf`), all at once. */
export const graphIssues = (stages: ReadonlyArray<GraphNode>): ReadonlyArray<GraphIssue> => {
  const ids = new Set(stages.map((stage) => stage.id))
  const known = stages.map((stage) => stage.id).join(", ")
  const issues: Array<GraphIssue> = []
  stages.forEach((stage, position) => {
    for (const need of stage.needs ?? []) {
      if (need === stage.id) {
        issues.push({ position, message: `stage "${stage.id}" needs itself; remove "${need}" from its needs` })
      } else if (!ids.has(need)) {
        issues.push({ position, message: `stage "${stage.id}" needs unknown stage "${need}"; stage ids here: ${known}` })
      }
    }
  })
  for (const cycle of cyclesOf(stages)) {
    issues.push({
      position: cycle[0] ?? 0,
      message: `needs form a cycle: ${cycle.map((p) => stages[p]?.id).join(" -> ")} (each needs the next); remove one of these needs`
    })
  }
  return issues
}

/** Levels for `plan`: level 0 needs nothing, level n needs something at level n-1. Positions in pipeline order. */
export const levelsOf = (stages: ReadonlyArray<GraphNode>): ReadonlyArray<ReadonlyArray<number>> => {
  const deps = dependenciesOf(stages)
  const level: Array<number | undefined> = stages.map(() => undefined)
  const levelOf = (node: number, seen: ReadonlySet<number>): number => {
    const known = level[node]
    if (known !== undefined) return known
    // A cycle is refused before this is used; it only must not loop forever.
    const own = Math.max(-1, ...(deps[node] ?? []).filter((d) => !seen.has(d)).map((d) => levelOf(d, new Set([...seen, node])))) + 1
    level[node] = own
    return own
  }
  const levels: Array<Array<number>> = []
  stages.forEach((_, node) => {
    const at = levelOf(node, new Set())
    ;(levels[at] ??= []).push(node)
  })
  return levels
}

/** Where a stage stands while the graph runs: `ok` counts as done for its dependents (allowFailure included). */
export type NodeState = "waiting" | "running" | "ok" | "failed" | "cancelled" | "skipped"

/**
 * The waiting stages that may start now, in pipeline order: every dependency `ok`, its lock free
 * (also of stages chosen in this same call), and at most `free` of them.
 */
export const startable = (
  stages: ReadonlyArray<GraphNode>,
  deps: ReadonlyArray<ReadonlyArray<number>>,
  state: ReadonlyArray<NodeState>,
  free: number
): ReadonlyArray<number> => {
  const held = new Set(stages.flatMap((stage, p) => (state[p] === "running" && stage.lock !== undefined ? [stage.lock] : [])))
  const chosen: Array<number> = []
  stages.forEach((stage, p) => {
    if (chosen.length >= free || state[p] !== "waiting") return
    if (!(deps[p] ?? []).every((d) => state[d] === "ok")) return
    if (stage.lock !== undefined) {
      if (held.has(stage.lock)) return
      held.add(stage.lock)
    }
    chosen.push(p)
  })
  return chosen
}

/**
 * The waiting stages that can never start because a dependency did not end `ok`, each with the
 * reason `needs <id> (<state>)`, transitively (a skipped stage's dependents are skipped too).
 */
export const blockedStages = (
  stages: ReadonlyArray<GraphNode>,
  deps: ReadonlyArray<ReadonlyArray<number>>,
  state: ReadonlyArray<NodeState>
): ReadonlyArray<{ readonly position: number; readonly reason: string }> => {
  const now = [...state]
  const blocked: Array<{ readonly position: number; readonly reason: string }> = []
  let changed = true
  while (changed) {
    changed = false
    now.forEach((s, p) => {
      if (s !== "waiting") return
      const bad = (deps[p] ?? []).find((d) => now[d] === "failed" || now[d] === "cancelled" || now[d] === "skipped")
      if (bad === undefined) return
      blocked.push({ position: p, reason: `needs ${stages[bad]?.id} (${now[bad]})` })
      now[p] = "skipped"
      changed = true
    })
  }
  return blocked
}

/** A stage a resume must run again because it was skipped only for a dependency that did not succeed. */
export const isSkippedForNeeds = (summary: string | null): boolean => summary !== null && /^needs \S+ \((failed|cancelled|skipped)\)$/.test(summary)

/** What the critical path reads of a finished stage. */
export interface TimedNode {
  readonly id: string
  readonly started_at: string | null
  readonly completed_at: string | null
}

export const CriticalPath = Schema.Struct({
  /** The chain of stages, first to last, that set the run's wall time. */
  stages: Schema.Array(Schema.String),
  /** From the first stage's start to the last one's end. */
  seconds: Schema.Number
})
export type CriticalPath = typeof CriticalPath.Type

/**
 * The critical path of a run: from the stage that finished last, back through the dependency that
 * finished last each time (the one it waited for). Stages that never started are not on it.
 */
export const criticalPathOf = (
  stages: ReadonlyArray<TimedNode>,
  deps: ReadonlyArray<ReadonlyArray<number>>
): CriticalPath | undefined => {
  const end = (p: number) => {
    const stage = stages[p]
    return stage?.started_at === null || stage?.completed_at === null || stage === undefined ? undefined : Date.parse(stage.completed_at)
  }
  const latest = (candidates: ReadonlyArray<number>) =>
    candidates.reduce<number | undefined>((best, p) => {
      const at = end(p)
      if (at === undefined || Number.isNaN(at)) return best
      return best === undefined || at > (end(best) ?? 0) ? p : best
    }, undefined)
  let current = latest(stages.map((_, p) => p))
  if (current === undefined) return undefined
  const finish = end(current) ?? 0
  const chain: Array<number> = []
  while (current !== undefined && !chain.includes(current)) {
    chain.unshift(current)
    current = latest(deps[current] ?? [])
  }
  const first = stages[chain[0] ?? 0]?.started_at
  const start = first === null || first === undefined ? finish : Date.parse(first)
  return { stages: chain.map((p) => stages[p]?.id ?? ""), seconds: Math.max(0, finish - start) / 1000 }
}

/** `--target` on a graph: the target's needs that have not succeeded would never run (B-2, D-4). */
export class TargetExcludesNeeds extends Schema.TaggedError<TargetExcludesNeeds>()("TargetExcludesNeeds", {
  target: Schema.String,
  missing: Schema.Array(Schema.String)
}) {
  override get message() {
    const list = this.missing.map((id) => `'${id}'`).join(", ")
    return `--target ${this.target} excludes ${list}, which '${this.target}' needs and which has not succeeded in this run; ` +
      `run without --target, or run ${list} first.`
  }
}

/** The target's declared needs that have not succeeded (`succeeded` says which positions have). */
export const targetExclusions = (
  stages: ReadonlyArray<GraphNode>,
  target: string,
  succeeded: (position: number) => boolean
): TargetExcludesNeeds | undefined => {
  const position = stages.findIndex((stage) => stage.id === target)
  if (position < 0 || !isGraph(stages)) return undefined
  const missing = (dependenciesOf(stages)[position] ?? []).filter((d) => !succeeded(d)).map((d) => stages[d]?.id ?? "")
  return missing.length === 0 ? undefined : new TargetExcludesNeeds({ target, missing })
}
