/**
 * The distributed executor's data (DECISIONS B-3, issue 18): what travels between the orchestrator
 * and a runner, and how runner labels route stages. Both sides decode with these schemas; nothing
 * here does I/O.
 */
import { Schema } from "effect"

/** A runner capability (`--labels gpu,linux`) and a stage's requirement (`runsOn: ["gpu"]`). */
export const Label = Schema.String.pipe(
  Schema.pattern(/^[a-z0-9][a-z0-9_-]{0,31}$/, {
    message: () => "must be 1-32 of [a-z0-9_-], starting with a letter or digit"
  })
)

/** At most this many labels on one runner: it serves every combination of them (2^n - 1 shard groups). */
export const maxRunnerLabels = 4

/**
 * The most stages one runner takes at once. Its capacity is its shard weight, and every process of
 * the cluster builds a hash ring of 128 points per unit of weight for each runner: a capacity of
 * 10^8 ran every runner out of memory.
 */
export const maxRunnerCapacity = 256

/** The shard group of stages without `runsOn`: every runner serves it. */
export const defaultGroup = "default"

/**
 * The shard group a stage with these labels is sent to: the labels sorted and joined by `+`, so
 * `["linux", "gpu"]` and `["gpu", "linux"]` meet the same runners; no labels is the default group.
 */
export const groupOf = (labels: ReadonlyArray<string>): string => {
  const unique = Array.from(new Set(labels)).sort()
  return unique.length === 0 ? defaultGroup : unique.join("+")
}

/** Every group a runner with these labels serves: the default one and each non-empty combination. */
export const groupsServedBy = (labels: ReadonlyArray<string>): ReadonlyArray<string> => {
  const unique = Array.from(new Set(labels)).sort()
  const groups: Array<string> = [defaultGroup]
  for (let mask = 1; mask < 1 << unique.length; mask++) {
    groups.push(groupOf(unique.filter((_, bit) => (mask & (1 << bit)) !== 0)))
  }
  return groups
}

/**
 * The entity id of one attempt: its group, then its idempotency key. The cluster routes by the group
 * (the part before the first `/`) and deduplicates by the key.
 */
export const entityIdOf = (labels: ReadonlyArray<string>, idempotencyKey: string) => `${groupOf(labels)}/${idempotencyKey}`

/**
 * The entity id of an attempt's placement `n`: the cluster routes an entity to the runner holding
 * the shard its id hashes to, so the orchestrator picks `n` to reach a runner with a free slot
 * (layers/cluster/placement.ts) and records the id under the key. Placement 0 is `entityIdOf`; the
 * others append `@n`.
 */
export const placementEntityId = (labels: ReadonlyArray<string>, idempotencyKey: string, placement: number) =>
  placement === 0 ? entityIdOf(labels, idempotencyKey) : `${entityIdOf(labels, idempotencyKey)}@${placement}`

/** The group part of an entity id made by `entityIdOf`. */
export const groupOfEntityId = (entityId: string) => {
  const slash = entityId.indexOf("/")
  return slash <= 0 ? defaultGroup : entityId.slice(0, slash)
}

/**
 * Where a stage's repository comes from on a runner: a path or URL it can fetch `origin` from, the
 * commit, and the uncommitted changes as a binary diff (`git diff --binary HEAD`).
 */
export const Workspace = Schema.Struct({
  origin: Schema.String,
  commit: Schema.String,
  // Base64: persisted messages are stored as JSON.
  diff: Schema.Uint8ArrayFromBase64,
  /** The stage's working directory, relative to the repository root. */
  cwd: Schema.String
})
export type Workspace = typeof Workspace.Type

/** One attempt as a runner receives it. */
export const StageRequest = Schema.Struct({
  idempotencyKey: Schema.String,
  runId: Schema.String,
  stageId: Schema.String,
  attempt: Schema.Int,
  command: Schema.String,
  /** Used as given when there is no workspace (a runner that shares the orchestrator's disk). */
  cwd: Schema.String,
  env: Schema.Record({ key: Schema.String, value: Schema.String }),
  workspace: Schema.NullOr(Workspace),
  /**
   * False: a runner at capacity refuses the attempt at once (RunnerBusy) and the orchestrator places
   * it elsewhere. True: it waits for a free slot there (the last placement; a message stored before
   * placements existed, which has no field, is read as true, as it was served then).
   */
  waitForCapacity: Schema.optionalWith(Schema.Boolean, { default: () => true })
})
export type StageRequest = typeof StageRequest.Type

/** Which runner ran (or runs) an attempt. */
export const RunnerIdentity = Schema.Struct({
  runner: Schema.String,
  host: Schema.String
})
export type RunnerIdentity = typeof RunnerIdentity.Type

/** The attempt could not start on the runner (workspace, spawn); the stage fails with this reason. */
export class RemoteStartFailed extends Schema.TaggedError<RemoteStartFailed>()("RemoteStartFailed", {
  reason: Schema.String,
  runner: Schema.String
}) {
  override get message() {
    return `on runner ${this.runner}: ${this.reason}`
  }
}

/**
 * The runner was at capacity and did not take the attempt (nothing ran, nothing was stored for it but
 * this reply): not a failure of the stage, the orchestrator places the attempt again.
 */
export class RunnerBusy extends Schema.TaggedError<RunnerBusy>()("RunnerBusy", {
  runner: Schema.String,
  capacity: Schema.Int
}) {
  override get message() {
    return `runner ${this.runner} is running its ${this.capacity} stage(s) at once`
  }
}

/**
 * What a runner records while an attempt runs, in storage under the attempt's idempotency key with a
 * sequence number (AttemptOutput), which the orchestrator reads back: stored, so output printed
 * before the orchestrator looks is not lost. A redelivered attempt continues the sequence, so the
 * `Started` of every runner that took it is there.
 */
export const StageEvent = Schema.Union(
  Schema.TaggedStruct("Started", { runner: Schema.String, host: Schema.String, pid: Schema.Int }),
  // Base64: stored as JSON.
  Schema.TaggedStruct("Output", { stream: Schema.Literal("stdout", "stderr"), bytes: Schema.Uint8ArrayFromBase64 })
)
export type StageEvent = typeof StageEvent.Type

/** One stored event of an attempt. */
export const StageLogEntry = Schema.Struct({ seq: Schema.Int, event: StageEvent })
export type StageLogEntry = typeof StageLogEntry.Type

/**
 * The most output bytes a result carries back (its attempt's last events): a stage that prints
 * little has all of its events in its result, and the orchestrator no read to make for them.
 */
export const resultEventBytes = 64 * 1024

/** How an attempt ended on its runner: the stored, durable result of its idempotency key. */
export const StageResult = Schema.Struct({
  exitCode: Schema.NullOr(Schema.Int),
  signal: Schema.NullOr(Schema.String),
  runner: Schema.String,
  host: Schema.String,
  /**
   * The sequence number of the attempt's last output event in storage (AttemptOutput): everything
   * up to it was stored before this result, so the orchestrator reads until it has it.
   */
  outputSeq: Schema.Int,
  /**
   * The attempt's last stored events, up to `resultEventBytes` of output (a result stored before
   * there were any: none; the orchestrator reads what it lacks from storage).
   */
  events: Schema.optionalWith(Schema.Array(StageLogEntry), { default: () => [] }),
  /** The worktree the runner kept after the attempt failed (`runner --keep-failed`), a path on its host. */
  keptWorktree: Schema.optional(Schema.String)
})
export type StageResult = typeof StageResult.Type
