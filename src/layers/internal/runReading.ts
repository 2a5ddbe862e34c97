/**
 * Reading a run's files without taking the run over: shared by the run store (resume reads the whole
 * manifest) and the run reader (status reads its part). Its own module so that `status` loads these
 * two functions without the rest of the run store.
 */
import { Effect, Option, Schema } from "effect"
import { decodeJsonFile, type FileAccessError, InvalidFile, systemReason } from "../../domain/FileErrors.js"
import { RunOwner } from "../../domain/ManifestStatus.js"
import { RunNotFound } from "../../domain/RunErrors.js"
import type { RunLayout } from "../../domain/RunLayout.js"
import type { Files } from "../../services/Files.js"

/** The file operations a run store works on: the Files service's contract. */
export type FileBackend = Files["Type"]

/** How long a run cannot be used, said after every fix below. */
const untilFixed = (layout: RunLayout) =>
  `until then run ${layout.runId} cannot be shown or resumed (the task's other runs are not affected).`

/** A manifest that is there but is no file we can read: bad run state, as a damaged one is (D-1: exit 2). */
const unreadable = (layout: RunLayout, problem: string, fix: string) =>
  new InvalidFile({ path: layout.relative(layout.manifest), issues: [`(root): ${problem}`], hint: `${fix}; ${untilFixed(layout)}` })

const folderManifest = (layout: RunLayout) =>
  unreadable(layout, "a folder, not a file", "Move that folder aside (if it holds the run's manifest.json, move that file in its place)")

/**
 * What the system said when the manifest could not be read, as the run's state when the user can fix it
 * there (a folder, a looping link, no permission); any other failure (EIO, too many open files) stays
 * an I/O error (exit 1) in the system's words.
 */
const readProblem = (layout: RunLayout, error: FileAccessError): InvalidFile | FileAccessError => {
  const code = /\b(EISDIR|ELOOP|EACCES|EPERM)\b/.exec(systemReason(error))?.[1]
  const shown = layout.relative(layout.manifest)
  switch (code) {
    case "EISDIR":
      return folderManifest(layout)
    case "ELOOP":
      return unreadable(layout, "a symbolic link that loops (ELOOP)", "Replace the link with the run's manifest, or remove it")
    case "EACCES":
    case "EPERM":
      return unreadable(
        layout,
        `cannot be read: permission denied (${code})`,
        `Give your user read access to it (chmod u+r ${shown}), or run as the user that started the run`
      )
    default:
      return error
  }
}

/**
 * Reads a run's manifest and decodes it with `schema` (the whole manifest, or the part status reads);
 * a missing file is RunNotFound (saying so when the run's folder is there), a damaged one InvalidFile,
 * as is one that is no regular file (a folder; a pipe, whose read would wait for a writer for ever) or
 * cannot be read for a reason the user can fix (readProblem).
 */
export const readManifestAs = <A, I>(
  backend: FileBackend,
  layout: RunLayout,
  schema: Schema.Schema<A, I>
): Effect.Effect<A, RunNotFound | InvalidFile | FileAccessError> =>
  Effect.gen(function*() {
    const found = yield* backend.info(layout.manifest)
    if (found?.type === "directory") return yield* folderManifest(layout)
    if (found?.type === "other") return yield* unreadable(layout, "not a regular file (a pipe, socket or device)", "Remove it")
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
  }).pipe(Effect.catchTag("FileAccessError", (error) => Effect.fail(readProblem(layout, error))))

/** An owner record (`.owner.json`, a takeover claim) from its JSON text; none when it does not decode. */
export const decodeOwner = Schema.decodeUnknownOption(Schema.parseJson(RunOwner))

/**
 * The run's recorded owner (D-7); undefined when missing or unreadable (an old or foreign run), and
 * when what is there is no regular file (no writer of ours made it; a pipe's read would wait for ever).
 */
export const readOwner = (backend: FileBackend, layout: RunLayout) =>
  Effect.gen(function*() {
    const found = yield* backend.info(layout.owner)
    if (found !== undefined && found.type !== "file") return undefined
    const text = yield* backend.readText(layout.owner)
    return text === undefined ? undefined : Option.getOrUndefined(decodeOwner(text))
  })
