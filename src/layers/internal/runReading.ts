/**
 * Reading a run's files without taking the run over: shared by the run store (resume reads the whole
 * manifest) and the run reader (status reads its part). Its own module so that `status` loads these
 * two functions without the rest of the run store.
 */
import { Effect, Option, Schema } from "effect"
import { decodeJsonFile, type FileAccessError, type InvalidFile } from "../../domain/FileErrors.js"
import { RunOwner } from "../../domain/ManifestStatus.js"
import { RunNotFound } from "../../domain/RunErrors.js"
import type { RunLayout } from "../../domain/RunLayout.js"
import type { Files } from "../../services/Files.js"

/** The file operations a run store works on: the Files service's contract. */
export type FileBackend = Files["Type"]

/**
 * Reads a run's manifest and decodes it with `schema` (the whole manifest, or the part status reads);
 * a missing file is RunNotFound (saying so when the run's folder is there), a damaged one InvalidFile.
 */
export const readManifestAs = <A, I>(
  backend: FileBackend,
  layout: RunLayout,
  schema: Schema.Schema<A, I>
): Effect.Effect<A, RunNotFound | InvalidFile | FileAccessError> =>
  Effect.gen(function*() {
    const text = yield* backend.readText(layout.manifest)
    if (text === undefined) {
      const folder = yield* backend.info(layout.runDir)
      return yield* new RunNotFound({
        runId: layout.runId,
        taskId: layout.taskId,
        runsDir: layout.relative(layout.cliDir),
        ...(folder?.type === "directory" ? { folderOnly: true } : {})
      })
    }
    return yield* decodeJsonFile(schema, layout.relative(layout.manifest))(text)
  })

/** An owner record (`.owner.json`, a takeover claim) from its JSON text; none when it does not decode. */
export const decodeOwner = Schema.decodeUnknownOption(Schema.parseJson(RunOwner))

/** The run's recorded owner (D-7); undefined when missing or unreadable (an old or foreign run). */
export const readOwner = (backend: FileBackend, layout: RunLayout) =>
  Effect.map(backend.readText(layout.owner), (text) => text === undefined ? undefined : Option.getOrUndefined(decodeOwner(text)))
