/**
 * Taking a run over for `resume` (DECISIONS D-7): a run whose heartbeat is fresh and whose owner is
 * alive (its pid, with the start time `.owner.json` records) is refused; otherwise exactly one caller
 * claims it, and whatever process groups a crashed orchestrator left running are stopped first.
 */
import { Clock, Effect } from "effect"
import { cancelledManifest, type CliManifest, hasFreshHeartbeat, heartbeatAgeMs, isTerminal, type RunOwner } from "../../domain/Manifest.js"
import { ResumeInProgress, RunStillActive } from "../../domain/RunErrors.js"
import type { RunLayout } from "../../domain/RunLayout.js"
import type { Host } from "../../services/Host.js"
import type { RunStore } from "../../services/RunStore.js"
import { iso } from "../../domain/Time.js"
import { livenessOf, mayBeAlive } from "./holderLiveness.js"
import { stopProcessGroup } from "./processGroup.js"
import { thisProcess } from "./processRecord.js"

/** The nested stages a crash interrupted (their child runs may still be in progress): the child and the stage. */
const interruptedChildren = (manifest: CliManifest) =>
  manifest.commands.flatMap((c) =>
    c.status === "running" && c.kind === "subpipeline" && c.sub_run_id !== null ? [{ runId: c.sub_run_id, stageId: c.id }] : []
  )

/**
 * Where a child run being settled was reached from: the run resumed and its recorded owner (the crashed
 * orchestrator, which ran the child too), and the run and stage whose child it is.
 */
export interface ChildOrigin {
  readonly resumedRunId: string
  readonly crashed: RunOwner | undefined
  readonly parentRunId: string
  readonly stageId: string
}

/** The groups `owner` names: all the stages then running; records of earlier versions name one. */
const recordedGroups = (owner: RunOwner) => new Set([...(owner.stage_pids ?? []), ...(owner.stage_pid === undefined ? [] : [owner.stage_pid])])

/** Stopping the stage process groups a crashed orchestrator left running (the takeover's). */
const orphanStopping = (host: Host["Type"]) => {
  /**
   * SIGTERM, up to 5 s to exit, then SIGKILL (the group's shell may be gone while its children live).
   * Only a group shown to be this run's stage: `stage_pid` is whatever `.owner.json` says, and a pid
   * is reused once its process is gone; 1 or less would signal every process we may (`kill(-1)`).
   */
  const stopOrphan = (pgid: number, runId: string) =>
    Effect.gen(function*() {
      if (!(yield* host.isGroupAlive(pgid))) return
      const ownGroup = yield* host.ownGroup
      if (pgid <= 1 || pgid === host.pid || pgid === ownGroup || !(yield* host.groupBelongsToRun(pgid, runId))) {
        yield* Effect.logWarning(
          `Not stopping process group ${pgid}, recorded as the crashed stage's: it cannot be shown to belong to run ${runId} (its pid may have been reused)`
        )
        return
      }
      yield* Effect.logWarning(`Stopping process group ${pgid}, left running by the crashed orchestrator`)
      yield* stopProcessGroup(host, pgid)
    })

  /**
   * The stage process groups a crashed orchestrator may have left running in `manifest`'s run: all of
   * them (a graph runs stages side by side), side by side, each proven to be the run's first.
   */
  const stopRunOrphan = (manifest: CliManifest, owner: RunOwner | undefined) => {
    // Only command stages': while a nested stage runs, stage_pid is an earlier stage's, long gone
    // (and its pid possibly reused by an unrelated process).
    if (!manifest.commands.some((c) => c.status === "running" && c.kind === "command")) return Effect.void
    if (owner === undefined || owner.host !== host.hostname) return Effect.void
    return Effect.forEach(recordedGroups(owner), (pgid) => stopOrphan(pgid, manifest.run_id), { concurrency: "unbounded", discard: true })
  }

  return stopRunOrphan
}

/**
 * D-7 for a child run, under its own takeover claim: one another live process runs (a fresh
 * heartbeat and an owner alive that is not the crashed orchestrator: resumed on its own since the
 * check before the takeover, or deeper down) is refused, and so is one another process is claiming.
 * Owner first, then the manifest, as for the run itself.
 */
const childClaiming = (store: RunStore["Type"], host: Host["Type"], ownerAlive: (owner: RunOwner) => Effect.Effect<boolean>) =>
  (layout: RunLayout, origin: ChildOrigin) =>
  Effect.gen(function*() {
    const owner = yield* store.readOwner(layout)
    const child = yield* store.read(layout)
    // A finished child, or a run that is no child of this parent, is left as it is (settleChild).
    if (isTerminal(child.status) || child.parent_run_id !== origin.parentRunId) return { child, owner }
    const now = yield* Clock.currentTimeMillis
    const crashedOrchestrator = owner?.pid === origin.crashed?.pid && owner?.host === origin.crashed?.host
    if (owner !== undefined && !crashedOrchestrator && hasFreshHeartbeat(child, now) && (yield* ownerAlive(owner))) {
      return yield* new RunStillActive({
        runId: child.run_id,
        pid: owner.pid,
        host: owner.host,
        heartbeatAgeSeconds: Math.round(heartbeatAgeMs(child, now) / 1000),
        childOf: {
          runId: origin.resumedRunId,
          stageId: origin.stageId,
          ...(origin.parentRunId === origin.resumedRunId ? {} : { parentRunId: origin.parentRunId })
        }
      })
    }
    const claimant = { ...(yield* thisProcess(host)), since: iso(now) }
    if (!(yield* store.claimTakeover(layout, owner, claimant, ownerAlive))) return yield* new ResumeInProgress({ runId: child.run_id, taskId: layout.taskId })
    return { child, owner }
  })


/**
 * The takeover, and how it settles a crashed run's child run (`settleChild`), which resume also uses
 * for a child the crashed parent had not recorded yet (internal/unrecordedChildren.ts).
 */
export const makeTakeover = (store: RunStore["Type"], host: Host["Type"]) => {
  /**
   * Whether `owner` (a run's writer or a takeover's claimant) may still be running: one on another
   * machine cannot be checked; one here is alive while its pid is, with the start time it recorded
   * (a pid reused by a later process has another; a record without one is judged by its pid alone).
   */
  const ownerAlive = (owner: RunOwner) => Effect.map(livenessOf(host, owner), mayBeAlive)

  const stopRunOrphan = orphanStopping(host)
  const claimChild = childClaiming(store, host, ownerAlive)

  /**
   * A child run the crash left in progress (issue 16 item 8): claimed (claimChild), its orphaned stage
   * group stopped (its own children first), then recorded `cancelled`; the parent's nested stage runs
   * again in a new child run (RUN-9). A child that cannot be read is reported and left as it is.
   */
  const settleChild = (layoutOf: (runId: string) => RunLayout) =>
  (origin: ChildOrigin) =>
  (runId: string): Effect.Effect<void, RunStillActive | ResumeInProgress> =>
    Effect.gen(function*() {
      const layout = layoutOf(runId)
      const { child, owner } = yield* claimChild(layout, origin)
      if (isTerminal(child.status)) return
      // Only a run that names its parent is its child: an edited manifest must not have resume stop
      // another run of the task (resumeChecks refuses that at the top level; this is every level below).
      if (child.parent_run_id !== origin.parentRunId) {
        return yield* Effect.logWarning(
          `Run ${runId}, a child of ${origin.parentRunId} by its record, has parent_run_id ${JSON.stringify(child.parent_run_id)}: left as it is`
        )
      }
      yield* stopRunOrphan(child, owner)
      yield* Effect.forEach(interruptedChildren(child), (next) =>
        settleChild(layoutOf)({ ...origin, parentRunId: runId, stageId: next.stageId })(next.runId), { discard: true })
      const files = yield* store.open(layout)
      const now = iso(yield* Clock.currentTimeMillis)
      yield* files.update((m) => cancelledManifest(m, now), { force: true })
      yield* Effect.logWarning(`Child run ${runId} was left in progress by the crashed orchestrator: recorded cancelled; its nested stage runs again`)
    }).pipe(Effect.catchTags({
      RunNotFound: (error) => Effect.logWarning(`Child run ${runId} left as it is: ${error.message}`),
      InvalidFile: (error) => Effect.logWarning(`Child run ${runId} left as it is: ${error.message}`),
      FileAccessError: (error) => Effect.logWarning(`Child run ${runId} left as it is: ${error.message}`)
    }))

  /** Takes the run at `layout` over; `layoutOf` gives the folder of another run of its task (a child run). */
  const takeOver = (layout: RunLayout, layoutOf: (runId: string) => RunLayout) =>
    Effect.gen(function*() {
      // Owner first, then the manifest: a winner refreshes the heartbeat before it records itself as
      // owner, so whoever sees the new owner also sees a fresh heartbeat and is refused.
      const owner = yield* store.readOwner(layout)
      const manifest = yield* store.read(layout)
      const now = yield* Clock.currentTimeMillis
      // A finished run is refused too while its orchestrator is alive with a fresh heartbeat: it is
      // still stopping a cancelled stage (up to the SIGKILL grace), and its stage must not run twice.
      // This process's own finished run (the library resuming what it ran) is its to resume.
      const fresh = hasFreshHeartbeat(manifest, now)
      const ownFinishedRun = isTerminal(manifest.status) && owner?.pid === host.pid && owner.host === host.hostname
      if (fresh && owner !== undefined && !ownFinishedRun) {
        // Another machine's process cannot be checked: a fresh heartbeat is the only evidence.
        if (yield* ownerAlive(owner)) {
          return yield* new RunStillActive({
            runId: manifest.run_id,
            pid: owner.pid,
            host: owner.host,
            heartbeatAgeSeconds: Math.round(heartbeatAgeMs(manifest, now) / 1000)
          })
        }
      }
      // The claimant is this process, as it will record itself as owner; a claimant on another
      // machine cannot be checked, so its claim is held until it expires.
      const claimant = { ...(yield* thisProcess(host)), since: iso(now) }
      if (!(yield* store.claimTakeover(layout, owner, claimant, ownerAlive))) {
        return yield* new ResumeInProgress({ runId: manifest.run_id, taskId: layout.taskId })
      }
      // A crash in the middle of a stage leaves that stage's process group running: stop it before
      // the stage runs again. Only then: a finished stage's pid may since belong to someone else.
      yield* stopRunOrphan(manifest, owner)
      const origin = { resumedRunId: manifest.run_id, crashed: owner, parentRunId: manifest.run_id }
      yield* Effect.forEach(interruptedChildren(manifest), (child) => settleChild(layoutOf)({ ...origin, stageId: child.stageId })(child.runId), {
        discard: true
      })
    })
  return { takeOver, settleChild }
}
