/**
 * Storing a successful stage (DECISIONS B-5): its stage log and outputs are copied into a fresh
 * folder under `tmp/`, its meta written last, and the folder renamed to `entries/<key>` in one step.
 * When another run got there first the rename fails and this copy is dropped: the entry there is
 * whole, and has the same key, so the same content.
 */
import { Clock, Effect, Schema } from "effect"
import { CacheEntryMeta, type EntryUsage, StageCacheRecord } from "../../domain/StageCache.js"
import { iso } from "../../domain/Time.js"
import type { Entropy } from "../../services/Entropy.js"
import type { CacheKey, StoreRequest } from "../../services/StageCache.js"
import { type CacheStorage, copyFile, entriesDir, entryDir, readEntry, stageRecordPath, stagingDir, usedText } from "./cacheEntries.js"
import { matchFiles } from "./cacheFiles.js"

const encodeMeta = Schema.encode(Schema.parseJson(CacheEntryMeta, { space: 2 }))
const encodeRecord = Schema.encode(Schema.parseJson(StageCacheRecord))

export const storeEntry = (storage: CacheStorage, entropy: Entropy["Type"], key: CacheKey, request: StoreRequest, stageId: string) =>
  Effect.gen(function*() {
    const { store, work } = storage
    const { probe } = key
    const staging = stagingDir(storage.dir, key.key, yield* Clock.currentTimeMillis, yield* entropy.hex(6))
    yield* store.makeDirectory(staging)
    const outcome = yield* Effect.gen(function*() {
      yield* copyFile(work, request.logPath, store, `${staging}/log.ndjson`)
      const outputs: Array<{ readonly path: string; readonly size: number }> = []
      for (const rel of yield* matchFiles(work, probe.cwd, probe.spec.outputs ?? [], storage.ownFolders)) {
        const info = yield* work.info(`${probe.cwd}/${rel}`)
        if (info?.type !== "file") continue
        yield* copyFile(work, `${probe.cwd}/${rel}`, store, `${staging}/outputs/${rel}`)
        outputs.push({ path: rel, size: info.size })
      }
      const logSize = (yield* store.info(`${staging}/log.ndjson`))?.size ?? 0
      const now = yield* Clock.currentTimeMillis
      const usage: EntryUsage = { key: key.key, size: outputs.reduce((sum, output) => sum + output.size, logSize), lastUsedMs: now }
      const meta = yield* encodeMeta({
        key: key.key,
        pipeline_id: probe.pipelineId,
        stage_id: probe.stageId,
        task_id: probe.taskId,
        from_run: request.runId,
        created_at: iso(now),
        attempt: request.attempt,
        parts: key.parts,
        outputs,
        size: usage.size
      }).pipe(Effect.orDie)
      yield* store.writeAtomic(`${staging}/used`, usedText(now, usage.size), { durable: false })
      yield* store.writeAtomic(`${staging}/meta.json`, meta)
      yield* store.makeDirectory(entriesDir(storage.dir))
      const target = entryDir(storage.dir, key.key)
      // Another run may have stored this key meanwhile: its entry is whole, so keep it.
      if ((yield* store.info(target)) !== undefined) return usage
      return yield* store.rename(staging, target).pipe(
        Effect.as(usage),
        Effect.catchTag("FileAccessError", (error) =>
          Effect.flatMap(Effect.either(readEntry(storage, key.key)), (existing) =>
            existing._tag === "Right" && existing.right !== undefined ? Effect.succeed(usage) : Effect.fail(error)))
      )
    }).pipe(Effect.ensuring(Effect.ignore(store.removeTree(staging))))
    yield* store.makeDirectory(`${storage.dir}/stages`)
    yield* store.writeAtomic(
      stageRecordPath(storage.dir, stageId),
      yield* encodeRecord({ pipeline_id: probe.pipelineId, stage_id: probe.stageId, key: key.key, parts: key.parts }).pipe(Effect.orDie),
      { durable: false }
    )
    return outcome
  })
