/**
 * Which runner holds which shard, as the cluster's own clients work it out (issue 18), so the
 * executor can send an attempt straight to a runner with a free slot instead of where a hash of its
 * id happens to fall. @effect/cluster 0.60 assigns the shards of each group with a hash ring of the
 * healthy runners serving it (each weighted by its shard weight, which a runner of ours sets to its
 * capacity); the ring depends only on that set, so the same runners read from storage give the same
 * assignment here. Nothing here does I/O.
 */
import type { Runner } from "@effect/cluster/Runner"
import type { RunnerAddress } from "@effect/cluster/RunnerAddress"
import { HashRing } from "effect"

/** A runner as placement sees it: its name (`host:port`) and how many stages it takes at once. */
export interface RunnerSlots {
  readonly name: string
  readonly capacity: number
}

/** The shard owners of each group (index `shard id - 1`), and the runners by name. */
export interface ShardMap {
  readonly owners: ReadonlyMap<string, ReadonlyArray<string>>
  readonly runners: ReadonlyMap<string, RunnerSlots>
}

export const runnerName = (address: RunnerAddress) => `${address.host}:${address.port}`

/** The assignment of every group's `shardsPerGroup` shards over the healthy runners serving it. */
export const shardMapOf = (runners: ReadonlyArray<readonly [Runner, boolean]>, shardsPerGroup: number): ShardMap => {
  const rings = new Map<string, HashRing.HashRing<RunnerAddress>>()
  const slots = new Map<string, RunnerSlots>()
  for (const [runner, healthy] of runners) {
    if (!healthy) continue
    // A runner of an older version has weight 1: taken as capacity 1, it is under-used, never overrun.
    slots.set(runnerName(runner.address), { name: runnerName(runner.address), capacity: Math.max(1, Math.round(runner.weight)) })
    for (const group of runner.groups) {
      const ring = rings.get(group) ?? HashRing.make<RunnerAddress>()
      rings.set(group, HashRing.add(ring, runner.address, { weight: runner.weight }))
    }
  }
  const owners = new Map<string, ReadonlyArray<string>>()
  for (const [group, ring] of rings) {
    const shards = HashRing.getShards(ring, shardsPerGroup)
    if (shards !== undefined) owners.set(group, shards.map(runnerName))
  }
  return { owners, runners: slots }
}

/** The runner holding shard `shard` (1-based) of `group`, if any. */
export const ownerOf = (map: ShardMap, group: string, shard: number): string | undefined => map.owners.get(group)?.[shard - 1]

/** The runners holding at least one shard of `group`, by name, sorted. */
export const runnersOf = (map: ShardMap, group: string): ReadonlyArray<RunnerSlots> =>
  Array.from(new Set(map.owners.get(group) ?? [])).sort().flatMap((name) => {
    const slots = map.runners.get(name)
    return slots === undefined ? [] : [slots]
  })

/** What this orchestrator knows of a runner's load: its attempts there, and whether it just refused one. */
export interface RunnerLoad {
  readonly inFlight: ReadonlyMap<string, number>
  /** Runners that refused an attempt (full with other orchestrators' stages), until when (epoch ms). */
  readonly fullUntil: ReadonlyMap<string, number>
  /**
   * When (a count of this executor's ends) an attempt of this executor last ended on each runner.
   * Optional: a load without it breaks ties by the key alone.
   */
  readonly lastEnded?: ReadonlyMap<string, number> | undefined
}

/** A small, stable hash of a string (FNV-1a): spreads ties between runners by key across orchestrators. */
const spread = (text: string) => {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193)
  return hash >>> 0
}

export interface RunnerChoice {
  readonly runner: RunnerSlots
  /** Whether it has a free slot by this orchestrator's count (else it is the least loaded of full ones). */
  readonly free: boolean
}

/**
 * The runner of `group` to send the attempt of `key` to: the one with the most of its capacity free
 * by this orchestrator's count, not refusing. Ties go to the runner where an attempt of ours ended
 * longest ago (never first): stages one after another take turns, so a runner makes the worktree
 * its last stage used fresh again while the other runs the next one. Among runners ours never
 * ended on, the key decides, so orchestrators starting together do not all pick the same runner.
 * None serving the group: undefined.
 */
export const chooseRunner = (map: ShardMap, group: string, load: RunnerLoad, key: string, now: number): RunnerChoice | undefined => {
  const candidates = runnersOf(map, group)
  if (candidates.length === 0) return undefined
  const offset = spread(key) % candidates.length
  const rotated = [...candidates.slice(offset), ...candidates.slice(0, offset)]
  const used = (runner: RunnerSlots) => (load.inFlight.get(runner.name) ?? 0) / runner.capacity
  const refusing = (runner: RunnerSlots) => (load.fullUntil.get(runner.name) ?? Number.NEGATIVE_INFINITY) > now
  const free = rotated.filter((runner) => !refusing(runner) && used(runner) < 1)
  const pool = free.length > 0 ? free : rotated
  const ended = (runner: RunnerSlots) => load.lastEnded?.get(runner.name) ?? Number.NEGATIVE_INFINITY
  let best = pool[0]
  for (const runner of pool) {
    if (best === undefined || used(runner) < used(best) || (used(runner) === used(best) && ended(runner) < ended(best))) best = runner
  }
  return best === undefined ? undefined : { runner: best, free: free.length > 0 }
}

/**
 * The first of the ids `idOf(0)`, `idOf(1)`, ... whose shard (`shardOf`) `runner` holds: the entity id
 * that sends an attempt to that runner. Ids in `tried` are passed over: an entity that refused the
 * attempt keeps its refusal as the stored reply, so sending there again would only replay it. A
 * runner that holds no shard of the group: the first id not tried.
 */
export const entityIdOn = (
  map: ShardMap,
  group: string,
  runner: string,
  idOf: (placement: number) => string,
  shardOf: (entityId: string) => number,
  tried: ReadonlySet<string> = new Set()
): string => {
  const shards = map.owners.get(group) ?? []
  const untried = (placement: number) => {
    const id = idOf(placement)
    return tried.has(id) ? undefined : id
  }
  if (shards.includes(runner)) {
    // A runner holding one shard in n is found in about n tries; the bound only guards a bad hash.
    for (let placement = 0; placement < shards.length * 64 + tried.size; placement++) {
      const id = untried(placement)
      if (id !== undefined && shards[shardOf(id) - 1] === runner) return id
    }
  }
  for (let placement = 0; ; placement++) {
    const id = untried(placement)
    if (id !== undefined) return id
  }
}
