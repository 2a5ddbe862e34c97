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

export interface PackedTarball {
  /** SHA-256 of the tarball's bytes, lowercase hex. */
  readonly digest: string
  readonly bytes: number
}

/**
 * The learning snapshot's tarball (SPEC LRN-2): packing the working tree and copying the result to
 * storage, the two steps that move file contents rather than records. A service of its own so the
 * learning rules run in tests without disk, and so that packing stays streamed in one place.
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
    /** Copies a file, creating the destination's folder; the copy appears atomically. */
    readonly copy: (from: string, to: string) => Effect.Effect<void, FileAccessError>
  }
>() {}
