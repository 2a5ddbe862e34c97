import { Path } from "@effect/platform"
import { Effect, Layer, Schema } from "effect"
import { decodeJsonFile, InvalidFile } from "../domain/FileErrors.js"
import { emptySnapshot, recordRunIn, runRecordOf, TaskStateSnapshot } from "../domain/TaskState.js"
import { Files } from "../services/Files.js"
import { Host } from "../services/Host.js"
import { OrchestratorConfig } from "../services/OrchestratorConfig.js"
import { TaskStateLockBusy, TaskStateStore } from "../services/TaskStateStore.js"
import { taskLockPolicy, withFileLock } from "./internal/fileLock.js"
import { filesForPrivacy } from "./internal/runFiles.js"

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`

/** A legacy `state.json` counts only when it is a snapshot of this task (PER-3). */
const LegacySnapshot = Schema.Struct({ taskId: Schema.String, runs: Schema.Array(Schema.Unknown) })

/** The task-level records under the configured roots (D-5), on the Files service. */
export const TaskStateStoreLive = Layer.effect(
  TaskStateStore,
  Effect.gen(function*() {
    const path = yield* Path.Path
    const config = yield* OrchestratorConfig
    // D-13: in enforce mode nothing we write holds a secret, task-level records included.
    const files = filesForPrivacy(yield* Files, config.privacyMode)
    const host = yield* Host
    const { outRoot, runsRoot } = config.roots

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

    return TaskStateStore.of({
      read,
      recordRun: (summary) => {
        const lockPath = path.join(runsRoot, `${summary.taskId}.lock`)
        const update = Effect.gen(function*() {
          const next = recordRunIn(yield* read(summary.taskId), runRecordOf(summary))
          yield* files.makeDirectory(path.dirname(snapshotPath(summary.taskId)))
          // PER-3: runs.json has no trailing newline (the summary manifest below does, like our other files).
          yield* files.writeAtomic(snapshotPath(summary.taskId), JSON.stringify(next, null, 2))
          return next
        })
        return files.makeDirectory(runsRoot).pipe(
          Effect.zipRight(withFileLock(files, lockPath, taskLockPolicy, `${host.pid}@${host.hostname}`)(update)),
          Effect.catchTag("LockBusy", (busy) =>
            Effect.fail(new TaskStateLockBusy({ taskId: summary.taskId, attempts: busy.attempts, lockPath })))
        )
      },
      writeRunManifest: (summary) => {
        const dir = path.join(runsRoot, summary.taskId, summary.runId)
        return files.makeDirectory(dir).pipe(Effect.zipRight(files.writeAtomic(path.join(dir, "manifest.json"), json(summary))))
      }
    })
  })
)
