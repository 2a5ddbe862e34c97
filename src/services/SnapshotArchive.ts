import { Context, type Effect, Schema } from "effect"
import type { FileAccessError } from "../domain/FileErrors.js"

/** The tarball could not be produced (a file vanished or changed while it was packed, a read failed). */
export class TarballError extends Schema.TaggedError<TarballError>()("TarballError", {
  path: Schema.String,
  cause: Schema.Defect
}) {
  override get message() {
    const reason = this.cause instanceof Error ? this.cause.message : String(this.cause)
    return `Could not pack ${this.path}: ${reason}`
  }
}

/** The diff could not be produced: git did not start, or it failed (a bad commit, a broken index). */
export class DiffError extends Schema.TaggedError<DiffError>()("DiffError", {
  path: Schema.String,
  reason: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message() {
    return `Could not write the diff ${this.path}: ${this.reason}`
  }
}

export interface PackedTarball {
  /** SHA-256 of the tarball's bytes, lowercase hex. */
  readonly digest: string
  readonly bytes: number
}

/**
 * The learning snapshot's files (SPEC LRN-2): packing the working tree, writing its diff and copying
 * the tarball to storage, the steps that move file contents rather than records. A service of its
 * own so the learning rules run in tests without disk, and so that these stay streamed in one place.
 */
export class SnapshotArchive extends Context.Tag("orchestrator/SnapshotArchive")<
  SnapshotArchive,
  {
    /**
     * Packs `files` (paths relative to `cwd`; a listed folder is not walked into) into a gzipped
     * tarball at `destination`, streamed: memory stays flat whatever the files weigh. The tarball
     * appears atomically, its folder created if needed.
     */
    readonly pack: (input: {
      readonly cwd: string
      readonly files: ReadonlyArray<string>
      readonly destination: string
    }) => Effect.Effect<PackedTarball, TarballError | FileAccessError>
    /**
     * Writes the tracked changes of the work tree in `cwd` against `commit` to `destination`, as
     * `git diff --binary` prints them (see `snapshotDiffCommand`), without the `exclude` folders
     * (relative to `cwd`). Streamed from git to the file; an empty diff is an empty file. The file
     * appears atomically, its folder created if needed.
     */
    readonly diff: (input: {
      readonly cwd: string
      readonly commit: string
      readonly exclude: ReadonlyArray<string>
      readonly destination: string
    }) => Effect.Effect<void, DiffError | FileAccessError>
    /** Copies a file, creating the destination's folder; the copy appears atomically. */
    readonly copy: (from: string, to: string) => Effect.Effect<void, FileAccessError>
  }
>() {}
