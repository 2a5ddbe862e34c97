import { Path } from "@effect/platform"
import { Clock, Effect, Either, Layer, Schema } from "effect"
import { decodeJsonFile, InvalidFile } from "../domain/FileErrors.js"
import { pendingFileName } from "../domain/Metrics.js"
import type { RetryPolicy } from "../domain/Retry.js"
import { emptySnapshot, recordRunIn, runRecordOf, TaskRunRecord, TaskStateSnapshot } from "../domain/TaskState.js"
import { Files } from "../services/Files.js"
import { Host } from "../services/Host.js"
import { OrchestratorConfig } from "../services/OrchestratorConfig.js"
import { type RecordedRun, TaskStateStore } from "../services/TaskStateStore.js"
import { Entropy } from "../services/Entropy.js"
import { removeAbandonedLock, singleAttempt, taskLockPolicy, withFileLock } from "./internal/fileLock.js"
import { filesForPrivacy } from "./internal/runFiles.js"

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`

/** A legacy `state.json` counts only when it is a snapshot of this task (PER-3). */
const LegacySnapshot = Schema.Struct({ taskId: Schema.String, runs: Schema.Array(Schema.Unknown) })

const decodeQueued = Schema.decodeUnknownEither(Schema.parseJson(TaskRunRecord))

/** PER-3: the task's snapshot from runs.json, else a legacy state.json of this task, else empty. */
const makeSnapshotReader = (files: Files["Type"], path: Path.Path, outRoot: string) => {
  const snapshotPath = (taskId: string) => path.join(outRoot, taskId, "runs.json")
  const read = (taskId: string) =>
    Effect.gen(function*() {
      const file = snapshotPath(taskId)
      const text = yield* files.readText(file)
      if (text !== undefined) {
        const snapshot = yield* decodeJsonFile(TaskStateSnapshot, file, "Fix or delete the file; it is rebuilt from the next run.")(text)
        if (snapshot.taskId === taskId) return snapshot
        return yield* new InvalidFile({
          path: file,
          issues: [`taskId: is "${snapshot.taskId}", expected "${taskId}"`],
          hint: "The snapshot belongs to another task: move it back, or delete it."
        })
      }
      // PER-3: an older layout kept the snapshot in state.json; use it when it is one.
      const legacyPath = path.join(outRoot, taskId, "state.json")
      const legacy = yield* files.readText(legacyPath)
      if (legacy === undefined) return emptySnapshot(taskId)
      const decoded = yield* Effect.either(decodeJsonFile(LegacySnapshot, legacyPath)(legacy))
      if (decoded._tag === "Left" || decoded.right.taskId !== taskId) return emptySnapshot(taskId)
      return yield* decodeJsonFile(TaskStateSnapshot, legacyPath)(legacy).pipe(
        Effect.orElseSucceed(() => emptySnapshot(taskId))
      )
    })
  return { read, snapshotPath }
}

/** The task-level records under the configured roots (D-5), on the Files service. */
export const TaskStateStoreLive = Layer.effect(
  TaskStateStore,
  Effect.gen(function*() {
    const entropy = yield* Entropy
    const path = yield* Path.Path
    const config = yield* OrchestratorConfig
    // D-13: in enforce mode nothing we write holds a secret, task-level records included.
    const files = filesForPrivacy(yield* Files, config.privacyMode)
    const host = yield* Host
    const { outRoot, runsRoot } = config.roots

    const { read, snapshotPath } = makeSnapshotReader(files, path, outRoot)
    const lockPath = (taskId: string) => path.join(runsRoot, `${taskId}.lock`)
    const pendingDir = (taskId: string) => path.join(runsRoot, taskId, "runs.pending")

    /** The queued files of the task (temp files of a write in progress start with a dot). */
    const queuedFiles = (taskId: string) =>
      Effect.map(files.list(pendingDir(taskId)), (names) =>
        names.filter((name) => name.endsWith(".jsonl") && !name.startsWith(".")).map((name) => path.join(pendingDir(taskId), name)))

    /**
     * Under the lock: runs.json with the queued records and `own` added, then the queued files
     * removed (only once their records are written). A queued file that does not decode is dropped
     * with a warning: it can never be merged.
     */
    const mergeLocked = (taskId: string, own: TaskRunRecord | undefined) =>
      Effect.gen(function*() {
        const queued = yield* queuedFiles(taskId)
        let snapshot = yield* read(taskId)
        for (const file of queued) {
          const decoded = decodeQueued((yield* files.readText(file)) ?? "")
          if (Either.isRight(decoded)) snapshot = recordRunIn(snapshot, decoded.right)
          else yield* Effect.logWarning(`Dropping ${file}: not a queued run record.`)
        }
        if (own !== undefined) snapshot = recordRunIn(snapshot, own)
        yield* files.makeDirectory(path.dirname(snapshotPath(taskId)))
        // PER-3: runs.json has no trailing newline (the summary manifest below does, like our other files).
        yield* files.writeAtomic(snapshotPath(taskId), JSON.stringify(snapshot, null, 2))
        yield* Effect.forEach(queued, (file) => files.remove(file), { discard: true })
        return snapshot
      })

    const locked = <A, E>(taskId: string, policy: RetryPolicy, body: Effect.Effect<A, E>) =>
      withFileLock(files, lockPath(taskId), policy, `${host.pid}@${host.hostname}`)(body)

    /**
     * After releasing the lock (or queuing), merges what was queued meanwhile, one attempt at a time:
     * a run that finds the lock busy queues, then looks again; a holder looks again once it released
     * the lock. So whoever releases last leaves nothing queued; a busy lock means its holder will look.
     */
    const mergeQueued = (taskId: string) =>
      Effect.gen(function*() {
        while ((yield* queuedFiles(taskId)).length > 0) {
          const done = yield* Effect.either(locked(taskId, singleAttempt, mergeLocked(taskId, undefined)))
          if (Either.isLeft(done)) {
            if (done.left._tag === "LockBusy") return
            return yield* done.left
          }
        }
      })

    const queue = (taskId: string, record: TaskRunRecord) =>
      Effect.gen(function*() {
        const nowMs = yield* Clock.currentTimeMillis
        yield* files.makeDirectory(pendingDir(taskId))
        const pendingPath = path.join(pendingDir(taskId), pendingFileName(record.runId, nowMs, yield* entropy.uuid))
        yield* files.writeAtomic(pendingPath, `${JSON.stringify(record)}\n`)
        return pendingPath
      })

    return TaskStateStore.of({
      read,
      recordRun: (summary) =>
        Effect.gen(function*() {
          const taskId = summary.taskId
          const record = runRecordOf(summary)
          yield* files.makeDirectory(runsRoot)
          if (yield* removeAbandonedLock(files, lockPath(taskId), yield* Clock.currentTimeMillis)) {
            yield* Effect.logWarning(`Removed ${lockPath(taskId)}: older than 5 minutes, left by a process that stopped.`)
          }
          const recorded = yield* Effect.either(locked(taskId, taskLockPolicy, mergeLocked(taskId, record)))
          if (Either.isRight(recorded)) {
            yield* mergeQueued(taskId)
            return { _tag: "Recorded", snapshot: recorded.right } satisfies RecordedRun
          }
          if (recorded.left._tag !== "LockBusy") return yield* recorded.left
          const pendingPath = yield* queue(taskId, record)
          yield* mergeQueued(taskId)
          // Merged by this run's last look or by another holder meanwhile: the file is gone.
          if ((yield* files.modifiedAt(pendingPath)) === undefined) {
            return { _tag: "Recorded", snapshot: yield* read(taskId) } satisfies RecordedRun
          }
          return { _tag: "Queued", pendingPath, lockPath: lockPath(taskId), attempts: recorded.left.attempts } satisfies RecordedRun
        }),
      writeRunManifest: (summary) => {
        const dir = path.join(runsRoot, summary.taskId, summary.runId)
        return files.makeDirectory(dir).pipe(Effect.zipRight(files.writeAtomic(path.join(dir, "manifest.json"), json(summary))))
      }
    })
  })
)
