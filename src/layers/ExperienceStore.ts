import { Path } from "@effect/platform"
import { Clock, Effect, Either, Layer, Option, Ref, Schema, Stream } from "effect"
import type { FileAccessError } from "../domain/FileErrors.js"
import { Experience, insertTop, type TopQuery } from "../domain/Tfgrpo.js"
import { ExperienceLockBusy, ExperienceStore } from "../services/ExperienceStore.js"
import { Files } from "../services/Files.js"
import { Host } from "../services/Host.js"
import { OrchestratorConfig } from "../services/OrchestratorConfig.js"
import { removeAbandonedLock, taskLockPolicy, withFileLock } from "./internal/fileLock.js"
import { appendLines } from "./internal/lineAppend.js"
import { filesForPrivacy } from "./internal/runFiles.js"

const decodeLine = Schema.decodeUnknownEither(Schema.parseJson(Experience))
const encodeLine = (experience: Experience) => JSON.stringify(experience satisfies typeof Experience.Encoded)

/**
 * Lines to experiences. A line that does not decode (a torn write, another version's record) is
 * skipped with a warning naming where it is, rather than costing the run its prompt experiences.
 */
const decodeLines = (where: string) => <E>(lines: Stream.Stream<string, E>): Stream.Stream<Experience, E> =>
  lines.pipe(
    Stream.zipWithIndex,
    Stream.filter(([line]) => line.trim().length > 0),
    Stream.mapEffect(([line, index]) =>
      Either.match(decodeLine(line), {
        onLeft: () => Effect.as(Effect.logWarning(`${where}:${index + 1} is not an experience record; skipped.`), Option.none()),
        onRight: (experience) => Effect.succeed(Option.some(experience))
      })
    ),
    Stream.filterMap((experience) => experience)
  )

/** TFG-4 over a stream: keeps only the best `limit`, so the file is never held. */
const topOf = (experiences: Stream.Stream<Experience, FileAccessError>, query: TopQuery) =>
  query.limit <= 0
    ? Effect.succeed<ReadonlyArray<Experience>>([])
    : Stream.runFold(experiences, [] as ReadonlyArray<Experience>, (top, experience) => insertTop(top, experience, query))

/**
 * `<out>/<task>/experiences.jsonl` on the Files service, appended under `<runs>/<task>.experiences.lock`
 * (PER-4, with PER-3's defaults and the same lock as the task-state store). In enforce mode the
 * records are redacted like everything else we write (D-13).
 */
export const ExperienceStoreLive = Layer.effect(
  ExperienceStore,
  Effect.gen(function*() {
    const path = yield* Path.Path
    const config = yield* OrchestratorConfig
    const files = filesForPrivacy(yield* Files, config.privacyMode)
    const host = yield* Host
    const { outRoot, runsRoot } = config.roots
    const fileOf = (taskId: string) => path.join(outRoot, taskId, "experiences.jsonl")
    const read = (taskId: string) => decodeLines(fileOf(taskId))(files.readLines(fileOf(taskId)))

    return ExperienceStore.of({
      append: (taskId, experiences) => {
        if (experiences.length === 0) return Effect.void
        const file = fileOf(taskId)
        const lockPath = path.join(runsRoot, `${taskId}.experiences.lock`)
        const text = experiences.map((experience) => `${encodeLine(experience)}\n`).join("")
        return files.makeDirectory(runsRoot).pipe(
          Effect.zipRight(Effect.flatMap(Clock.currentTimeMillis, (now) => removeAbandonedLock(files, lockPath, now))),
          Effect.zipRight(
            withFileLock(files, lockPath, taskLockPolicy, `${host.pid}@${host.hostname}`)(
              files.makeDirectory(path.dirname(file)).pipe(Effect.zipRight(appendLines(files, file, text)))
            )
          ),
          Effect.catchTag("LockBusy", (busy) =>
            Effect.flatMap(Effect.orElseSucceed(files.readText(lockPath), () => undefined), (held) =>
              Effect.fail(
                new ExperienceLockBusy({
                  taskId,
                  attempts: busy.attempts,
                  lockPath,
                  ...(held === undefined || held.trim().length === 0 ? {} : { holder: held.trim() })
                })
              )))
        )
      },
      read,
      top: (query) => topOf(read(query.taskId), query)
    })
  })
)

/**
 * Same contract in memory, without a lock: each task's records are kept as the encoded lines the
 * file would hold, so the schema round-trip is exercised too. `initial` seeds lines by task id.
 */
export const ExperienceStoreMemory = (initial: Readonly<Record<string, ReadonlyArray<string>>> = {}) =>
  Layer.effect(
    ExperienceStore,
    Effect.map(Ref.make(new Map(Object.entries(initial))), (lines) => {
      const read = (taskId: string) =>
        Stream.unwrap(Effect.map(Ref.get(lines), (all) => decodeLines(`experiences of ${taskId}`)(Stream.fromIterable(all.get(taskId) ?? []))))
      return ExperienceStore.of({
        append: (taskId, experiences) =>
          Ref.update(lines, (all) => new Map(all).set(taskId, [...(all.get(taskId) ?? []), ...experiences.map(encodeLine)])),
        read,
        top: (query) => topOf(read(query.taskId), query)
      })
    })
  )
